/**
 * Rollback points of `restore`: where each run keeps them and how to put one back. Every run writes into its
 * own folder, `<report folder>/rollback/<UTC time>-<run scope>/<program uid>.json`, so a later restore never
 * overwrites an earlier one, and the programs of one run stay together. Any of these files is accepted by the
 * `file` input (`--file`) of restore and dry-run (src/config/inputs.ts), one program at a time.
 */
import { basename, join } from 'node:path';
import { rollbackRoot } from '../config/inputs.ts';
import type { Settings } from '../config/types.ts';
import { blocks, code, md } from '../github/markdown.ts';
import { runScope } from './report-file.ts';

const DEFAULT_CONFIG = 'dhis2-metadata.yml';
const folders = new WeakMap<Settings, string>();

/** `2026-12-01T19-05-15-123Z`: sortable, and no character a file system or a shell minds. */
export function runStamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** This run's rollback folder: the same for every program of the run, a new one for every run. */
export function rollbackDir(settings: Settings, now: () => Date = () => new Date()): string {
  let dir = folders.get(settings);
  if (!dir) {
    dir = join(rollbackRoot(settings.reportDir), `${runStamp(now())}-${runScope(settings)}`);
    folders.set(settings, dir);
  }
  return dir;
}

/** The program uid a rollback point is for (its file name). */
export const rollbackProgram = (file: string): string => basename(file, '.json');

/** One shell word: as it is when plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_/.:=@%+,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that restores one rollback point, run from the workspace with the credentials in DHIS2_* (or
 * with --username/--password/--token). `file` may be a placeholder for where the user put a downloaded one.
 */
export function restoreCommand(settings: Settings, programId: string, file: string): string {
  const args = ['dhis2-metadata', 'restore'];
  if (settings.config.path !== DEFAULT_CONFIG) args.push('--config', shellWord(settings.config.path));
  if (settings.server.url) args.push('--server-url', shellWord(settings.server.url));
  args.push('--programs', shellWord(programId), '--file', shellWord(file));
  // A name with a control character or a backtick would not be one line of a code block: name it instead.
  // eslint-disable-next-line no-control-regex
  return args.join(' ').replace(/[\u0000-\u001f\u007f`]/g, '?');
}

/**
 * The summary's "Rollback point" section: each file, and the exact command that restores it. In a runner the
 * files live in the job's temp folder and are gone after the job: the artifact is where they stay.
 */
export function rollbackMarkdown(settings: Settings, rollback: { files: string[]; artifacts: string[] }): string {
  if (rollback.files.length === 0) return '';
  const points = rollback.files.map((file) => {
    const id = rollbackProgram(file);
    const artifact = rollback.artifacts.find((a) => a.includes(`-${id}-`));
    return { id, file, artifact };
  });
  const items = points.map(({ id, file, artifact }) =>
    artifact
      ? md`- ${code(id)}: ${code(file)}, uploaded as the artifact ${code(artifact)}`
      : md`- ${code(id)}: ${code(file)}`,
  );
  const inRunner = points.some((p) => p.artifact);
  const commands = points.map(({ id, file, artifact }) =>
    restoreCommand(settings, id, artifact ? `path/to/${basename(file)}` : file),
  );
  return blocks(
    '#### Rollback point',
    `The server's state before this restore was saved (current-server preset), one file per program:`,
    items.map((i) => i.text).join('\n'),
    inRunner
      ? 'To go back, download the artifact (for example `gh run download <run id> -n <artifact>`) and run from the workspace, with the credentials in `DHIS2_USERNAME`/`DHIS2_PASSWORD` or `DHIS2_TOKEN`:'
      : 'To go back, run from the workspace, with the credentials in `DHIS2_USERNAME`/`DHIS2_PASSWORD` or `DHIS2_TOKEN`:',
    ['```sh', ...commands, '```'].join('\n'),
    inRunner
      ? "or commit the file to the workspace and run the action with `command: restore`, `programs:` the uid and `file:` its path; or put it at the program's `file` path on a branch and open a pull request (the dry run shows what it would change)."
      : "Or put the file at the program's `file` path on a branch and open a pull request: the dry run shows what it would change.",
  );
}
