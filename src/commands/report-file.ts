import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/types.ts';
import { redact } from '../util/secrets.ts';

/**
 * What one run of a command is about (config, server, programs), as a short hash: report files and
 * artifacts carry it, so two steps of one job (a staging and a production dry run, a matrix over
 * programs) never overwrite each other's.
 */
export function runScope(settings: Settings): string {
  return createHash('sha256')
    .update([settings.config.path, settings.server.url, ...settings.programs.map((p) => p.id)].join('\n'))
    .digest('hex')
    .slice(0, 10);
}

/** Writes a command's full JSON report (redacted) into the report folder and returns its path. */
export function writeReport(settings: Settings, command: string, report: unknown): string {
  mkdirSync(settings.reportDir, { recursive: true });
  const path = join(settings.reportDir, `${command}-report-${runScope(settings)}.json`);
  writeFileSync(path, `${redact(JSON.stringify(report, null, 2))}\n`);
  return path;
}

/** The program ids of a run over a subset of the config's programs (the `programs` input), else undefined. */
export function programScope(settings: Settings): string[] | undefined {
  return settings.programs.length < settings.config.programs.length ? settings.programs.map((p) => p.id) : undefined;
}
