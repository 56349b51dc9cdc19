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
import { blocks, cell, code, programLabel, table, type Markup } from '../github/markdown.ts';
import { formatValue, type MetadataDiff } from '../metadata/diff.ts';
import type { RestorePlan } from '../metadata/restore-plan.ts';

export interface ProgramOutcome {
  id: string;
  name?: string;
  file: string;
  fingerprint?: string;
  /** The server's side of the review (metadata/server-state.ts), recorded with the plan. */
  serverState?: string;
  report?: ImportReport;
  diff?: MetadataDiff;
  /** The plan's decisions (not its payload: the report would hold the whole program again). */
  plan?: Pick<RestorePlan, 'stale' | 'notes'>;
  onServer?: boolean;
  /** A failure before or outside the import (file, server, config). */
  error?: string;
  /** dry-run, restore: the records on the server holding data the change orphans or hides (data-impact). */
  dataImpact?: unknown[];
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

/** The objects that really change in a program: new plus changed (DHIS2 counts every object sent as updated). */
function changeCount(p: ProgramOutcome): number {
  return p.diff ? p.diff.totals.created + p.diff.totals.changed : 0;
}

function staleCount(p: ProgramOutcome): number {
  return p.plan ? Object.values(p.plan.stale).reduce((n, ids) => n + ids.length, 0) : 0;
}

/**
 * One sentence first, before DHIS2's counts: how many objects really change (new or differing from the
 * server) and how many program rules, variables and actions go, over all programs.
 */
export function changesLine(programs: ProgramOutcome[]): string {
  const compared = programs.filter((p) => p.diff);
  if (compared.length === 0) return '';
  const created = compared.reduce((n, p) => n + (p.diff?.totals.created ?? 0), 0);
  const changed = compared.reduce((n, p) => n + (p.diff?.totals.changed ?? 0), 0);
  const stale = programs.reduce((n, p) => n + staleCount(p), 0);
  const changing = programs.filter((p) => changeCount(p) + staleCount(p) > 0).length;
  if (created + changed + stale === 0) {
    return '**What really changes: nothing.** The server already has every object of the file as it is.';
  }
  const parts = [`${created} new`, `${changed} changed`];
  if (stale > 0) parts.push(`${stale} removed`);
  const where = programs.length > 1 ? ` in ${changing} of ${programs.length} programs` : '';
  return `**What really changes: ${created + changed + stale} object${created + changed + stale === 1 ? '' : 's'}${where}** (${parts.join(', ')}).`;
}

/** The counts table: one row per program, what really changes first, then DHIS2's own counts. */
export function countsTable(programs: ProgramOutcome[]): string {
  const rows = programs.map((p) => [
    title(p),
    statusOf(p),
    p.diff
      ? `${p.diff.totals.created} new, ${p.diff.totals.changed} changed, ${p.diff.totals.unchanged} unchanged`
      : '',
    p.plan ? staleCount(p) : '',
    ...STAT_KEYS.map((k) => (p.report ? p.report.stats[k] : '')),
  ]);
  return table(['program', 'status', 'really changes', 'rules removed', ...STAT_KEYS], rows, [
    'left',
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
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
      table(['code', 'object type', 'name', 'uid', 'message'], errorRows(errors)),
    );
  }
  return parts.length ? blocks('#### Errors', ...parts) : '';
}

/**
 * Per program, a section under its own heading: what really changes (object, field, server now, file),
 * per type DHIS2's counts next to what really changes, what restore removes, then the notes as a list.
 * Sections are joined with blocks(): the notes' list never swallows the next program's heading.
 */
export function detailSection(p: ProgramOutcome): string {
  return detailSectionAs(p, DRY_RUN_VIEW);
}

/** detailSection with the sides named by `view` (the export's pull request: repository and server). */
export function detailSectionAs(p: ProgramOutcome, view: DiffView): string {
  const parts: string[] = [];
  // Who last changed an object and when, after it (the export's pull request; the dry run has none).
  const stamped = (id: string) => {
    const stamp = view.stamp?.(id);
    return stamp ? `${code(id)} (${cell(stamp)})` : code(id).text;
  };
  const diff = p.diff;
  if (diff) {
    const rows = diff.collections
      .filter((c) => c.created.length + c.changed.length + c.unchanged > 0)
      .map((c) => [c.collection, c.created.length, c.changed.length, c.unchanged]);
    const changed = diff.collections.flatMap((c) => c.changed);
    parts.push(`${diff.totals.created} new, ${diff.totals.changed} changed, ${diff.totals.unchanged} unchanged.`);
    // What really changes comes first and in the open: it is what a reviewer reads.
    if (changed.length > 0) {
      const lines = [`| object | field | ${cell(view.old)} | ${cell(view.new)} |`, '| --- | --- | --- | --- |'];
      for (const o of changed) {
        for (const f of o.fields) {
          lines.push(
            `| ${cell(o.collection)} ${cell(o.name ?? '')} ${stamped(o.id)} | ${code(f.path)} | ${cell(formatValue(f.old))} | ${cell(formatValue(f.new))} |`,
          );
        }
      }
      parts.push(lines.join('\n'));
    }
    const created = diff.collections.filter((c) => c.created.length > 0);
    if (created.length > 0) {
      parts.push(
        `${cell(view.created)}: ${created.map((c) => `${cell(c.collection)} ${c.created.map(stamped).join(', ')}`).join('; ')}`,
      );
    }
    parts.push(
      blocks(
        '<details><summary>Objects per type</summary>',
        table(['objects', 'new', 'changed', 'unchanged'], rows, ['left', 'right', 'right', 'right']),
        '</details>',
      ),
    );
  }
  const stale: Readonly<Record<string, string[]>> | undefined = view.removedObjects ?? p.plan?.stale;
  if (stale && Object.values(stale).some((ids) => ids.length > 0)) {
    const removed = Object.entries(stale)
      .filter(([, ids]) => ids.length > 0)
      .map(([k, ids]) => `${ids.length} ${cell(k)} (${ids.map(stamped).join(', ')})`);
    parts.push(`${cell(view.removed)}: ${removed.join(', ')}.`);
  }
  const notes = [...(p.plan?.notes ?? []), ...(p.after ?? [])];
  if (notes.length > 0) parts.push(notes.map((note) => `- ${cell(note)}`).join('\n'));
  if (parts.length === 0) return '';
  return blocks(`#### ${cell(title(p))}`, ...parts);
}

/**
 * How detailSection names the sides of its comparison. The dry run compares the file (new) with the server
 * (old); the export's pull request the server (new) with the repository (old).
 */
export interface DiffView {
  /** Column of a field's old value, and of its new value. */
  old: string;
  new: string;
  /** Lead of the objects only the new side has (the diff's `created`). */
  created: string;
  /** Lead of the objects only the old side has (`plan.stale`, or `removedObjects`). */
  removed: string;
  /** Objects only the old side has, per collection, when the plan does not say (the export's view). */
  removedObjects?: Readonly<Record<string, string[]>>;
  /** Who last changed an object and when, shown after it; plain text (made inert here). */
  stamp?: (id: string) => string | undefined;
}

export const DRY_RUN_VIEW: DiffView = {
  old: 'server now',
  new: 'file',
  created: 'New',
  removed: 'Restore removes what the file no longer has',
};

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
