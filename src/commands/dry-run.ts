/**
 * `dry-run`: the reference app's "Dry Run", turned into the check a reviewer reads before approving a
 * change to production. Builds exactly the payload restore would send (plan/validate-plan.ts), validates it with
 * importMode=VALIDATE (never anything that could commit), says what would REALLY change (DHIS2 counts
 * every existing object as updated), and reports in the job summary, one PR comment and annotations on
 * the offending lines of the JSON file.
 */
import type { Settings } from '../config/types.ts';
import { isUserError, UserError } from '../errors.ts';
import { GitHubApi } from '../github/api.ts';
import { blocks, cell, code, programLabel, table } from '../github/markdown.ts';
import { announceChecks } from '../check/announce.ts';
import type { Baseline, ProgramBefore } from '../check/baseline.ts';
import { checkTests, eachCheckInput, writeJunit } from '../check/program-files.ts';
import { startChecker, type Checker } from '../check/worker-client.ts';
import {
  checkProgram,
  checksFail,
  existingLine,
  judgeChecks,
  type CheckResult,
  type ProgramChecked,
} from '../check/run-checks.ts';
import { countPlanImpact } from '../data-impact/count.ts';
import {
  announceDataImpact,
  dataImpactSection,
  impactFailureLine,
  reportEntries,
  type ProgramImpact,
} from '../data-impact/section.ts';
import { deletionList } from '../metadata/changed-payload.ts';
import { decodeServerState, encodeServerState } from '../metadata/server-state.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import { readPullRequest } from '../github/event.ts';
import {
  commentMarker,
  fitComment,
  jobSummaryUrl,
  markedValue,
  provenanceLine,
  serverTitle,
  upsertComment,
} from '../github/pr-comment.ts';
import type { Reporter } from '../reporter.ts';
import { connect } from '../steps/connect.ts';
import { eachProgram } from '../steps/each-program.ts';
import {
  changesLine,
  combinedFingerprint,
  countsTable,
  detailSection,
  errorsSection,
  reportImport,
  worstStatus,
  type ProgramOutcome,
} from '../report/import-summary.ts';
import { programSources } from '../plan/plan.ts';
import { ObjectLocator, type MetadataFile } from '../plan/metadata-file.ts';
import { outcomeOf, planAndValidate } from '../plan/validate-plan.ts';
import { programScope } from '../report/report-file.ts';

/** Programs planned and validated at once: each is a few requests and a VALIDATE the server works on. */
const PROGRAM_CONCURRENCY = 4;

/**
 * The dry run's report, in parts the summary and the comment both use. What really changes comes first (one
 * sentence, then the counts with it as the first columns); DHIS2's own counts follow; the per-program
 * detail (cut first when the comment is too long) after. `sha` is the commit reviewed.
 */
export function dryRunMarkdown(
  settings: Settings,
  serverVersion: string,
  programs: ProgramOutcome[],
  sha?: string,
  now?: Date,
  gate: { impact?: string; failsOn?: string[] } = {},
) {
  const imported = worstStatus(programs);
  // The title is the gate's verdict: an import that would succeed still fails the dry run on what `failsOn` names.
  const failsOn = imported === 'ERROR' ? [] : (gate.failsOn ?? []);
  const status = failsOn.length > 0 ? 'ERROR' : imported;
  const icon = status === 'OK' ? '✅' : status === 'WARNING' ? '⚠️' : '❌';
  const header = blocks(
    `### ${icon} DHIS2 dry run${serverTitle(settings.label)}: ${status} on ${cell(settings.server.url)} (DHIS2 ${cell(serverVersion)})`,
    provenanceLine(settings.github, sha ?? settings.github.sha, now),
    failsOn.length > 0
      ? `The import itself would succeed (DHIS2: ${cell(imported)}); the dry run fails on ${failsOn.join(' and ')}.`
      : '',
  );
  const impact = gate.impact ?? '';
  const essential = blocks(
    changesLine(programs),
    impact,
    `Config ${code(settings.config.path)}, import validated with \`importMode=VALIDATE\`: nothing was changed on the server.`,
    countsTable(programs),
    errorsSection(programs),
  );
  const detail = blocks(...programs.map(detailSection));
  const footer = `Fingerprint of the payload: \`${combinedFingerprint(programs)}\` (restore checks it against this review).`;
  return { header, essential, detail, footer, status };
}

/**
 * Short "Checks" section for the PR comment: per program, the counts (the job summary has the details), and
 * one line for the problems that were already on the server.
 */
function checksSection(result: CheckResult): string {
  const rows = result.programs.map((p) => {
    const invalid = p.expressions.filter((e) => e.severity === 'error');
    return [
      programLabel(p.id, p.name),
      p.expressions.length,
      invalid.filter((e) => !e.existing).length + p.references.filter((r) => !r.existing).length,
      invalid.filter((e) => e.existing).length + p.references.filter((r) => r.existing).length,
      p.expressions.filter((e) => e.severity === 'warning').length,
      p.tests.filter((t) => t.passed).length,
      p.tests.filter((t) => !t.passed).length,
    ];
  });
  const failed = result.programs.flatMap((p) => p.tests.filter((t) => !t.passed).map((t) => `${t.name} (${t.file})`));
  const icon = checksFail(result) ? '❌' : result.warnings > 0 || result.errorsExisting > 0 ? '⚠️' : '✅';
  const brought = result.failOn === 'new' && !result.strictBecause ? 'brought by this change' : 'failing the gate';
  return blocks(
    `#### ${icon} Checks: program rules and indicators (DHIS2's rule engine and expression parser)`,
    table(
      ['program', 'expressions', `problems ${brought}`, 'already there', 'warnings', 'tests passed', 'tests failed'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    existingLine(result),
    result.strictBecause ? `Every problem counts: ${cell(result.strictBecause)}.` : '',
    failed.length > 0 ? `Failed rule tests: ${failed.slice(0, 10).map(cell).join('; ')}` : '',
  );
}

/**
 * The checks of `check` on the files of the run, gathered program by program: each file is checked while the
 * server answers for its program, then its problems before the change (from the server's copy the plan read)
 * are worked out, and only the verdicts are kept. None with `backup-id` (the metadata comes from the server:
 * `check` checks files only).
 */
class DryRunChecks {
  private readonly checked = new Map<string, Promise<ProgramChecked>>();
  private readonly before = new Map<string, Promise<ProgramBefore | null | string>>();

  private constructor(
    private readonly settings: Settings,
    private readonly checker: Checker,
  ) {}

  static of(settings: Settings, reporter: Reporter): DryRunChecks | undefined {
    if (settings.backup.id) return undefined;
    return new DryRunChecks(settings, startChecker(checkTests(settings), { onInThread: (why) => reporter.info(why) }));
  }

  /** Starts the file's own checks (in the checks' worker when there is one: the plan goes on meanwhile). */
  file(id: string, file: MetadataFile): void {
    const input = { id, file: file.path, inRepo: file.inRepo, text: file.text, doc: file.doc };
    const checking = this.checker.file(input);
    checking.catch(() => {}); // awaited by settle
    this.checked.set(id, checking);
    this.before.set(id, Promise.resolve('its metadata on the server could not be read'));
  }

  /**
   * Starts working out the program's problems on the server now (null: not there yet), from what the plan read
   * (with fail-on new only: fail-on all compares with nothing). Always from the server's copy itself: a plan
   * that changes nothing still says nothing of what the file lacks (an attribute a rule variable reads, a
   * collection the plan leaves alone), so the file's problems are not the server's.
   */
  server(id: string, current: MetadataDocument | undefined): void {
    if (!this.checked.has(id) || this.settings.failOn !== 'new') return;
    const before = current ? this.checker.before(current, id) : Promise.resolve(null);
    before.catch(() => {}); // awaited by finish
    this.before.set(id, before);
  }

  /** Waits for the program's checks: a UserError of them (its file holds no such program) is the program's. */
  async settle(id: string): Promise<void> {
    await this.checked.get(id);
  }

  /** Judges what was gathered (config order) against the server (fail-on new), and reports it; undefined if none. */
  async finish(reporter: Reporter): Promise<CheckResult | undefined> {
    try {
      const programs: ProgramChecked[] = [];
      const before = new Map<string, ProgramBefore | null | string>();
      for (const { id } of this.settings.programs) {
        const checking = this.checked.get(id);
        if (!checking) continue;
        try {
          programs.push(await checking);
        } catch (e) {
          if (isUserError(e)) continue; // that program's own error, reported with it
          throw e;
        }
        before.set(id, await (this.before.get(id) as Promise<ProgramBefore | null | string>));
      }
      if (programs.length === 0) return undefined;
      const evaluation = { programs, engineMs: programs.reduce((ms, p) => ms + p.engineMs, 0) };
      const baseline: Baseline | undefined =
        this.settings.failOn === 'new' ? { where: 'on the server', programs: before } : undefined;
      const result = judgeChecks(evaluation, { failOn: this.settings.failOn, baseline });
      announceChecks(reporter, result);
      writeJunit(this.settings, result);
      return result;
    } finally {
      await this.checker.close();
    }
  }
}

/**
 * A fork's pull request: the checks of the files that can be read, with nothing to compare with (a file that
 * can't be read is left out: there is no program run to report it).
 */
async function checksWithoutServer(settings: Settings, reporter: Reporter): Promise<void> {
  if (settings.backup.id) return;
  const tests = checkTests(settings);
  const programs: ProgramChecked[] = [];
  for (const input of eachCheckInput(settings, { skipUnreadable: true })) {
    programs.push(await checkProgram(input, tests));
  }
  if (programs.length === 0) return;
  const checks = judgeChecks(
    { programs, engineMs: programs.reduce((ms, p) => ms + p.engineMs, 0) },
    {
      failOn: settings.failOn,
      strictBecause: 'the server is out of reach of this run (a pull request from a fork gets no secrets)',
    },
  );
  announceChecks(reporter, checks);
  await reporter.summary(checks.markdown);
}

/**
 * The server's side of one program's review within its share of the comment (65,536 characters in all): the
 * overall hash always fits, so a change on the server is always detected; past the share, fewer objects are named.
 */
function fitState(encoded: string, programCount: number): string {
  const state = decodeServerState(encoded);
  return state ? encodeServerState(state, Math.floor(SERVER_STATE_BUDGET / Math.max(1, programCount))) : encoded;
}

/** Characters of the comment the recorded server states may take together. */
const SERVER_STATE_BUDGET = 24_000;

export async function runDryRun(settings: Settings, reporter: Reporter): Promise<boolean> {
  const pr = readPullRequest(settings.github);
  if (settings.serverUnavailable) {
    // A fork's pull request: the checks run; the import can't be validated without the secrets.
    await checksWithoutServer(settings, reporter);
    reporter.setOutput('status', 'ERROR');
    throw new UserError(settings.serverUnavailable);
  }
  const gathering = DryRunChecks.of(settings, reporter);
  const client = await connect(settings, reporter);
  const impacts: ProgramImpact[] = [];
  const locators = new Map<string, ObjectLocator>();

  const sources = await programSources(client, settings, reporter);
  const programs = await eachProgram(
    sources,
    reporter,
    PROGRAM_CONCURRENCY,
    async (source): Promise<ProgramOutcome> => {
      const { entry } = source;
      const { planned, report } = await planAndValidate(
        client,
        settings,
        source,
        reporter,
        gathering && (async (file) => gathering.file(entry.id, file)),
      );
      gathering?.server(entry.id, planned.current);
      const outcome = outcomeOf(planned, report);
      // The records on the server that the change would orphan or hide (no request when it touches none).
      const items = await countPlanImpact(client, {
        programId: entry.id,
        before: planned.current,
        serverObjects: planned.serverObjects,
        after: planned.plan.payload,
        diff: planned.diff,
      });
      if (items.length > 0) {
        const impact = { program: { id: entry.id, ...(outcome.name ? { name: outcome.name } : {}) }, items };
        impacts.push(impact);
        locators.set(entry.id, new ObjectLocator(planned.file));
        outcome.dataImpact = reportEntries(impact);
      }
      reporter.info(
        `${outcome.name ?? entry.id} (${entry.id}): ${report.status}; created ${report.stats.created}, updated ${report.stats.updated} ` +
          `(${planned.diff.totals.changed} really changed, ${planned.diff.totals.unchanged} unchanged), ignored ${report.stats.ignored}`,
      );
      await gathering?.settle(entry.id);
      return outcome;
    },
    ({ entry }, error) => ({ id: entry.id, file: entry.file, error }),
  );

  impacts.sort(
    (a, b) =>
      sources.findIndex((x) => x.entry.id === a.program.id) - sources.findIndex((x) => x.entry.id === b.program.id),
  );
  const impact = announceDataImpact(reporter, impacts, settings.dataImpact, (id, at) =>
    locators.get(id)?.locate(at.uid, { property: at.property }),
  );
  const checks = await gathering?.finish(reporter);
  const checksFailed = checks !== undefined && checksFail(checks);
  const { status, fingerprint } = reportImport(settings, reporter, client, 'dry-run', programs, {
    checks: checks?.programs,
    failOn: settings.failOn,
  });
  // The gate is both: the import would succeed and the checks pass.
  if (checksFailed || impact.fails) reporter.setOutput('status', 'ERROR');

  const md = dryRunMarkdown(settings, client.system.version, programs, pr?.headSha, undefined, {
    impact: dataImpactSection(impacts, settings.dataImpact),
    failsOn: [...(checksFailed ? ['the checks'] : []), ...(impact.fails ? ['the data already collected'] : [])],
  });
  const checksPart = checks ? checksSection(checks) : '';
  await reporter.summary(`${blocks(md.header, md.essential, checks?.markdown, md.detail, md.footer)}\n`);

  if (pr && settings.comment) {
    try {
      const api = new GitHubApi(settings.github, settings.githubToken ?? '', {
        fromFork: pr.fromFork,
        log: (m) => reporter.debug(m),
      });
      const marker = commentMarker(settings.config.path, settings.server.url, programScope(settings));
      const hidden = [
        markedValue('fingerprint', fingerprint),
        // The commit reviewed: restore trusts the review only for the merged pull request's final head.
        ...(pr.headSha ? [markedValue('head', pr.headSha)] : []),
        ...programs.map((p) => (p.fingerprint ? markedValue(`fingerprint:${p.id}`, p.fingerprint) : '')),
        // What the server held of every object the plan touches: restore refuses when it changed since.
        ...programs.map((p) =>
          p.serverState ? markedValue(`server:${p.id}`, fitState(p.serverState, programs.length)) : '',
        ),
        // What restore would delete, as reviewed: restore names what differs when the server changed since.
        ...programs.map((p) => (p.plan ? markedValue(`deletions:${p.id}`, deletionList(p.plan.stale)) : '')),
      ].filter(Boolean);
      const body = fitComment({
        header: [marker, ...hidden, md.header].join('\n'),
        essential: blocks(md.essential, checksPart),
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
  // One line for the gate: each part that fails it (the import itself would succeed).
  const reasons: string[] = [];
  if (checksFailed) {
    const what = checks.failOn === 'new' && !checks.strictBecause ? ' that this change brings' : '';
    reasons.push(
      `the checks found ${checks.errors} invalid expressions or broken references${what} and ` +
        `${checks.testsFailed} failed rule tests`,
    );
  }
  if (impact.fails) reasons.push(`${impactFailureLine(impact)} (data-impact: warn reports this without failing)`);
  if (reasons.length > 0) {
    reporter.error(`dry run failed: ${reasons.join('; and ')} (the import itself would succeed)`);
    return false;
  }
  return true;
}
