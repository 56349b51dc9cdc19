/**
 * `restore`: the reference app's "Restore" (pca-reference.md) without its flaws, driven by a merge:
 * - exactly the payload the dry run showed (planProgram), validated first in the same run, and refused on
 *   a push when it differs from the merged pull request's reviewed fingerprint;
 * - nothing is committed for any program unless every program validates;
 * - a rollback point (the server's current export) is saved before committing;
 * - the import is atomic and asynchronous (a proxy cutting a long request at 60 s can't turn a success
 *   into a reported failure), and only AFTER it succeeded are the rules and variables the file no longer
 *   has deleted (the app deletes them all first: a failed import lost them);
 * - the restored objects are read back and compared with the payload.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Settings } from '../config/types.ts';
import type { Dhis2Client, ImportReport, ImportStats } from '../dhis2/client.ts';
import { isUserError } from '../errors.ts';
import { artifactName, uploadArtifact } from '../github/artifact.ts';
import { diffMetadata } from '../metadata/diff.ts';
import type { MetadataDocument, MetadataObject } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from './connect.ts';
import { combinedFingerprint, dryRunMarkdown, outcomeOf, planAndValidate } from './dry-run.ts';
import { buildExport } from './export.ts';
import {
  countsTable,
  detailSection,
  errorsSection,
  setImportOutputs,
  sumStats,
  worstStatus,
  type ProgramOutcome,
} from './import-summary.ts';
import { checkReviewedPlan } from './plan-check.ts';
import { DIFF_IGNORE_KEYS, loadProgramSource, type ProgramPlan } from './plan.ts';
import { writeReport } from './report-file.ts';

/** The main import: atomic, and run as a server job that is polled, never cut by an HTTP timeout. */
export const COMMIT_PARAMS = {
  importMode: 'COMMIT',
  importStrategy: 'CREATE_AND_UPDATE',
  atomicMode: 'ALL',
  async: true,
} as const;

interface Restored {
  planned: ProgramPlan;
  outcome: ProgramOutcome;
  rollbackFile?: string;
}

/** Saves the server's current state of the program, as `export` with the current-server preset writes it. */
async function saveRollbackPoint(
  client: Dhis2Client,
  settings: Settings,
  planned: ProgramPlan,
): Promise<string | undefined> {
  if (!planned.onServer) return undefined;
  const config = {
    ...settings.config,
    target: 'current-server' as const,
    objects: undefined,
    remove: {},
    attributes: {},
  };
  const { text } = await buildExport(client, config, planned.entry);
  const dir = join(settings.reportDir, 'rollback');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${planned.entry.id}.json`);
  writeFileSync(path, text);
  return path;
}

/** Deletes the program rules, variables and actions the file no longer has, after the import succeeded. */
async function deleteStale(
  client: Dhis2Client,
  planned: ProgramPlan,
  reporter: Reporter,
): Promise<ImportStats | undefined> {
  const stale = planned.plan.stale;
  const payload: MetadataDocument = {};
  for (const [key, ids] of Object.entries(stale)) if (ids.length > 0) payload[key] = ids.map((id) => ({ id }));
  if (Object.keys(payload).length === 0) return undefined;
  // Not atomic: an action DHIS2 already deleted with its rule must not keep the rules from going.
  const report = await client.importMetadata(payload, {
    importMode: 'COMMIT',
    importStrategy: 'DELETE',
    atomicMode: 'NONE',
  });
  for (const e of report.errors) {
    if (e.code === 'E5001' || /not found|does not exist/i.test(e.message)) continue;
    reporter.warning(`program ${planned.entry.id}: could not delete ${e.objectType} ${e.uid ?? ''}: ${e.message}`);
  }
  return report.stats;
}

/** Re-reads the restored objects and compares them with the payload. */
async function verify(client: Dhis2Client, settings: Settings, planned: ProgramPlan): Promise<string[]> {
  const after = new Map<string, MetadataObject>();
  const current = await client.getProgramMetadata(planned.entry.id);
  for (const value of Object.values(current)) {
    if (Array.isArray(value)) for (const o of value as MetadataObject[]) if (o.id) after.set(o.id, o);
  }
  const missing = new Map<string, string[]>();
  for (const [key, value] of Object.entries(planned.plan.payload)) {
    if (!Array.isArray(value)) continue;
    for (const o of value as MetadataObject[]) {
      if (o.id && !after.has(o.id)) missing.set(key, [...(missing.get(key) ?? []), o.id]);
    }
  }
  for (const objects of await Promise.all([...missing].map(([k, ids]) => client.getObjects(k, ids)))) {
    for (const o of objects) if (o.id) after.set(o.id, o);
  }
  const diff = diffMetadata(planned.plan.payload, after, DIFF_IGNORE_KEYS);
  const notes: string[] = [];
  const absent = diff.collections.flatMap((c) => c.created.map((id) => `${c.collection} ${id}`));
  if (absent.length > 0) notes.push(`not found after the restore: ${absent.join(', ')}`);
  for (const o of diff.collections.flatMap((c) => c.changed)) {
    notes.push(`${o.collection} ${o.id} differs after the restore: ${o.fields.map((f) => f.path).join(', ')}`);
  }
  return notes;
}

function addStats(a: ImportStats, b: ImportStats | undefined): ImportStats {
  if (!b) return a;
  return {
    created: a.created + b.created,
    updated: a.updated + b.updated,
    deleted: a.deleted + b.deleted,
    ignored: a.ignored + b.ignored,
    total: a.total + b.total,
  };
}

function restoreMarkdown(
  settings: Settings,
  version: string,
  programs: ProgramOutcome[],
  rollback: string[],
  artifact?: string,
) {
  const status = worstStatus(programs);
  const icon = status === 'OK' ? '✅' : status === 'WARNING' ? '⚠️' : '❌';
  const lines = [
    `### ${icon} DHIS2 restore: ${status} on ${settings.server.url} (DHIS2 ${version})`,
    '',
    countsTable(programs),
    '',
    errorsSection(programs),
    '',
    ...programs.map(detailSection),
  ];
  if (rollback.length > 0) {
    lines.push(
      '',
      '#### Rollback point',
      '',
      `The server's state before this restore was saved (current-server preset) as ${artifact ? `the artifact \`${artifact}\`` : `files in ${settings.reportDir}/rollback`}.`,
      'To go back: put the file of a program at its `file` path on a branch, open a pull request (the dry run shows',
      'what it would change), and merge it; or run `dhis2-metadata restore` with that file.',
    );
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

export async function runRestore(settings: Settings, reporter: Reporter): Promise<boolean> {
  const client = await connect(settings, reporter);

  // 1. Plan and validate every program: nothing is committed unless all of them validate.
  const planned: ProgramPlan[] = [];
  const failed: ProgramOutcome[] = [];
  for (const entry of settings.programs) {
    try {
      const { planned: p, report } = await planAndValidate(
        client,
        settings,
        entry,
        await loadProgramSource(client, settings, entry),
        reporter,
      );
      if (report.status === 'ERROR') failed.push(outcomeOf(p, report));
      else planned.push(p);
    } catch (e) {
      if (!isUserError(e)) throw e;
      reporter.error(`program ${entry.id}: ${e.message}`, e.location.file ? e.location : undefined);
      failed.push({ id: entry.id, file: entry.file, error: e.message });
    }
  }
  if (failed.length > 0) {
    const programs = [...failed, ...planned.map((p) => outcomeOf(p))];
    const md = dryRunMarkdown(settings, client.system.version, programs);
    await reporter.summary(
      [md.header.replace('dry run', 'restore not started: dry run'), '', md.essential, '', md.detail].join('\n'),
    );
    writeReport(settings.reportDir, 'restore-report.json', { command: 'restore', status: 'ERROR', programs });
    reporter.setOutput('status', 'ERROR');
    reporter.info(
      `Restore not started: the dry run fails for ${failed.map((f) => f.id).join(', ')}. Nothing was imported.`,
    );
    return false;
  }

  // 2. Exactly the reviewed plan.
  await checkReviewedPlan(
    settings,
    reporter,
    planned.map((p) => ({ id: p.entry.id, fingerprint: p.fingerprint })),
  );

  // 3. Rollback points, then the imports, one program at a time.
  const restored: Restored[] = [];
  for (const p of planned) {
    const rollbackFile = await saveRollbackPoint(client, settings, p);
    const outcome = outcomeOf(p);
    restored.push({ planned: p, outcome, rollbackFile });
    let report: ImportReport;
    try {
      report = await client.importMetadata(p.plan.payload, COMMIT_PARAMS);
    } catch (e) {
      if (!isUserError(e)) throw e;
      outcome.error = `${e.message} (no rule or variable was deleted)`;
      reporter.error(`program ${p.entry.id}: ${outcome.error}`);
      break;
    }
    outcome.report = report;
    if (report.status === 'ERROR') {
      reporter.error(
        `program ${p.entry.id}: the import failed (${report.errors.length} errors); nothing of it was kept`,
      );
      break;
    }
    const deleted = await deleteStale(client, p, reporter);
    if (deleted) {
      report.stats = addStats(report.stats, { ...deleted, total: deleted.deleted, ignored: 0, created: 0, updated: 0 });
      outcome.after = [`removed ${deleted.deleted} program rules, variables and actions the file no longer has`];
    }
    const differences = await verify(client, settings, p);
    for (const d of differences) reporter.warning(`program ${p.entry.id}: ${d}`);
    outcome.after = [
      ...(outcome.after ?? []),
      differences.length === 0
        ? 'verified: the server now has exactly the payload'
        : `verification found ${differences.length} differences`,
    ];
    reporter.info(
      `${outcome.name ?? p.entry.id} (${p.entry.id}): ${report.status}; created ${report.stats.created}, updated ${report.stats.updated}, deleted ${report.stats.deleted}`,
    );
  }

  // 4. Report.
  const programs = restored.map((r) => r.outcome);
  const notRun = planned
    .slice(restored.length)
    .map((p) => ({ ...outcomeOf(p), error: 'not restored: an earlier program failed' }));
  const all = [...programs, ...notRun];
  const status = worstStatus(all);
  const rollbackFiles = restored.map((r) => r.rollbackFile).filter((f): f is string => f !== undefined);
  let artifact: string | undefined;
  if (settings.github.runtimeToken && rollbackFiles.length > 0) {
    const id = createHash('sha1').update(settings.server.url).update(settings.config.path).digest('hex').slice(0, 8);
    artifact = artifactName('dhis2-rollback', [id, settings.github.runId ?? '']);
    try {
      await uploadArtifact(artifact, rollbackFiles, join(settings.reportDir, 'rollback'));
    } catch (e) {
      reporter.warning((e as Error).message);
      artifact = undefined;
    }
  }
  const stats = sumStats(all);
  const fingerprint = combinedFingerprint(all);
  const reportPath = writeReport(settings.reportDir, 'restore-report.json', {
    command: 'restore',
    server: { url: client.url, version: client.system.version },
    status,
    stats,
    fingerprint,
    rollback: { files: rollbackFiles, artifact },
    programs: all,
  });
  setImportOutputs(reporter, { status, stats, fingerprint, report: reportPath });
  await reporter.summary(restoreMarkdown(settings, client.system.version, all, rollbackFiles, artifact));
  return status !== 'ERROR';
}
