/**
 * Reads the pull request a workflow run is about from the runner's event file ($GITHUB_EVENT_PATH, handed
 * in through GitHubContext: nothing here reads the environment).
 */
import { readFileSync } from 'node:fs';
import type { GitHubContext } from '../config/types.ts';
import { UserError } from '../errors.ts';

/** Events whose payload carries a `pull_request` we can comment on. */
const PULL_REQUEST_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target']);

export interface PullRequestInfo {
  number: number;
  /** The PR head commit; on `pull_request` the checked-out commit is a merge commit, not this one. */
  headSha?: string;
  /** Branch the PR merges into. */
  baseRef?: string;
  /** The base branch's commit when the event fired (`pull_request.base.sha`): "before the change" for check. */
  baseSha?: string;
  /**
   * The head branch lives in another repository. On a `pull_request` event GitHub then hands the job a
   * read-only GITHUB_TOKEN (and no secrets), so writing a comment fails with 403.
   */
  fromFork: boolean;
}

export function isPullRequestEvent(ctx: Pick<GitHubContext, 'eventName'>): boolean {
  return ctx.eventName !== undefined && PULL_REQUEST_EVENTS.has(ctx.eventName);
}

/**
 * The pull request of a `pull_request`/`pull_request_target` run; undefined for any other event (push,
 * workflow_dispatch, schedule, ...). A pull-request event whose payload cannot be read is a UserError: it
 * means the runner contract is broken, and silently skipping the comment would hide that.
 */
export function readPullRequest(ctx: Pick<GitHubContext, 'eventName' | 'eventPath'>): PullRequestInfo | undefined {
  if (!isPullRequestEvent(ctx)) return undefined;
  if (!ctx.eventPath) {
    throw new UserError(`the ${ctx.eventName} event has no event file (GITHUB_EVENT_PATH is not set)`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(ctx.eventPath, 'utf8'));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`cannot read the ${ctx.eventName} event file ${ctx.eventPath}: ${reason}`);
  }
  const pr = field(payload, 'pull_request');
  // `number` sits at the top level of the payload and again on pull_request; accept either.
  const number = field(pr, 'number') ?? field(payload, 'number');
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    throw new UserError(`the ${ctx.eventName} event file ${ctx.eventPath} has no pull request number`);
  }
  const head = field(pr, 'head');
  const base = field(pr, 'base');
  const headRepo = field(field(head, 'repo'), 'full_name');
  const baseRepo = field(field(base, 'repo'), 'full_name');
  return {
    number,
    headSha: stringOrUndefined(field(head, 'sha')),
    baseRef: stringOrUndefined(field(base, 'ref')),
    baseSha: objectName(field(base, 'sha')),
    // head.repo is null when the fork was deleted: still a fork, and still a read-only token.
    fromFork:
      typeof baseRepo === 'string' &&
      (typeof headRepo !== 'string' || headRepo.toLowerCase() !== baseRepo.toLowerCase()),
  };
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** A commit sha from the event, only when it is one (it is handed to git). */
function objectName(value: unknown): string | undefined {
  return typeof value === 'string' && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(value) ? value : undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Why a dry run of a pull request from a fork cannot sign in to DHIS2, and what to do instead. */
export function forkWithoutSecretsMessage(pr: number, command = 'dry-run'): string {
  return (
    `pull request #${pr} comes from a fork, and GitHub gives no secrets to workflows of fork pull requests: ` +
    `${command} cannot sign in to DHIS2. A maintainer can push the change to a branch of this repository ` +
    '(its pull request then gets the dry run), or run the workflow by hand after reviewing the change.'
  );
}
