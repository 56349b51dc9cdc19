import { createHash } from 'node:crypto';
import { relative, resolve } from 'node:path';
import type { Settings } from '../config/types.ts';
import { ensurePrivateDir, writeTextInside } from '../util/paths.ts';
import { redact, redactValue } from '../util/secrets.ts';

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
 * it. `path` is relative to the folder (or absolute inside it); returns the path written. The text is
 * redacted: these files are uploaded as artifacts, which anyone who can read the repository can download
 * (a rollback point holds the server's names and descriptions, where a secret would be JSON-escaped).
 */
export function writeRunFile(settings: Settings, path: string, text: string, what: string): string {
  ensurePrivateDir(settings.reportDir);
  const rel = relative(settings.reportDir, resolve(settings.reportDir, path));
  return writeTextInside({ root: settings.reportDir, name: 'the report folder' }, rel, redact(text), what, 0o600);
}

/**
 * Writes a command's full JSON report into the report folder and returns its path. Every string of the report
 * is redacted before JSON.stringify escapes it (a secret with `"` or `\` would no longer be found as typed),
 * and the JSON text again (writeRunFile) for what reached the report encoded already.
 */
export function writeReport(settings: Settings, command: string, report: unknown): string {
  return writeRunFile(
    settings,
    `${command}-report-${runScope(settings)}.json`,
    `${JSON.stringify(redactValue(report), null, 2)}\n`,
    'report',
  );
}

/** The program ids of a run over a subset of the config's programs (the `programs` input), else undefined. */
export function programScope(settings: Settings): string[] | undefined {
  return settings.programs.length < settings.config.programs.length ? settings.programs.map((p) => p.id) : undefined;
}
