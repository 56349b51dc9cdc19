/**
 * `restore`: the reference app's "Restore" (pca-reference.md) without its flaws, driven by a merge:
 * - exactly the payload the dry run showed (planAndValidate), validated first in the same run, and refused on
 *   a push when it differs from the merged pull request's reviewed fingerprint;
 * - nothing is committed for any program unless every program validates;
 * - a rollback point (the server's current export) is saved before committing;
 * - the import is atomic and asynchronous (a proxy cutting a long request at 60 s can't turn a success
 *   into a reported failure), and only AFTER it succeeded are the rules and variables the file no longer
 *   has deleted (the app deletes them all first: a failed import lost them);
 * - the restored objects are read back and compared with the payload.
 */
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../config/types.ts';
import type { Dhis2Client, ImportReport, ImportStats } from '../dhis2/client.ts';
import { nothingImported, sumStats } from '../dhis2/import-report.ts';
import { acquireLock, LOCK_NAMESPACE, type HeldLock } from '../dhis2/datastore-lock.ts';
import { ImportJobError, mayStillChange } from '../dhis2/import-job.ts';
import { isUserError } from '../errors.ts';
import { onInterrupt } from '../util/interrupt.ts';
import { artifactName, uploadArtifact } from '../github/artifact.ts';
import { blocks, cell } from '../github/markdown.ts';
import { provenanceLine, serverTitle } from '../github/pr-comment.ts';
import { isEmptyPayload, objectCount } from '../metadata/changed-payload.ts';
import type { ExportParts } from '../metadata/assemble.ts';
import { diffMetadata } from '../metadata/diff.ts';
import { collection, type MetadataDocument, type MetadataObject } from '../metadata/types.ts';
import { countPlanImpact } from '../data-impact/count.ts';
import {
  impactLine,
  impactOutput,
  programText,
  reportEntries,
  summarise,
  type ProgramImpact,
} from '../data-impact/section.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from '../steps/connect.ts';
import { buildExport, readExportParts } from '../steps/collect-program.ts';
import { outcomeOf, planAndValidate } from '../plan/validate-plan.ts';
import {
  changesLine,
  countsTable,
  detailSection,
  errorsSection,
  reportImport,
  worstStatus,
  type ProgramOutcome,
} from '../report/import-summary.ts';
import { checkReviewedPlan, type PlanCheck } from '../plan/reviewed-plan.ts';
import { DIFF_IGNORE_KEYS, programSources, type ProgramPlan } from '../plan/plan.ts';
import { runScope, writeRunFile } from '../report/report-file.ts';
import { rollbackDir, rollbackMarkdown } from '../report/rollback.ts';

/** The main import: atomic, and run as a server job that is polled, never cut by an HTTP timeout. */
export const COMMIT_PARAMS = {
  importMode: 'COMMIT',
  importStrategy: 'CREATE_AND_UPDATE',
  atomicMode: 'ALL',
  async: true,
} as const;

/**
 * Saves the server's current state of the program, as `export` with the current-server preset writes it, from
 * `parts`: the export the plan was made against (the state the reviewed diff describes: the program is not
 * read twice) with the sections and legend sets read beside the plan (readExportParts).
 */
async function saveRollbackPoint(
  client: Dhis2Client,
  settings: Settings,
  planned: ProgramPlan,
  parts: Promise<ExportParts | undefined> | undefined,
): Promise<string | undefined> {
  if (!planned.onServer) return undefined;
  const config = {
    ...settings.config,
    target: 'current-server' as const,
    objects: undefined,
    remove: {},
    attributes: {},
  };
  const read = parts ?? readExportParts(client, planned.entry.id, Promise.resolve(planned.current));
  const { text } = await buildExport(client, config, planned.entry, read);
  return writeRunFile(settings, join(rollbackDir(settings), `${planned.entry.id}.json`), text, 'rollback point');
}

/** Nothing to import and no rule to delete: the server already has what the file says. */
function changesNothing(planned: ProgramPlan): boolean {
  return isEmptyPayload(planned.payload) && Object.values(planned.plan.stale).every((ids) => ids.length === 0);
}

/** Deletes the program rules, variables and actions the file no longer has, after the import succeeded. */
async function deleteStale(
  client: Dhis2Client,
  planned: ProgramPlan,
  reporter: Reporter,
  reviewed: ReadonlySet<string> | undefined,
): Promise<ImportStats | undefined> {
  const stale = planned.plan.stale;
  const payload: MetadataDocument = {};
  const spared: string[] = [];
  for (const [key, ids] of Object.entries(stale)) {
    // Never an object the review did not list (allow-plan-change lets a changed plan through, not this).
    const allowed = reviewed === undefined ? ids : ids.filter((id) => reviewed.has(`${key}:${id}`));
    spared.push(...ids.filter((id) => !allowed.includes(id)).map((id) => `${key} ${id}`));
    if (allowed.length > 0) payload[key] = allowed.map((id) => ({ id }));
  }
  if (spared.length > 0) {
    reporter.warning(
      `program ${planned.entry.id}: kept ${spared.join(', ')}, which the file no longer has: the reviewed dry run did not list ${spared.length === 1 ? 'it' : 'them'} for deletion`,
    );
  }
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

/**
 * Re-reads what was sent, by id, and compares it with the payload. Only the sent objects: the others were
 * not imported, and reading the whole program again would double a restore's reads on a large program.
 */
async function verify(client: Dhis2Client, planned: ProgramPlan): Promise<string[]> {
  const sent = planned.payload;
  const reads = Object.entries(sent)
    .filter((entry): entry is [string, MetadataObject[]] => Array.isArray(entry[1]))
    .map(([key, objects]) => client.getObjects(key, objects.map((o) => o.id ?? '').filter(Boolean)));
  const after = new Map<string, MetadataObject>();
  for (const objects of await Promise.all(reads)) for (const o of objects) if (o.id) after.set(o.id, o);
  const diff = diffMetadata(sent, after, DIFF_IGNORE_KEYS);
  const notes: string[] = [];
  const absent = diff.collections.flatMap((c) => c.created.map((id) => `${c.collection} ${id}`));
  if (absent.length > 0) notes.push(`not found after the restore: ${absent.join(', ')}`);
  for (const o of diff.collections.flatMap((c) => c.changed)) {
    notes.push(`${o.collection} ${o.id} differs after the restore: ${o.fields.map((f) => f.path).join(', ')}`);
  }
  return notes;
}

function restoreMarkdown(
  settings: Settings,
  version: string,
  programs: ProgramOutcome[],
  rollback: { files: string[]; artifacts: string[] },
  heading?: string,
) {
  const status = worstStatus(programs);
  const icon = status === 'OK' ? '✅' : status === 'WARNING' ? '⚠️' : '❌';
  // Each file and the exact command that restores it (src/report/rollback.ts).
  const rollbackPart = rollbackMarkdown(settings, rollback);
  // Sections are whole blocks: a program's heading never continues the previous program's list of notes.
  return `${blocks(
    `### ${icon} DHIS2 restore${serverTitle(settings.label)}${heading ? ` (${heading})` : ''}: ${status} on ${cell(settings.server.url)} (DHIS2 ${cell(version)})`,
    provenanceLine(settings.github, settings.github.sha),
    changesLine(programs),
    countsTable(programs),
    errorsSection(programs),
    ...programs.map(detailSection),
    rollbackPart,
  )}\n`;
}

/** The report, the outputs and the summary: written whatever happened, so a failed run still says it all. */
async function finish(
  settings: Settings,
  reporter: Reporter,
  client: Dhis2Client,
  all: ProgramOutcome[],
  rollback: { files: string[]; artifacts: string[] },
  heading?: string,
): Promise<boolean> {
  const { status } = reportImport(settings, reporter, client, 'restore', all, { rollback });
  await reporter.summary(restoreMarkdown(settings, client.system.version, all, rollback, heading));
  return status !== 'ERROR';
}

/** Saves, and inside a runner uploads, the program's rollback point before anything is imported. */
async function rollbackPoint(
  client: Dhis2Client,
  settings: Settings,
  planned: ProgramPlan,
  reporter: Reporter,
  rollback: { files: string[]; artifacts: string[] },
  parts: Promise<ExportParts | undefined> | undefined,
): Promise<void> {
  const file = await saveRollbackPoint(client, settings, planned, parts);
  if (!file) return;
  rollback.files.push(file);
  reporter.info(`Program ${planned.entry.id}: rollback point saved as ${file}`);
  if (!settings.github.runtimeToken) return;
  const name = artifactName('dhis2-rollback', [planned.entry.id, runScope(settings), settings.github.runId ?? '']);
  try {
    await uploadArtifact(name, [file], rollbackDir(settings));
    rollback.artifacts.push(name);
  } catch (e) {
    reporter.warning(`program ${planned.entry.id}: ${(e as Error).message} (the rollback point is in ${file})`);
  }
}

/** Runs a step that comes after a successful import: its failure is a warning, never a lost report. */
async function afterImport<T>(outcome: ProgramOutcome, reporter: Reporter, what: string, step: () => Promise<T>) {
  try {
    return await step();
  } catch (e) {
    if (!isUserError(e)) throw e;
    const message = `${what} failed after the import succeeded: ${e.message}`;
    reporter.warning(`program ${outcome.id}: ${message}`);
    outcome.after = [...(outcome.after ?? []), message];
    if (outcome.report?.status === 'OK') outcome.report.status = 'WARNING';
    return undefined;
  }
}

/** Who holds a restore lock: the workflow run, or the CLI's user and machine. */
function lockOwner(settings: Settings): { owner: string; run?: string } {
  const { repository, runId, serverUrl, actor } = settings.github;
  if (settings.inAction && repository && runId) {
    return {
      owner: `${actor ?? 'a workflow'} in ${repository}`,
      run: `${serverUrl}/${repository}/actions/runs/${runId}`,
    };
  }
  return { owner: `${userInfo().username}@${hostname()} (dhis2-metadata CLI, pid ${process.pid})` };
}

/**
 * How long a restore lock holds after its holder last wrote it, for an import-timeout T. The longest one
 * import job is followed is T and then, asked to stop, graceMs (min(T, 5 min), import-job.ts): F = T + grace.
 * The lock holds 2F + 10 min: while its run lives it is renewed (so it always holds at least that minus one
 * renewal from now), and when the run stops following a job that may still run (import-timeout, Ctrl-C, a
 * cancelled workflow) it is left at now + 2F + 10 min: the job gets as long again as it could already have
 * been followed, twice over, and 10 minutes for the clocks and the run's own reads and writes. T counts up to
 * 6 hours: a run that waits longer still renews its lock, and every run can tell a lock of ours from a planted
 * one by the same bound (LONGEST_RESTORE_LOCK_MS) whatever import-timeout each was given.
 */
export function restoreLockTtlMs(importTimeoutMs: number): number {
  const t = Math.min(importTimeoutMs, 6 * 3_600_000);
  const followed = t + Math.min(t, 5 * 60_000);
  return 2 * followed + 10 * 60_000;
}

/** The longest any restore lock is written for: a record expiring later is no lock of ours (issue 17, 6). */
export const LONGEST_RESTORE_LOCK_MS = restoreLockTtlMs(Infinity);

/**
 * One lock per program (sorted, so two runs over overlapping programs take them in the same order and
 * can't deadlock), held from before the plan to after the verification: two restores of a program never
 * interleave, and the second plans against what the first left. Taken into `held` as they come, so that an
 * interrupt while waiting for one releases the others.
 */
async function takeLocks(client: Dhis2Client, settings: Settings, reporter: Reporter, held: HeldLock[]): Promise<void> {
  const { owner, run } = lockOwner(settings);
  try {
    for (const id of settings.programs.map((p) => p.id).sort()) {
      held.push(
        await acquireLock(client.dataStore, `restore-${id}`, {
          owner,
          run,
          purpose: `restore of program ${id} on ${client.url}`,
          ttlMs: restoreLockTtlMs(settings.importTimeoutMs),
          maxTtlMs: LONGEST_RESTORE_LOCK_MS,
          waitMs: settings.importTimeoutMs,
          pollMs: Math.min(2000, settings.importTimeoutMs / 10),
          progress: (m) => reporter.info(m),
          warn: (m) => reporter.warning(m),
        }),
      );
    }
  } catch (e) {
    await releaseLocks(held, reporter);
    throw e;
  }
}

async function releaseLocks(held: HeldLock[], reporter: Reporter): Promise<void> {
  for (const lock of held.splice(0)) {
    try {
      await lock.release();
    } catch (e) {
      reporter.warning(
        `could not release the restore lock ${lock.key}: ${(e as Error).message} (it expires by itself)`,
      );
    }
  }
}

/**
 * The end of the locks: released, unless an import may still change the server (a job still running after
 * import-timeout, an answer lost, or the run stopped while an import was under way). Then each lock is left
 * to expire, later than that job can still run (restoreLockTtlMs), so no other restore starts meanwhile.
 */
async function endLocks(
  held: HeldLock[],
  settings: Settings,
  reporter: Reporter,
  mayStillRun: string | undefined,
): Promise<void> {
  if (mayStillRun === undefined) return releaseLocks(held, reporter);
  const holdMs = restoreLockTtlMs(settings.importTimeoutMs);
  for (const lock of held.splice(0)) {
    const where = `dataStore ${LOCK_NAMESPACE}/${lock.key}`;
    try {
      const until = await lock.leave(holdMs, `left by its run: ${mayStillRun}`);
      if (!until) {
        reporter.warning(`the restore lock ${lock.key} is no longer this run's (${where}); ${mayStillRun}`);
        continue;
      }
      reporter.warning(
        `restore lock ${lock.key} not released: ${mayStillRun}. The lock stays until ${until.toISOString()} so no ` +
          `other restore starts while the job may still run (${where}; delete it only once that job has ended)`,
      );
    } catch (e) {
      reporter.warning(
        `restore lock ${lock.key} not released: ${mayStillRun}. The lock stays until ${lock.expires.toISOString()} ` +
          `so no other restore starts while the job may still run (${where}; its expiry could not be moved ` +
          `later: ${(e as Error).message})`,
      );
    }
  }
}

/**
 * The client as restoreLocked uses it, watching what its imports may still do on the server: an import under
 * way, or one that ended without the server saying it is over (import-job.ts mayStillChange). VALIDATE never
 * changes anything and is not watched.
 */
function watchImports(client: Dhis2Client): { client: Dhis2Client; mayStillRun: () => string | undefined } {
  let running = 0;
  let unfinished: string | undefined;
  const importMetadata: Dhis2Client['importMetadata'] = async (payload, params) => {
    if (params.importMode === 'VALIDATE') return client.importMetadata(payload, params);
    running++;
    try {
      return await client.importMetadata(payload, params);
    } catch (e) {
      if (mayStillChange(e)) unfinished ??= 'an import job may still run on the server';
      throw e;
    } finally {
      running--;
    }
  };
  const view = new Proxy(client, {
    get(target, property) {
      if (property === 'importMetadata') return importMetadata;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    client: view,
    mayStillRun: () => unfinished ?? (running > 0 ? 'the run stopped while an import job was running' : undefined),
  };
}

export async function runRestore(settings: Settings, reporter: Reporter): Promise<boolean> {
  const client = await connect(settings, reporter);
  const locks: HeldLock[] = [];
  const imports = watchImports(client);
  const unregister = onInterrupt(() => endLocks(locks, settings, reporter, imports.mayStillRun()));
  try {
    await takeLocks(client, settings, reporter, locks);
    return await restoreLocked(settings, reporter, imports.client);
  } finally {
    unregister();
    await endLocks(locks, settings, reporter, imports.mayStillRun());
  }
}

/** What an interrupted restore says before the process ends: what was imported, and where to go back. */
function interruptedLine(signal: string, outcomes: ProgramOutcome[], rollback: { files: string[] }): string {
  const imported = outcomes.filter((o) => o.report && o.report.status !== 'ERROR' && !o.error).map((o) => o.id);
  const current = outcomes.at(-1);
  const during =
    current && !current.report && !current.error
      ? ` Program ${current.id} was being imported: its import job may still run on the server; check it there.`
      : '';
  const points = rollback.files.length > 0 ? ` Rollback points: ${rollback.files.join(', ')}.` : '';
  return (
    `restore interrupted (${signal}): ${imported.length > 0 ? `imported ${imported.join(', ')}` : 'nothing was imported'}.` +
    `${during}${points}`
  );
}

/** "collection-free" label of an object for a message: its name and uid, or the uid. */
function objectLabel(obj: unknown, id: string): string {
  const name = isRecordWithName(obj) ? obj.name : undefined;
  return name ? `${name} (${id})` : id;
}

function isRecordWithName(v: unknown): v is { name: string } {
  return typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string';
}

/**
 * Counts, per program, the collected records the change touches, for the `data-impact` output and the report (the
 * dry run's gate judged them: restore imports what was reviewed). Reporting only: a failure here stops nothing.
 */
async function restoreImpact(
  client: Dhis2Client,
  reporter: Reporter,
  planned: ProgramPlan[],
): Promise<Map<string, unknown[]>> {
  const out = new Map<string, unknown[]>();
  const impacts: ProgramImpact[] = [];
  try {
    for (const p of planned) {
      const items = await countPlanImpact(client, {
        programId: p.entry.id,
        before: p.current,
        serverObjects: p.serverObjects,
        after: p.plan.payload,
        diff: p.diff,
      });
      if (items.length === 0) continue;
      const name = collection(p.plan.payload, 'programs')[0]?.name;
      const impact = { program: { id: p.entry.id, ...(typeof name === 'string' ? { name } : {}) }, items };
      impacts.push(impact);
      out.set(p.entry.id, reportEntries(impact));
      for (const i of items) if (i.records !== 0) reporter.warning(impactLine(programText(impact.program), i));
    }
    reporter.setOutput('data-impact', impactOutput(summarise(impacts)));
  } catch (e) {
    if (!isUserError(e)) throw e;
    reporter.notice(`the records this change touches on the server were not counted: ${e.message}`);
    reporter.setOutput('data-impact', 'unknown');
  }
  return out;
}

async function restoreLocked(settings: Settings, reporter: Reporter, client: Dhis2Client): Promise<boolean> {
  const rollback = { files: [] as string[], artifacts: [] as string[] };

  // 1. Plan and validate every program: nothing is committed unless all of them validate.
  const planned: ProgramPlan[] = [];
  const failed: ProgramOutcome[] = [];
  // What the rollback point adds to the server's copy (sections, legend sets), read beside the VALIDATE: only
  // for a program on the server that the restore changes (one that changes nothing gets no rollback point).
  const rollbackParts = new Map<string, Promise<ExportParts | undefined>>();
  const readRollbackParts = (p: ProgramPlan) => {
    if (!p.onServer || changesNothing(p)) return;
    const parts = readExportParts(client, p.entry.id, Promise.resolve(p.current));
    parts.catch(() => {}); // awaited by the rollback point, if it comes to one
    rollbackParts.set(p.entry.id, parts);
  };
  for (const source of await programSources(client, settings, reporter)) {
    const { entry } = source;
    try {
      const { planned: p, report } = await planAndValidate(
        client,
        settings,
        source,
        reporter,
        undefined,
        readRollbackParts,
      );
      if (report.status !== 'ERROR') {
        planned.push(p);
        continue;
      }
      failed.push(outcomeOf(p, report));
    } catch (e) {
      if (!isUserError(e)) throw e;
      reporter.error(`program ${entry.id}: ${e.message}`, e.location.file ? e.location : undefined);
      failed.push({ id: entry.id, file: entry.file, error: e.message });
    }
  }
  if (failed.length > 0) {
    reporter.info(
      `Restore not started: the dry run fails for ${failed.map((f) => f.id).join(', ')}. Nothing was imported.`,
    );
    const all = [...failed, ...planned.map((p) => outcomeOf(p))];
    return finish(settings, reporter, client, all, rollback, 'restore not started: the dry run fails');
  }

  // 2. Exactly the reviewed plan.
  let check: PlanCheck;
  try {
    check = await checkReviewedPlan(
      settings,
      reporter,
      planned.map((p) => ({
        id: p.entry.id,
        fingerprint: p.fingerprint,
        deletions: p.plan.stale,
        serverState: p.serverState,
        nameOf: (id: string) => objectLabel(p.serverObjects.get(id) ?? p.payload, id),
      })),
    );
  } catch (e) {
    if (!isUserError(e)) throw e;
    const all = planned.map((p) => ({ ...outcomeOf(p), error: 'not restored: the plan check refused it' }));
    await finish(settings, reporter, client, all, rollback, 'restore refused');
    throw e;
  }

  // The records the reviewed change orphans or hides, for the report: the dry run's gate judged them.
  const impacts = await restoreImpact(client, reporter, planned);

  // 3. Per program: a rollback point, the import, then the stale rules and the verification.
  const outcomes: ProgramOutcome[] = [];
  const unregister = onInterrupt(async (signal) => {
    reporter.error(interruptedLine(signal, outcomes, rollback));
    await finish(settings, reporter, client, outcomes, rollback, `interrupted (${signal})`);
  });
  try {
    for (const p of planned) {
      const outcome = outcomeOf(p);
      if (impacts.has(p.entry.id)) outcome.dataImpact = impacts.get(p.entry.id);
      outcomes.push(outcome);
      if (outcomes.length > 1 && outcomes.slice(0, -1).some((o) => o.error || o.report?.status === 'ERROR')) {
        outcome.error = 'not restored: an earlier program failed';
        continue;
      }
      if (changesNothing(p)) {
        outcome.report = nothingImported();
        outcome.after = ['nothing to change: the server already has what the file says; nothing was imported'];
        reporter.info(`${outcome.name ?? p.entry.id} (${p.entry.id}): nothing to change, nothing imported.`);
        continue;
      }
      let report: ImportReport;
      try {
        await rollbackPoint(client, settings, p, reporter, rollback, rollbackParts.get(p.entry.id));
        report = isEmptyPayload(p.payload) ? nothingImported() : await client.importMetadata(p.payload, COMMIT_PARAMS);
      } catch (e) {
        if (!isUserError(e)) throw e;
        const ended = e instanceof ImportJobError && e.ended?.status !== 'ERROR' ? e.ended : undefined;
        if (!ended) {
          outcome.error = `${e.message} (no rule or variable was deleted)`;
          reporter.error(`program ${p.entry.id}: ${outcome.error}`);
          continue;
        }
        // The job ran to its end and said how (status and counts), only its report was lost: the reviewed
        // change is on the server, so the restore goes on with the job's own counts, and the verification
        // below reads every imported object back (a difference makes it a WARNING).
        report = { ...nothingImported(), status: ended.status, stats: ended.stats, httpStatus: 200 };
        const note =
          `DHIS2's report of the import could not be read (${ended.why}); its job ended saying "${ended.said}": ` +
          'the counts are those of the job, and the imported objects are read back below';
        reporter.warning(`program ${p.entry.id}: ${note}`);
        outcome.after = [note];
      }
      outcome.report = report;
      if (report.status === 'ERROR') {
        reporter.error(
          `program ${p.entry.id}: the import failed (${report.errors.length} errors); nothing of it was kept`,
        );
        continue;
      }
      const deleted = await afterImport(outcome, reporter, 'removing the stale rules', () =>
        deleteStale(client, p, reporter, check.reviewedDeletions.get(p.entry.id)),
      );
      if (deleted) {
        report.stats = sumStats([
          report.stats,
          { ...deleted, total: deleted.deleted, ignored: 0, created: 0, updated: 0 },
        ]);
        outcome.after = [
          ...(outcome.after ?? []),
          `removed ${deleted.deleted} program rules, variables and actions the file no longer has`,
        ];
      }
      const differences = await afterImport(outcome, reporter, 'the verification', () => verify(client, p));
      if (differences) {
        for (const d of differences) reporter.warning(`program ${p.entry.id}: ${d}`);
        // The import succeeded, but the server does not hold what was sent: not a plain OK.
        if (differences.length > 0 && report.status === 'OK') report.status = 'WARNING';
        outcome.after = [
          ...(outcome.after ?? []),
          differences.length === 0
            ? `verified: the server now has the ${objectCount(p.payload)} imported objects exactly as sent`
            : `verification found ${differences.length} differences`,
        ];
      }
      reporter.info(
        `${outcome.name ?? p.entry.id} (${p.entry.id}): ${report.status}; created ${report.stats.created}, updated ${report.stats.updated}, deleted ${report.stats.deleted}`,
      );
    }
  } catch (e) {
    // Even a bug or a full disk after an import must not lose what was done: report it, then fail.
    const current = outcomes[outcomes.length - 1];
    if (current && !current.error) current.error = `stopped: ${(e as Error).message}`;
    await finish(settings, reporter, client, outcomes, rollback);
    throw e;
  } finally {
    unregister();
  }

  // 4. Report.
  return finish(settings, reporter, client, outcomes, rollback);
}
