/**
 * `download-backup`: the Program Config App's "Download" of a backup (RestoreItem.jsx writes
 * `JSON.stringify(backup.metadata)` to `<backup name>.json`), as a canonical metadata file in the
 * workspace, importable as it is (the same canonical JSON as `export`). The file is named
 * `<programId>-<backup id>.json`: names may repeat and hold characters a path should not.
 *
 * `backup-id` (a record's id or its name) is looked up in every selected program; a program that does not
 * have it is skipped, and the step fails only when none has it (the message lists what there is).
 */
import { join, relative } from 'node:path';
import { nameInBackups, programNames } from '../backups/programs.ts';
import { BACKUPS_NAMESPACE, summarizeBackup, type BackupSummary } from '../backups/records.ts';
import { backupMetadata, BackupNotFoundError, readBackups } from '../backups/store.ts';
import type { Settings } from '../config/types.ts';
import { ConfigError, isUserError, UserError } from '../errors.ts';
import { blocks, formatBytes, md, programLabel, table } from '../github/markdown.ts';
import { toFileShape } from '../metadata/assemble.ts';
import { canonicalJson } from '../metadata/canonical.ts';
import { objectCounts } from '../metadata/types.ts';
import { workspaceBoundary, writeTextInside } from '../util/paths.ts';
import { refuseSecret } from '../util/secrets.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from '../steps/connect.ts';
import { writeReport } from '../report/report-file.ts';

export interface ProgramDownload {
  id: string;
  name?: string;
  backup?: BackupSummary;
  file?: string;
  bytes?: number;
  objects?: Record<string, number>;
  /** Why this program has nothing to download (not an error unless no program has the backup). */
  missing?: string;
  error?: string;
}

export interface DownloadReport {
  command: 'download-backup';
  server: { url: string; version: string };
  namespace: string;
  backupId: string;
  programs: ProgramDownload[];
  files: string[];
}

/** Keeps a file name to letters, digits, `.`, `_` and `-` (record ids are numbers; a hand-made one may not be). */
function safePart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || '_';
}

function summaryMarkdown(report: DownloadReport): string {
  const lines = [
    md`### DHIS2 in-server backup "${report.backupId}" downloaded from ${report.server.url} (DHIS2 ${report.server.version})`
      .text,
    '',
  ];
  const written = report.programs.filter((p) => p.file);
  if (written.length > 0) {
    lines.push(
      table(
        ['program', 'backup name', 'id', 'version', 'date', 'file', 'objects', 'size'],
        written.map((p) => [
          programLabel(p.id, p.name),
          p.backup?.name ?? '',
          p.backup?.id ?? '',
          p.backup?.version ?? '',
          p.backup?.date ?? '',
          p.file,
          Object.values(p.objects ?? {}).reduce((s, n) => s + n, 0),
          p.bytes !== undefined ? formatBytes(p.bytes) : '',
        ]),
        ['left', 'left', 'left', 'left', 'left', 'left', 'right', 'right'],
      ),
      '',
    );
  }
  for (const p of report.programs) if (p.error) lines.push(md`**${p.id}** failed: ${p.error}`.text);
  // Parts apart by a blank line each (blocks()): a failure line never continues the table.
  return `${blocks(...lines)}\n`;
}

export async function runDownloadBackup(settings: Settings, reporter: Reporter): Promise<boolean> {
  const backupId = settings.backup.id;
  if (backupId === undefined) {
    throw new ConfigError(
      'input backup-id is required for download-backup: the id or name of a backup (list-backups shows them)',
    );
  }
  const client = await connect(settings, reporter);
  const names = await programNames(
    client,
    settings.programs.map((p) => p.id),
  );

  const results: ProgramDownload[] = [];
  for (const entry of settings.programs) {
    let name = names.get(entry.id);
    try {
      const { backups } = await readBackups(client.dataStore, entry.id);
      let found;
      try {
        found = backupMetadata(backups, entry.id, backupId);
      } catch (e) {
        // Not having this backup is normal for all but one of several programs; decided after the loop.
        if (e instanceof BackupNotFoundError && e.reason === 'missing') {
          results.push({ id: entry.id, name, missing: e.message });
          continue;
        }
        throw e;
      }
      const { record, doc } = found;
      name ??= nameInBackups([record], entry.id);
      const path = join(settings.outputDir, `${safePart(entry.id)}-${safePart(String(record.id))}.json`);
      const rel = relative(settings.workspace, path);
      // The file shape export writes: embedded lists once (the app's record also lists them at the top).
      const text = canonicalJson(toFileShape(doc));
      refuseSecret(text, `backup ${String(record.id)}`);
      // Real paths checked for the write itself: a link in output-dir never leads out of the workspace.
      writeTextInside(workspaceBoundary(settings.workspace), rel, text, 'output file');
      const result: ProgramDownload = {
        id: entry.id,
        name,
        backup: summarizeBackup(record),
        file: rel,
        bytes: Buffer.byteLength(text),
        objects: objectCounts(doc),
      };
      reporter.info(
        `${name ?? entry.id} (${entry.id}): backup "${record.name}" (id ${record.id}, ${record.backup_date}) written to ${rel}`,
      );
      results.push(result);
    } catch (e) {
      if (!isUserError(e)) throw e;
      reporter.error(`program ${entry.id}: ${e.message}`);
      results.push({ id: entry.id, name, error: e.message });
    }
  }

  const written = results.filter((r) => r.file);
  const report: DownloadReport = {
    command: 'download-backup',
    server: { url: client.url, version: client.system.version },
    namespace: BACKUPS_NAMESPACE,
    backupId,
    programs: results,
    files: written.map((r) => r.file as string),
  };
  const reportPath = writeReport(settings, 'download-backup', report);
  reporter.setOutput('files', JSON.stringify(report.files));
  reporter.setOutput('report', reportPath);

  const failed = results.some((r) => r.error);
  if (!failed && written.length === 0) {
    // Say what each program has, so the user can pick the right id.
    const missing = results.map((r) => r.missing).filter(Boolean);
    const error = new UserError(
      missing.length === 1
        ? (missing[0] as string)
        : `no selected program has backup "${backupId}": ${missing.join('; ')}`,
    );
    await reporter.summary(summaryMarkdown(report));
    throw error;
  }
  await reporter.summary(summaryMarkdown(report));
  return !failed;
}
