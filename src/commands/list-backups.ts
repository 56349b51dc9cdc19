/**
 * `list-backups`: what the Program Config App's Restore dialog lists (RestoreScreen.jsx, RestoreItem.jsx:
 * name, version, date, the comment's first 100 characters), for each program of the config, as the
 * `backups` output and a job summary. A program without backups is not an error (the app says "No Backups
 * found for the selected Program."), unless it does not exist on the server either (a wrong id).
 */
import { backupCount, nameInBackups, programNames, shortComment } from '../backups/programs.ts';
import { BACKUPS_NAMESPACE, sizeWarning, summarizeBackup, type BackupSummary } from '../backups/records.ts';
import { readBackups } from '../backups/store.ts';
import type { Settings } from '../config/types.ts';
import { Dhis2Error, isUserError } from '../errors.ts';
import { blocks, cell, formatBytes, md, programLabel, table } from '../github/markdown.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from '../steps/connect.ts';
import { writeReport } from '../report/report-file.ts';

export interface ProgramBackups {
  id: string;
  name?: string;
  /** The program exists on the server (its backups can still restore it when it does not). */
  onServer?: boolean;
  backups: BackupSummary[];
  bytes?: number;
  warning?: string;
  error?: string;
}

export interface ListReport {
  command: 'list-backups';
  server: { url: string; version: string };
  namespace: string;
  programs: ProgramBackups[];
}

export const NO_BACKUPS = 'No backups found';

function summaryMarkdown(report: ListReport): string {
  // One block per part, each program's section under its own heading (blocks() keeps them apart).
  const parts: string[] = [
    md`### DHIS2 in-server backups on ${report.server.url} (DHIS2 ${report.server.version})`.text,
    `dataStore namespace \`${report.namespace}\` (the Program Config App's backups). Use a backup's id as \`backup-id\`.`,
  ];
  for (const p of report.programs) {
    parts.push(`#### ${cell(programLabel(p.id, p.name))}`);
    if (p.error) {
      parts.push(md`Failed: ${p.error}`.text);
      continue;
    }
    if (p.onServer === false) parts.push('This program is not on the server (its backups can restore it).');
    if (p.backups.length === 0) {
      parts.push(`${NO_BACKUPS} for this program.`);
      continue;
    }
    parts.push(
      table(
        ['name', 'version', 'date', 'comment', 'id'],
        p.backups.map((b) => [b.name, b.version, b.date, shortComment(b.comment), b.id ?? '']),
      ),
      `${backupCount(p.backups.length)}, ${formatBytes(p.bytes ?? 0)} in all.`,
    );
    if (p.warning) parts.push(`> [!WARNING]\n${md`> ${p.warning}`.text}`);
  }
  return `${blocks(...parts)}\n`;
}

export async function runListBackups(settings: Settings, reporter: Reporter): Promise<boolean> {
  const client = await connect(settings, reporter);
  const names = await programNames(
    client,
    settings.programs.map((p) => p.id),
  );
  const results: ProgramBackups[] = [];
  // One small GET per program, in order: the listing reads like the config.
  for (const entry of settings.programs) {
    let name = names.get(entry.id);
    try {
      const stored = await readBackups(client.dataStore, entry.id);
      const backups = stored.backups.map(summarizeBackup);
      if (backups.length === 0 && name === undefined) {
        throw new Dhis2Error(`program ${entry.id} does not exist on ${client.url} and has no backups there`, 404);
      }
      const onServer = name !== undefined;
      name ??= nameInBackups(stored.backups, entry.id);
      const result: ProgramBackups = {
        id: entry.id,
        name,
        onServer,
        backups,
        bytes: stored.bytes,
        warning: sizeWarning(entry.id, stored.bytes, backups.length),
      };
      // One log line per backup: the reporter keeps every line a single line (names are untrusted).
      reporter.info(
        backups.length === 0
          ? `${name ?? entry.id} (${entry.id}): ${NO_BACKUPS}`
          : `${name ?? entry.id} (${entry.id}): ${backupCount(backups.length)}, ${formatBytes(stored.bytes)}`,
      );
      for (const b of backups) reporter.info(`  ${b.id}  ${b.date}  ${b.name} (version ${b.version})`);
      if (!onServer) reporter.warning(`program ${entry.id} is not on ${client.url}; it has backups there`);
      if (result.warning) reporter.warning(result.warning);
      results.push(result);
    } catch (e) {
      if (!isUserError(e)) throw e;
      reporter.error(`program ${entry.id}: ${e.message}`);
      results.push({ id: entry.id, name, backups: [], error: e.message });
    }
  }

  const report: ListReport = {
    command: 'list-backups',
    server: { url: client.url, version: client.system.version },
    namespace: BACKUPS_NAMESPACE,
    programs: results,
  };
  const reportPath = writeReport(settings, 'list-backups', report);
  reporter.setOutput(
    'backups',
    JSON.stringify(results.flatMap((p) => p.backups.map((b) => ({ programId: p.id, ...b })))),
  );
  reporter.setOutput('report', reportPath);
  await reporter.summary(summaryMarkdown(report));
  return results.every((r) => !r.error);
}
