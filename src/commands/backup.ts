/**
 * `backup`: the Program Config App's "Backup" for each program of the config, as a step. The record is the
 * one the app builds (src/backups/records.ts), appended to the same dataStore key the app reads
 * (programconfigapp_backups/<programId>), so it shows up in the app's Restore list; unlike the app, it
 * never drops a backup someone saved meanwhile (src/backups/store.ts).
 */
import { backupCount } from '../backups/programs.ts';
import {
  BACKUPS_NAMESPACE,
  buildBackupRecord,
  sizeWarning,
  summarizeBackup,
  validateBackupName,
  type BackupSummary,
} from '../backups/records.ts';
import { readBackups, saveBackup } from '../backups/store.ts';
import type { ProgramEntry, Settings } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { blocks, formatBytes, md, programLabel, table } from '../github/markdown.ts';
import { collection, objectCounts } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from '../steps/connect.ts';
import { eachProgram } from '../steps/each-program.ts';
import { writeReport } from '../report/report-file.ts';

/** Programs backed up at once: each is one export plus a few dataStore requests on its own key. */
export const BACKUP_CONCURRENCY = 4;

export interface ProgramBackup {
  id: string;
  name?: string;
  backup?: BackupSummary;
  objects?: Record<string, number>;
  /** Size of our record, and of the program's whole dataStore value after the save. */
  recordBytes?: number;
  valueBytes?: number;
  /** Backups of the program after the save. */
  count?: number;
  attempts?: number;
  warning?: string;
  error?: string;
}

export interface BackupReport {
  command: 'backup';
  server: { url: string; version: string };
  namespace: string;
  programs: ProgramBackup[];
}

async function backupOne(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
  reporter: Reporter,
): Promise<ProgramBackup> {
  // Read first: a value that is not the app's shape fails here, before the export is collected.
  const before = await readBackups(client.dataStore, entry.id);
  const exported = await client.getProgramMetadata(entry.id);
  const program = collection(exported, 'programs').find((p) => p.id === entry.id);
  const name = typeof program?.name === 'string' ? program.name : undefined;
  const record = buildBackupRecord(entry.id, exported, settings.backup, new Date());
  if (before.backups.some((r) => summarizeBackup(r).name === record.name)) {
    reporter.warning(
      `program ${entry.id} already has a backup named "${record.name}": use its id, not its name, as backup-id`,
    );
  }
  const saved = await saveBackup(client.dataStore, entry.id, record, { log: (m) => reporter.debug(m) });
  const result: ProgramBackup = {
    id: entry.id,
    name,
    backup: summarizeBackup(saved.record),
    objects: objectCounts(saved.record.metadata),
    recordBytes: Buffer.byteLength(JSON.stringify(saved.record)),
    valueBytes: saved.bytes,
    count: saved.count,
    attempts: saved.attempts,
  };
  result.warning = sizeWarning(entry.id, saved.bytes, saved.count);
  return result;
}

function summaryMarkdown(report: BackupReport): string {
  const lines = [
    md`### DHIS2 in-server backup on ${report.server.url} (DHIS2 ${report.server.version})`.text,
    '',
    `Saved in dataStore namespace \`${report.namespace}\`, where the Program Config App lists them under Restore.`,
    '',
  ];
  const rows = report.programs.map((p) => [
    programLabel(p.id, p.name),
    p.backup?.name ?? '',
    p.backup?.id ?? '',
    p.backup?.version ?? '',
    p.backup?.date ?? '',
    p.error ? 'failed' : 'saved',
    p.count ?? '',
    p.valueBytes !== undefined ? formatBytes(p.valueBytes) : '',
  ]);
  lines.push(
    table(['program', 'backup name', 'id', 'version', 'date', 'result', 'backups', 'all backups size'], rows, [
      'left',
      'left',
      'left',
      'left',
      'left',
      'left',
      'right',
      'right',
    ]),
    '',
  );
  for (const p of report.programs) {
    if (p.error) lines.push(md`**${p.id}** failed: ${p.error}`.text, '');
    if (p.warning) lines.push(`> [!WARNING]\n${md`> ${p.warning}`.text}`, '');
  }
  // Parts apart by a blank line each (blocks()): a failure line never continues the table or a warning.
  return `${blocks(...lines)}\n`;
}

export async function runBackup(settings: Settings, reporter: Reporter): Promise<boolean> {
  // The same name is used for every program: check it before doing anything.
  if (settings.backup.name !== undefined) validateBackupName(settings.backup.name);
  const client = await connect(settings, reporter);
  const results = await eachProgram(
    settings.programs.map((entry) => ({ entry })),
    reporter,
    BACKUP_CONCURRENCY,
    async ({ entry }): Promise<ProgramBackup> => {
      const result = await backupOne(client, settings, entry, reporter);
      reporter.info(
        `${result.name ?? entry.id} (${entry.id}): saved backup "${result.backup?.name}" (id ${result.backup?.id}, ` +
          `version ${result.backup?.version}); ${backupCount(result.count ?? 0)} in ${BACKUPS_NAMESPACE}/${entry.id}`,
      );
      if (result.warning) reporter.warning(result.warning);
      return result;
    },
    ({ entry }, error) => ({ id: entry.id, error }),
  );

  const report: BackupReport = {
    command: 'backup',
    server: { url: client.url, version: client.system.version },
    namespace: BACKUPS_NAMESPACE,
    programs: results,
  };
  const reportPath = writeReport(settings, 'backup', report);
  const saved = results.filter((r) => r.backup && !r.error);
  reporter.setOutput('backups', JSON.stringify(saved.map((r) => ({ programId: r.id, ...r.backup }))));
  reporter.setOutput('report', reportPath);
  await reporter.summary(summaryMarkdown(report));

  const failed = results.filter((r) => r.error);
  if (failed.length > 0) {
    reporter.info(
      `Backup failed for ${failed.length} of ${results.length} programs: ${failed.map((f) => f.id).join(', ')}`,
    );
    return false;
  }
  return true;
}
