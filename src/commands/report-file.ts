import { createHash } from 'node:crypto';
import { relative, resolve } from 'node:path';
import type { Settings } from '../config/types.ts';
import { ensurePrivateDir, writeTextInside } from '../util/paths.ts';
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

/**
 * Writes a file of the run (a report, a rollback point) into the report folder: a folder only this user can
 * read (0700), files 0600 (rollback points hold sharing: user and group ids), never through a link out of
 * it. `path` is relative to the folder (or absolute inside it); returns the path written.
 */
export function writeRunFile(settings: Settings, path: string, text: string, what: string): string {
  ensurePrivateDir(settings.reportDir);
  const rel = relative(settings.reportDir, resolve(settings.reportDir, path));
  return writeTextInside({ root: settings.reportDir, name: 'the report folder' }, rel, text, what, 0o600);
}

/** Writes a command's full JSON report (redacted) into the report folder and returns its path. */
export function writeReport(settings: Settings, command: string, report: unknown): string {
  return writeRunFile(
    settings,
    `${command}-report-${runScope(settings)}.json`,
    `${redact(JSON.stringify(report, null, 2))}\n`,
    'report',
  );
}

/** The program ids of a run over a subset of the config's programs (the `programs` input), else undefined. */
export function programScope(settings: Settings): string[] | undefined {
  return settings.programs.length < settings.config.programs.length ? settings.programs.map((p) => p.id) : undefined;
}
