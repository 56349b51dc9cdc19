/**
 * "Exactly the reviewed plan": on a push (the merge), the payload restore is about to import must be the
 * one the merged pull request's dry run showed (its fingerprint, hidden in the dry-run comment for this
 * config and server). A manual run has no reviewed plan: it says so and proceeds.
 */
import type { Settings } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { GitHubApi, type IssueComment } from '../github/api.ts';
import { markerScope, readMarkedValue } from '../github/pr-comment.ts';
import type { Reporter } from '../reporter.ts';

export interface PlanCheck {
  /** The merged pull request whose dry run was compared, if any. */
  pr?: number;
  comment?: IssueComment;
  /** Programs whose payload differs from the reviewed one. */
  differs: { id: string; reviewed?: string; now: string }[];
}

function refusalNote(settings: Settings, differs: PlanCheck['differs']): string {
  const lines = differs.map(
    (d) =>
      `- \`${d.id}\`: ${d.reviewed ? `reviewed \`${d.reviewed.slice(0, 12)}\`` : 'not in the reviewed dry run'}, now \`${d.now.slice(0, 12)}\``,
  );
  return [
    '',
    `#### ⛔ Restore to ${settings.server.url} refused at ${settings.github.sha?.slice(0, 7) ?? 'this commit'}`,
    '',
    'The payload differs from the one this dry run reviewed (the file changed after the review, or the server',
    'changed what restore keeps from it: sharing, organisation units, program lists):',
    ...lines,
    '',
    'Run the dry run again on a new pull request, or re-run the restore with `allow-plan-change: true`.',
  ].join('\n');
}

export async function checkReviewedPlan(
  settings: Settings,
  reporter: Reporter,
  programs: { id: string; fingerprint: string }[],
): Promise<PlanCheck> {
  const { eventName, sha } = settings.github;
  if (eventName !== 'push' || !sha) {
    reporter.info(
      `No reviewed plan to compare with (${eventName ? `${eventName} event` : 'run by hand'}, not a push of a merged pull request): proceeding.`,
    );
    return { differs: [] };
  }
  const api = new GitHubApi(settings.github, settings.githubToken ?? '', { log: (m) => reporter.debug(m) });
  const pr = await api.findMergedPullRequestForCommit(sha);
  if (!pr) {
    reporter.info(
      `Commit ${sha.slice(0, 7)} came from no merged pull request: no reviewed plan to compare; proceeding.`,
    );
    return { differs: [] };
  }
  // Every dry-run comment for this config and server: one over the whole config, or one per program subset
  // (a workflow matrix). Each program's reviewed fingerprint comes from the newest comment covering it.
  const ours: { comment: IssueComment; scope: 'all' | string[] }[] = [];
  for await (const comment of api.issueComments(pr.number)) {
    const scope = markerScope(comment.body, settings.config.path, settings.server.url);
    if (scope) ours.push({ comment, scope });
  }
  if (ours.length === 0) {
    const message =
      `pull request #${pr.number} has no dry-run comment for ${settings.config.path} on ${settings.server.url}: ` +
      'this change was not reviewed against this server (run dry-run with comment: true on pull requests, ' +
      'or set allow-plan-change: true)';
    if (!settings.allowPlanChange) throw new UserError(message);
    reporter.warning(`${message}; proceeding because allow-plan-change is true`);
    return { pr: pr.number, differs: [] };
  }
  const differs: PlanCheck['differs'] = [];
  let comment: IssueComment | undefined;
  for (const p of programs) {
    const covering = ours.filter((o) => o.scope === 'all' || o.scope.includes(p.id)).pop();
    const alone = covering && (covering.scope === 'all' ? programs.length === 1 : covering.scope.length === 1);
    const reviewed = covering
      ? (readMarkedValue(covering.comment.body, `fingerprint:${p.id}`) ??
        (alone ? readMarkedValue(covering.comment.body, 'fingerprint') : undefined))
      : undefined;
    comment ??= covering?.comment;
    if (reviewed !== p.fingerprint) {
      differs.push({ id: p.id, reviewed, now: p.fingerprint });
      if (covering) comment = covering.comment;
    }
  }
  if (differs.length === 0) {
    reporter.info(`The payload is exactly the one pull request #${pr.number}'s dry run reviewed.`);
    return { pr: pr.number, comment, differs };
  }
  const what = `the payload differs from the one pull request #${pr.number}'s dry run reviewed (${differs.map((d) => d.id).join(', ')})`;
  if (settings.allowPlanChange) {
    reporter.warning(`${what}; proceeding because allow-plan-change is true`);
    return { pr: pr.number, comment, differs };
  }
  // The refusal goes on the newest of our comments (a program no comment covers has none of its own).
  const noted = comment ?? (ours[ours.length - 1] as (typeof ours)[number]).comment;
  try {
    await api.updateIssueComment(noted.id, `${noted.body}\n${refusalNote(settings, differs)}`);
  } catch (e) {
    reporter.warning(`could not note the refusal on pull request #${pr.number}: ${(e as Error).message}`);
  }
  throw new UserError(`restore refused: ${what}. Run the dry run again, or set allow-plan-change: true`);
}
