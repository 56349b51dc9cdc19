/**
 * `dry-run`: the reference app's "Dry Run", turned into the check a reviewer reads before approving a
 * change to production. Builds exactly the payload restore would send (planAndValidate), validates it with
 * importMode=VALIDATE (never anything that could commit), says what would REALLY change (DHIS2 counts
 * every existing object as updated), and reports in the job summary, one PR comment and annotations on
 * the offending lines of the JSON file.
 */
import type { ProgramEntry, Settings } from '../config/types.ts';
import type { Dhis2Client, ImportReport } from '../dhis2/client.ts';
import { isUserError, UserError } from '../errors.ts';
import { GitHubApi } from '../github/api.ts';
import { readPullRequest } from '../github/event.ts';
import { commentMarker, fitComment, jobSummaryUrl, markedValue, upsertComment } from '../github/pr-comment.ts';
import { collection } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from './connect.ts';
import { eachProgram } from './each-program.ts';
import {
  combinedFingerprint,
  countsTable,
  detailSection,
  errorsSection,
  reportImport,
  worstStatus,
  type ProgramOutcome,
} from './import-summary.ts';
import { ObjectLocator, type MetadataFile } from './json-file.ts';
import { analysePlan, draftPlan, programSources, type ProgramPlan } from './plan.ts';
import { programScope } from './report-file.ts';

/** The only import parameters a dry run ever sends. importMode must be exactly VALIDATE (dhis2-api.md). */
export const VALIDATE_PARAMS = {
  importMode: 'VALIDATE',
  importStrategy: 'CREATE_AND_UPDATE',
  atomicMode: 'ALL',
} as const;

export const PROGRAM_CONCURRENCY = 4;

/** The payload collection of a DHIS2 class name (ProgramStage -> programStages, Category -> categories). */
function collectionFor(objectType: string, payload: Record<string, unknown>): string | undefined {
  const base = objectType.charAt(0).toLowerCase() + objectType.slice(1);
  return [`${base}s`, base.replace(/y$/, 'ies')].find((key) => Array.isArray(payload[key]));
}

/** Annotates each import error on the line of its object in the file (shown in the PR's diff view). */
export function annotateErrors(reporter: Reporter, planned: ProgramPlan, report: ImportReport): void {
  const locator = new ObjectLocator(planned.file);
  const payload = planned.plan.payload;
  for (const e of report.errors) {
    // mainId names the object an error is really about when it is embedded (a stage's data element), but
    // for a uniqueness error (E5003) it is the OTHER object that already holds the value.
    let uid = e.code === 'E5003' ? e.uid : (e.mainId ?? e.uid);
    if (uid === undefined && e.index !== undefined) {
      // No uid: the report still gives the object's type and index, which are the payload's, not the file's.
      const key = collectionFor(e.objectType, payload);
      const obj = key ? (payload[key] as { id?: string }[])[e.index] : undefined;
      uid = obj?.id;
    }
    reporter.error(`${e.code} ${e.objectType}${e.uid ? ` ${e.uid}` : ''}: ${e.message}`, locator.locate(uid));
  }
}

/**
 * Plans the program and validates the payload. The server validates while we work out what really
 * changes (the diff and fingerprint): on a large program the two take about as long.
 */
export async function planAndValidate(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
  file: MetadataFile,
  reporter: Reporter,
): Promise<{ planned: ProgramPlan; report: ImportReport }> {
  const draft = await draftPlan(client, settings, entry, file);
  const validation = client.importMetadata(draft.plan.payload, VALIDATE_PARAMS);
  // Let the request go out before the CPU-bound analysis takes the thread.
  await new Promise((resolve) => setImmediate(resolve));
  let planned: ProgramPlan;
  try {
    planned = analysePlan(draft);
  } catch (e) {
    await validation.catch(() => undefined);
    throw e;
  }
  const report = await validation;
  if (report.errors.length > 0) annotateErrors(reporter, planned, report);
  // A failing step always has its ::error:: line, even when DHIS2 gives no details.
  else if (report.status === 'ERROR')
    reporter.error(`program ${entry.id}: DHIS2 reports the import would fail (ERROR)`);
  return { planned, report };
}

export function outcomeOf(planned: ProgramPlan, report?: ImportReport): ProgramOutcome {
  const program = collection(planned.plan.payload, 'programs')[0];
  return {
    id: planned.entry.id,
    name: typeof program?.name === 'string' ? program.name : undefined,
    file: planned.file.path,
    fingerprint: planned.fingerprint,
    report,
    diff: planned.diff,
    plan: { stale: planned.plan.stale, notes: planned.plan.notes },
    onServer: planned.onServer,
  };
}

/** Without credentials nothing can be validated: say so plainly (a fork's missing secrets are caught at the edge). */
function checkCredentials(settings: Settings): void {
  if (settings.server.auth) return;
  throw new UserError(
    'no DHIS2 credentials: set username and password, or token (from secrets); an empty secret reads as missing',
  );
}

export function dryRunMarkdown(settings: Settings, serverVersion: string, programs: ProgramOutcome[]) {
  const status = worstStatus(programs);
  const icon = status === 'OK' ? '✅' : status === 'WARNING' ? '⚠️' : '❌';
  const header = `### ${icon} DHIS2 dry run: ${status} on ${settings.server.url} (DHIS2 ${serverVersion})`;
  const essential = [
    `Config \`${settings.config.path}\`, import validated with \`importMode=VALIDATE\`: nothing was changed on the server.`,
    '',
    countsTable(programs),
    '',
    errorsSection(programs),
  ]
    .join('\n')
    .trim();
  const detail = programs.map(detailSection).filter(Boolean).join('\n\n');
  const footer = `Fingerprint of the payload: \`${combinedFingerprint(programs)}\` (restore checks it against this review).`;
  return { header, essential, detail, footer, status };
}

export async function runDryRun(settings: Settings, reporter: Reporter): Promise<boolean> {
  const pr = readPullRequest(settings.github);
  checkCredentials(settings);
  const client = await connect(settings, reporter);

  const sources = await programSources(client, settings, reporter);
  const programs = await eachProgram(
    sources,
    reporter,
    PROGRAM_CONCURRENCY,
    async (source): Promise<ProgramOutcome> => {
      if ('error' in source) throw source.error;
      const { entry } = source;
      const { planned, report } = await planAndValidate(client, settings, entry, source.file, reporter);
      const outcome = outcomeOf(planned, report);
      reporter.info(
        `${outcome.name ?? entry.id} (${entry.id}): ${report.status}; created ${report.stats.created}, updated ${report.stats.updated} ` +
          `(${planned.diff.totals.changed} really changed, ${planned.diff.totals.unchanged} unchanged), ignored ${report.stats.ignored}`,
      );
      return outcome;
    },
    ({ entry }, error) => ({ id: entry.id, file: entry.file, error }),
  );

  const { status, fingerprint } = reportImport(settings, reporter, client, 'dry-run', programs);

  const md = dryRunMarkdown(settings, client.system.version, programs);
  await reporter.summary([md.header, '', md.essential, '', md.detail, '', md.footer].join('\n'));

  if (pr && settings.comment) {
    try {
      const api = new GitHubApi(settings.github, settings.githubToken ?? '', {
        fromFork: pr.fromFork,
        log: (m) => reporter.debug(m),
      });
      const marker = commentMarker(settings.config.path, settings.server.url, programScope(settings));
      const hidden = [
        markedValue('fingerprint', fingerprint),
        ...programs.map((p) => (p.fingerprint ? markedValue(`fingerprint:${p.id}`, p.fingerprint) : '')),
      ].filter(Boolean);
      const body = fitComment({
        header: [marker, ...hidden, md.header].join('\n'),
        essential: md.essential,
        detail: md.detail,
        footer: md.footer,
        summaryUrl: jobSummaryUrl(settings.github),
      });
      const result = await upsertComment(api, pr.number, marker, body);
      reporter.info(`Pull request #${pr.number}: comment ${result.action}${result.url ? ` (${result.url})` : ''}.`);
    } catch (e) {
      // The comment is a convenience; the check's status is the gate.
      if (!isUserError(e)) throw e;
      reporter.warning(`pull request comment skipped: ${e.message}`);
    }
  }

  if (status === 'ERROR') {
    const failed = programs.filter((p) => p.error || p.report?.status === 'ERROR').map((p) => p.id);
    reporter.info(`Dry run failed for ${failed.join(', ')}: the import would fail.`);
    return false;
  }
  return true;
}
