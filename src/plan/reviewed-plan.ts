/**
 * "Exactly the reviewed plan": on a push (the merge), the payload restore is about to import must be the
 * one the merged pull request's dry run showed (its fingerprint, hidden in the dry-run comment for this
 * config and server). Only comments written by the token's own identity count (the bot's, or the user of a
 * personal github-token): anyone can paste a marker and a fingerprint into a comment of their own.
 *
 * A review is a comment whose body the token's identity wrote and nobody else edited since (GitHub lets anyone with
 * write access edit the bot's comments, keeping the bot as author: GraphQL's `editor` says who changed it), made for
 * the merged pull request's final head commit. An edited review is refused with a note on the pull request.
 *
 * A push that no merged pull request brought in was never reviewed: it restores only with
 * allow-plan-change. A workflow_dispatch run (a person's explicit act) and a run by hand proceed, saying so.
 */
import type { Settings } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { bodyWrittenBy, GitHubApi, writtenBy, type IssueComment } from '../github/api.ts';
import { blocks, code, md } from '../github/markdown.ts';
import { markerScope, readMarkedValue } from '../github/pr-comment.ts';
import { deletionList, parseDeletionList } from '../metadata/changed-payload.ts';
import { decodeServerState, staleSince, type StaleObject } from '../metadata/server-state.ts';
import type { Reporter } from '../reporter.ts';

export interface PlanCheck {
  /** The merged pull request whose dry run was compared, if any. */
  pr?: number;
  comment?: IssueComment;
  /** Programs whose plan differs from the reviewed one. */
  differs: Difference[];
  /**
   * Per program, the deletions the review listed (`collection:id`), when a review was found: restore deletes
   * nothing else, even when allow-plan-change lets a changed plan through.
   */
  reviewedDeletions: Map<string, Set<string>>;
}

export interface Difference {
  id: string;
  reviewed?: string;
  now: string;
  /** Deletions now planned that the review did not list (`collection:id`). */
  unreviewedDeletions?: string[];
  /** Deletions the review listed that are no longer planned. */
  droppedDeletions?: string[];
}

/** A plan of restore as the check needs it: its fingerprint, its deletions, the server's side of it now. */
export interface ReviewedProgram {
  id: string;
  fingerprint: string;
  deletions: Readonly<Record<string, readonly string[]>>;
  /** metadata/server-state.ts, encoded: compared with the one the review recorded. */
  serverState?: string;
  /** An object's name for a message. */
  nameOf?: (id: string) => string;
}

const flat = (m: Map<string, Set<string>>): Set<string> =>
  new Set([...m].flatMap(([key, ids]) => [...ids].map((id) => `${key}:${id}`)));

function describe(d: Difference): string {
  const parts: string[] = [];
  if (d.unreviewedDeletions?.length) parts.push(`would also delete ${d.unreviewedDeletions.join(', ')}`);
  if (d.droppedDeletions?.length) parts.push(`no longer deletes ${d.droppedDeletions.join(', ')}`);
  return parts.join('; ');
}

function refusalNote(settings: Settings, differs: Difference[]): string {
  const lines = differs.map((d) => {
    const detail = describe(d);
    return (
      `- ${code(d.id)}: ${d.reviewed ? `reviewed ${code(d.reviewed.slice(0, 12))}` : 'not in the reviewed dry run'}, now ${code(d.now.slice(0, 12))}` +
      (detail ? ` (${md`${detail}`.text})` : '')
    );
  });
  const where = settings.label ? md`${settings.label} (${settings.server.url})` : md`${settings.server.url}`;
  return blocks(
    md`#### ⛔ Restore to ${where} refused at ${settings.github.sha?.slice(0, 7) ?? 'this commit'}`,
    'The plan differs from the one this dry run reviewed (the file changed after the review, or the server\n' +
      'changed since: what restore keeps from it, or the rules it would delete):',
    lines.join('\n'),
    'Run the dry run again on a new pull request, or re-run the restore with `allow-plan-change: true`.',
  );
}

/** The note that an edited comment was refused as a review: a comment of its own, never an edit of the edited one. */
function editedNote(settings: Settings, who: string): string {
  const where = settings.label ? md`${settings.label} (${settings.server.url})` : md`${settings.server.url}`;
  return `${blocks(
    md`#### ⛔ Restore to ${where} refused at ${settings.github.sha?.slice(0, 7) ?? 'this commit'}`,
    md`The dry-run comment of this pull request was edited by ${who} after the bot wrote it. An edited comment is no review: its plan may not be the one the reviewers saw, so nothing was imported.`,
    'Check the change on the server, then run the restore by hand (`workflow_dispatch`), or re-run it with `allow-plan-change: true`.',
  )}\n`;
}

async function noteOnPullRequest(
  api: GitHubApi,
  pr: number,
  reporter: Reporter,
  body: string,
  what: string,
): Promise<void> {
  try {
    await api.createIssueComment(pr, body);
  } catch (e) {
    reporter.warning(`could not note ${what} on pull request #${pr}: ${(e as Error).message}`);
  }
}

/** "program: X (uid) changed: description, formName; Y created" */
function staleText(s: { program: ReviewedProgram; objects: StaleObject[] }): string {
  if (s.objects.length === 0) return `${s.program.id}: an object the import overwrites changed`;
  const parts = s.objects.map((o) => {
    const name = s.program.nameOf?.(o.id) ?? o.id;
    if (o.what !== 'changed') return `${name} ${o.what} on the server`;
    return `${name} changed${o.fields ? ` (${o.fields.join(', ')})` : ''}`;
  });
  return `${s.program.id}: ${parts.join(', ')}`;
}

function staleNote(settings: Settings, stale: { program: ReviewedProgram; objects: StaleObject[] }[]): string {
  const where = settings.label ? md`${settings.label} (${settings.server.url})` : md`${settings.server.url}`;
  return blocks(
    md`#### ⛔ Restore to ${where} refused at ${settings.github.sha?.slice(0, 7) ?? 'this commit'}`,
    'The server changed since this dry run, on objects the restore would overwrite or delete:',
    stale.map((s) => md`- ${staleText(s)}`.text).join('\n'),
    'Run the dry run again (it shows the server as it is now), or re-run the restore with `allow-plan-change: true`.',
  );
}

export async function checkReviewedPlan(
  settings: Settings,
  reporter: Reporter,
  programs: ReviewedProgram[],
): Promise<PlanCheck> {
  const reviewedDeletions = new Map<string, Set<string>>();
  const { eventName, sha } = settings.github;
  if (eventName === 'workflow_dispatch') {
    reporter.notice(
      'No reviewed plan to compare with (workflow_dispatch event: started by a person, on purpose): proceeding without one.',
    );
    return { differs: [], reviewedDeletions };
  }
  if (eventName !== 'push' || !sha) {
    reporter.info(
      `No reviewed plan to compare with (${eventName ? `${eventName} event` : 'run by hand'}, not a push of a merged pull request): proceeding.`,
    );
    return { differs: [], reviewedDeletions };
  }
  const api = new GitHubApi(settings.github, settings.githubToken ?? '', { log: (m) => reporter.debug(m) });
  const pr = await api.findMergedPullRequestForCommit(sha);
  if (!pr) {
    const message =
      `commit ${sha.slice(0, 7)} came from no merged pull request: nobody reviewed a dry run of it ` +
      '(merge changes through a pull request, run the workflow by hand with workflow_dispatch, or set allow-plan-change: true)';
    if (!settings.allowPlanChange) throw new UserError(`restore refused: ${message}`);
    reporter.warning(`${message}; proceeding because allow-plan-change is true`);
    return { differs: [], reviewedDeletions };
  }
  // Every dry-run comment for this config and server: one over the whole config, or one per program subset
  // (a workflow matrix). Each program's reviewed fingerprint comes from the newest comment covering it.
  // Only the token's own comments: a person's comment with a copied marker and fingerprint is not a review.
  const me = await api.identity();
  const ours: { comment: IssueComment; scope: 'all' | string[] }[] = [];
  const edited: IssueComment[] = [];
  let others = 0;
  for await (const comment of api.reviewComments(pr.number)) {
    const scope = markerScope(comment.body, settings.config.path, settings.server.url);
    if (!scope) continue;
    if (bodyWrittenBy(comment, me)) ours.push({ comment, scope });
    else if (writtenBy(comment, me)) edited.push(comment);
    else others++;
  }
  if (others > 0) {
    reporter.warning(
      `pull request #${pr.number}: ignored ${others} dry-run comment${others === 1 ? '' : 's'} not written by ${me.login} (only the dry run's own comments count as the review)`,
    );
  }
  if (edited.length > 0) {
    const who = [...new Set(edited.map((c) => c.editor?.login ?? 'a deleted account'))].join(', ');
    const message =
      `the dry-run comment of pull request #${pr.number} was edited by ${who} after ${me.login} wrote it: ` +
      'an edited comment is no review (its plan may not be the one the reviewers saw)';
    if (!settings.allowPlanChange) {
      await noteOnPullRequest(api, pr.number, reporter, editedNote(settings, who), 'the refusal');
      throw new UserError(
        `restore refused before any import: ${message}. Check the change, then run the restore by hand ` +
          '(workflow_dispatch), or set allow-plan-change: true',
      );
    }
    // Nothing of an edited comment is trusted, the deletions it lists included: restore deletes nothing.
    reporter.warning(`${message}; proceeding because allow-plan-change is true (deleting nothing)`);
    return { pr: pr.number, differs: [], reviewedDeletions };
  }
  if (ours.length === 0) {
    const message =
      `pull request #${pr.number} has no dry-run comment for ${settings.config.path} on ${settings.server.url}: ` +
      'this change was not reviewed against this server (run dry-run with comment: true on pull requests, ' +
      'or set allow-plan-change: true)';
    if (!settings.allowPlanChange) throw new UserError(message);
    reporter.warning(`${message}; proceeding because allow-plan-change is true`);
    return { pr: pr.number, differs: [], reviewedDeletions };
  }
  /** A refusal goes on the comment it is about, else the newest of ours (a program no comment covers has none). */
  const noteRefusal = async (note: string): Promise<void> => {
    const noted = comment ?? (ours[ours.length - 1] as (typeof ours)[number]).comment;
    try {
      await api.updateIssueComment(noted.id, `${blocks(noted.body, note)}\n`);
    } catch (e) {
      reporter.warning(`could not note the refusal on pull request #${pr.number}: ${(e as Error).message}`);
    }
  };
  const differs: PlanCheck['differs'] = [];
  const stale: { program: ReviewedProgram; objects: StaleObject[] }[] = [];
  const unbound: string[] = [];
  let comment: IssueComment | undefined;
  for (const p of programs) {
    const covering = ours.filter((o) => o.scope === 'all' || o.scope.includes(p.id)).pop();
    const alone = covering && (covering.scope === 'all' ? programs.length === 1 : covering.scope.length === 1);
    const reviewed = covering
      ? (readMarkedValue(covering.comment.body, `fingerprint:${p.id}`) ??
        (alone ? readMarkedValue(covering.comment.body, 'fingerprint') : undefined))
      : undefined;
    comment ??= covering?.comment;
    const listed = covering ? readMarkedValue(covering.comment.body, `deletions:${p.id}`) : undefined;
    // A review lists what restore deletes; none listed (or no review of this program) means none.
    const reviewedSet = flat(parseDeletionList(listed ?? ''));
    reviewedDeletions.set(p.id, reviewedSet);
    if (reviewed !== p.fingerprint) {
      const now = flat(parseDeletionList(deletionList(p.deletions)));
      const difference: Difference = { id: p.id, reviewed, now: p.fingerprint };
      const unreviewed = [...now].filter((d) => !reviewedSet.has(d));
      const dropped = [...reviewedSet].filter((d) => !now.has(d));
      if (unreviewed.length > 0) difference.unreviewedDeletions = unreviewed;
      if (dropped.length > 0) difference.droppedDeletions = dropped;
      differs.push(difference);
      if (covering) comment = covering.comment;
      continue;
    }
    // The same plan: is the server still as the review saw it?
    const recorded = covering ? readMarkedValue(covering.comment.body, `server:${p.id}`) : undefined;
    const reviewedState = recorded !== undefined ? decodeServerState(recorded) : undefined;
    const nowState = p.serverState !== undefined ? decodeServerState(p.serverState) : undefined;
    if (!reviewedState || !nowState) {
      if (covering) unbound.push(p.id);
      continue;
    }
    const changedSince = staleSince(reviewedState, nowState);
    if (changedSince) stale.push({ program: p, objects: changedSince });
  }
  if (unbound.length > 0) {
    reporter.warning(
      `pull request #${pr.number}: the dry-run comment does not record the server's state of ${unbound.join(', ')} (written by an older version): a change on the server since the review is not detected`,
    );
  }
  // The review must be of the pull request's final head: a review of an earlier commit did not see the last push.
  const reviewedHead = comment ? readMarkedValue(comment.body, 'head') : undefined;
  if (comment && reviewedHead === undefined) {
    reporter.warning(
      `pull request #${pr.number}: the dry-run comment does not say which commit it reviewed (written by an older version): only its plan is compared`,
    );
  } else if (reviewedHead !== undefined && pr.headSha !== undefined && reviewedHead !== pr.headSha) {
    const message =
      `the dry run of pull request #${pr.number} reviewed commit ${reviewedHead.slice(0, 7)}, not its last commit ` +
      `${pr.headSha.slice(0, 7)}: the last push was never reviewed (run the dry run on every push of the pull request, ` +
      'and require it to pass before merging)';
    if (!settings.allowPlanChange) throw new UserError(`restore refused before any import: ${message}`);
    reporter.warning(`${message}; proceeding because allow-plan-change is true`);
  }
  if (differs.length === 0 && stale.length > 0) {
    const what =
      `the server changed since pull request #${pr.number}'s dry run: ${stale.map(staleText).join('; ')}; ` +
      'the restore would overwrite what nobody reviewed';
    if (settings.allowPlanChange) {
      reporter.warning(`${what}; proceeding because allow-plan-change is true (deleting only what the review listed)`);
      return { pr: pr.number, comment, differs, reviewedDeletions };
    }
    await noteRefusal(staleNote(settings, stale));
    throw new UserError(
      `restore refused before any import: ${what}. Run the dry run again (it shows the server as it is now), or set allow-plan-change: true`,
    );
  }
  if (differs.length === 0) {
    reporter.info(`The plan is exactly the one pull request #${pr.number}'s dry run reviewed.`);
    return { pr: pr.number, comment, differs, reviewedDeletions };
  }
  const details = differs.map((d) => (describe(d) ? `${d.id}: ${describe(d)}` : d.id)).join('; ');
  const what = `the plan differs from the one pull request #${pr.number}'s dry run reviewed (${details})`;
  if (settings.allowPlanChange) {
    reporter.warning(`${what}; proceeding because allow-plan-change is true (deleting only what the review listed)`);
    return { pr: pr.number, comment, differs, reviewedDeletions };
  }
  await noteRefusal(refusalNote(settings, differs));
  throw new UserError(
    `restore refused before any import: ${what}. Run the dry run again, or set allow-plan-change: true`,
  );
}
