/**
 * Markdown for the dry-run and restore reports: one table of counts, per-type breakdown, what would really
 * change, and the errors. Used for the job summary and the PR comment (which cuts `detail` when long).
 */
import { createHash } from 'node:crypto';
import type { Settings } from '../config/types.ts';
import type { Dhis2Client, ImportError, ImportReport, ImportStats } from '../dhis2/client.ts';
import type { ImportStatus } from '../dhis2/import-report.ts';
import type { Reporter } from '../reporter.ts';
import { writeReport } from './report-file.ts';
import { sumStats } from '../dhis2/import-report.ts';
import { cell, code, programLabel, table, type Markup } from '../github/markdown.ts';
import { formatValue, type MetadataDiff } from '../metadata/diff.ts';
import type { RestorePlan } from '../metadata/restore-plan.ts';

export interface ProgramOutcome {
  id: string;
  name?: string;
  file: string;
  fingerprint?: string;
  report?: ImportReport;
  diff?: MetadataDiff;
  /** The plan's decisions (not its payload: the report would hold the whole program again). */
  plan?: Pick<RestorePlan, 'stale' | 'notes'>;
  onServer?: boolean;
  /** A failure before or outside the import (file, server, config). */
  error?: string;
  /** Restore: what happened after the import (stale rules deleted, verification). */
  after?: string[];
}

const STAT_KEYS: (keyof ImportStats)[] = ['created', 'updated', 'deleted', 'ignored', 'total'];

function title(p: ProgramOutcome): Markup {
  return programLabel(p.id, p.name);
}

function statusOf(p: ProgramOutcome): string {
  if (p.error) return 'ERROR';
  return p.report?.status ?? '';
}

/** The counts table: one row per program, DHIS2's stats plus what really changes. */
export function countsTable(programs: ProgramOutcome[]): string {
  const rows = programs.map((p) => [
    title(p),
    statusOf(p),
    ...STAT_KEYS.map((k) => (p.report ? p.report.stats[k] : '')),
    p.diff
      ? `${p.diff.totals.created} new, ${p.diff.totals.changed} changed, ${p.diff.totals.unchanged} unchanged`
      : '',
    p.plan ? Object.values(p.plan.stale).reduce((n, ids) => n + ids.length, 0) : '',
  ]);
  return table(['program', 'status', ...STAT_KEYS, 'really changes', 'rules removed'], rows, [
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'left',
    'right',
  ]);
}

function errorRows(errors: ImportError[]): unknown[][] {
  return errors.map((e) => [e.code, e.objectType, e.displayName ?? '', e.uid ?? e.mainId ?? '', e.message]);
}

/** Errors: the part of a report that must never be cut. */
export function errorsSection(programs: ProgramOutcome[]): string {
  const parts: string[] = [];
  for (const p of programs) {
    if (p.error) parts.push(`**${cell(title(p))}**: ${cell(p.error)}`);
    const errors = p.report?.errors ?? [];
    if (errors.length === 0) continue;
    parts.push(
      `**${cell(title(p))}**: ${errors.length} error${errors.length === 1 ? '' : 's'}`,
      '',
      table(['code', 'object type', 'name', 'uid', 'message'], errorRows(errors)),
    );
  }
  return parts.length ? `#### Errors\n\n${parts.join('\n\n')}` : '';
}

/** Per program: per type, DHIS2's counts next to what really changes, then the changed objects' fields. */
export function detailSection(p: ProgramOutcome): string {
  const lines: string[] = [];
  const diff = p.diff;
  if (diff) {
    const rows = diff.collections
      .filter((c) => c.created.length + c.changed.length + c.unchanged > 0)
      .map((c) => [c.collection, c.created.length, c.changed.length, c.unchanged]);
    const changed = diff.collections.flatMap((c) => c.changed);
    lines.push(
      `**${cell(title(p))}**: ${diff.totals.created} new, ${diff.totals.changed} changed, ${diff.totals.unchanged} unchanged`,
      '',
    );
    // What really changes comes first and in the open: it is what a reviewer reads.
    if (changed.length > 0) {
      lines.push('| object | field | server now | file |', '| --- | --- | --- | --- |');
      for (const o of changed) {
        for (const f of o.fields) {
          lines.push(
            `| ${cell(o.collection)} ${cell(o.name ?? '')} ${code(o.id)} | ${code(f.path)} | ${cell(formatValue(f.old))} | ${cell(formatValue(f.new))} |`,
          );
        }
      }
      lines.push('');
    }
    lines.push(
      '<details><summary>Objects per type</summary>',
      '',
      table(['objects', 'new', 'changed', 'unchanged'], rows, ['left', 'right', 'right', 'right']),
      '',
      '</details>',
      '',
    );
    const created = diff.collections.filter((c) => c.created.length > 0);
    if (created.length > 0) {
      lines.push(
        `New: ${created.map((c) => `${cell(c.collection)} ${c.created.map(code).join(', ')}`).join('; ')}`,
        '',
      );
    }
  }
  const stale = p.plan?.stale;
  if (stale && Object.values(stale).some((ids) => ids.length > 0)) {
    const parts = Object.entries(stale)
      .filter(([, ids]) => ids.length > 0)
      .map(([k, ids]) => `${ids.length} ${cell(k)} (${ids.map(code).join(', ')})`);
    lines.push(`Restore removes what the file no longer has: ${parts.join(', ')}.`, '');
  }
  for (const note of p.plan?.notes ?? []) lines.push(`- ${cell(note)}`);
  for (const note of p.after ?? []) lines.push(`- ${cell(note)}`);
  return lines.join('\n').trim();
}

/** Worst status over programs: ERROR > WARNING > OK. */
export function worstStatus(programs: ProgramOutcome[]): 'OK' | 'WARNING' | 'ERROR' {
  const statuses = programs.map(statusOf);
  if (statuses.includes('ERROR') || statuses.includes('')) return 'ERROR';
  if (statuses.includes('WARNING')) return 'WARNING';
  return 'OK';
}

export function sumOutcomeStats(programs: ProgramOutcome[]): ImportStats {
  return sumStats(programs.flatMap((p) => (p.report ? [p.report.stats] : [])));
}

/** One fingerprint for the whole run: the program's own, or a hash over each program's when several. */
export function combinedFingerprint(programs: { id: string; fingerprint?: string }[]): string {
  const withPrint = programs.filter((p) => p.fingerprint);
  if (withPrint.length === 1) return withPrint[0]!.fingerprint!;
  const lines = withPrint.map((p) => `${p.id}:${p.fingerprint}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * The JSON report and the outputs dry-run and restore share: the worst status, the summed counts, the
 * fingerprint, the report's path. `extra` adds command-specific fields to the report (restore's rollback).
 */
export function reportImport(
  settings: Settings,
  reporter: Reporter,
  client: Dhis2Client,
  command: 'dry-run' | 'restore',
  programs: ProgramOutcome[],
  extra: Record<string, unknown> = {},
): { status: ImportStatus; fingerprint: string } {
  const status = worstStatus(programs);
  const stats = sumOutcomeStats(programs);
  const fingerprint = combinedFingerprint(programs);
  const report = writeReport(settings, command, {
    command,
    server: { url: client.url, version: client.system.version },
    status,
    stats,
    fingerprint,
    ...extra,
    programs,
  });
  reporter.setOutput('status', status);
  for (const [k, v] of Object.entries(stats)) reporter.setOutput(k, String(v));
  reporter.setOutput('fingerprint', fingerprint);
  // What really changes, beside DHIS2's counts (which call every existing object sent "updated").
  const changes = programs.reduce((n, p) => n + (p.diff ? p.diff.totals.created + p.diff.totals.changed : 0), 0);
  reporter.setOutput('changes', String(changes));
  reporter.setOutput('report', report);
  return { status, fingerprint };
}
