/**
 * `dry-run`: the reference app's "Dry Run", turned into the check a reviewer reads before approving a
 * change to production. Builds exactly the payload restore would send (plan-validate.ts), validates it with
 * importMode=VALIDATE (never anything that could commit), says what would REALLY change (DHIS2 counts
 * every existing object as updated), and reports in the job summary, one PR comment and annotations on
 * the offending lines of the JSON file.
 */
import type { Settings } from '../config/types.ts';
import { isUserError, UserError } from '../errors.ts';
import { GitHubApi } from '../github/api.ts';
import { cell, code } from '../github/markdown.ts';
import { readPullRequest } from '../github/event.ts';
import { commentMarker, fitComment, jobSummaryUrl, markedValue, upsertComment } from '../github/pr-comment.ts';
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
import { programSources } from './plan.ts';
import { outcomeOf, planAndValidate } from './plan-validate.ts';
import { programScope } from './report-file.ts';

/** Programs planned and validated at once: each is a few requests and a VALIDATE the server works on. */
const PROGRAM_CONCURRENCY = 4;

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
  const header = `### ${icon} DHIS2 dry run: ${status} on ${cell(settings.server.url)} (DHIS2 ${cell(serverVersion)})`;
  const essential = [
    `Config ${code(settings.config.path)}, import validated with \`importMode=VALIDATE\`: nothing was changed on the server.`,
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
