/**
 * A thin client over the few GitHub REST endpoints the tool uses: the issue comments of a pull request,
 * the pull requests of a commit, and for the export's pull-request mode the pull requests of a branch (list,
 * open, update, label) and the deletion of that branch.
 *
 * Built on @actions/github's getOctokit rather than axios: it is already in the bundle (@actions/artifact
 * depends on it), it sends the token the way GitHub expects, and it routes through the runner's proxy
 * settings (HTTPS_PROXY/NO_PROXY via @actions/http-client), which self-hosted runners often need.
 * Pagination, retries and timeouts are done here, per request, so each page gets its own timeout and a
 * retry never repeats a request that could create a second comment.
 *
 * Every failure becomes a GitHubApiError: one line saying what was refused and what to change, never the
 * token (it is registered as a secret and every message passes through redact()).
 */
import type { getOctokit } from '@actions/github';
import type { GitHubContext } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { redact, registerSecret } from '../util/secrets.ts';
import {
  REVIEW_COMMENTS_QUERY,
  graphqlComment,
  nextLink,
  toComment,
  toPull,
  toPullRequest,
  unexpected,
  type CommitPullRequest,
  type IssueComment,
  type PageInfo,
  type PullRequest,
} from './api-answers.ts';
import { causes, dataOf, GitHubApiError, githubMessage, headersOf, isRateLimited, statusOf } from './api-errors.ts';
import { ACTIONS_BOT, type Identity } from './comment-authors.ts';
import { keyTable } from '../util/own-keys.ts';

export type { CommitPullRequest, IssueComment, PullRequest } from './api-answers.ts';
export { nextLink } from './api-answers.ts';
export { GitHubApiError, type GitHubFailure } from './api-errors.ts';
export { ACTIONS_BOT, bodyWrittenBy, writtenBy, type Identity } from './comment-authors.ts';

/** What upsertComment needs; GitHubApi implements it, tests may pass a fake. */
export interface IssueCommentsApi {
  /** Who this token writes as: only its own comments are ever read for a review or edited. */
  identity(): Promise<Identity>;
  /** Comments in the order GitHub lists them (oldest first), page by page, so a caller can stop early. */
  issueComments(issue: number): AsyncIterable<IssueComment>;
  createIssueComment(issue: number, body: string): Promise<IssueComment>;
  updateIssueComment(commentId: number, body: string): Promise<IssueComment>;
}

export interface GitHubApiOptions {
  /** The pull request comes from a fork: a 403 is then explained as the fork's read-only token. */
  fromFork?: boolean;
  /** Per request (each page of a list is one request). */
  timeoutMs?: number;
  /** Retries after the first attempt, for requests that can safely be repeated (GET, PATCH). */
  retries?: number;
  /** Base of the exponential backoff between retries. */
  retryDelayMs?: number;
  /** Debug lines (no secrets reach it). */
  log?: (message: string) => void;
}

/** GitHub's largest page for these endpoints: a PR with hundreds of comments then takes a few requests. */
const PER_PAGE = 100;
/** Upper bound of pages read, so a misbehaving server (or a Link loop) cannot keep us busy forever. */
const MAX_PAGES = 200;
const MAX_RETRY_DELAY_MS = 30_000;
const NETWORK_CODES: Readonly<Record<string, string>> = keyTable({
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
});
const RETRY_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);
/** Identities learned in this run, per API URL and token. */
const IDENTITIES = new Map<string, Promise<Identity>>();

type Octokit = ReturnType<typeof getOctokit>;

interface RawResponse {
  status: number;
  headers: Record<string, string | number | undefined>;
  data: unknown;
}

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path relative to the API base, or an absolute URL (a Link header's next page). */
  url: string;
  body?: Record<string, unknown>;
  /** For messages: "list the comments of pull request #12". */
  what: string;
  /** Statuses the caller turns into a result instead of an error. */
  expect?: readonly number[];
  /** What to change when GitHub refuses with 403 (default: the comment's permissions). */
  permission?: string;
  /** What a 404 means (default: the comment's or pull request's). */
  notFound?: string;
}

/** The permissions `commit: pull-request` needs, for GitHub's refusals. */
const PR_PERMISSIONS =
  'give the job "permissions: contents: write, pull-requests: write" (and allow GitHub Actions to create pull requests in the repository settings), or pass a token that may';

export class GitHubApi implements IssueCommentsApi {
  readonly owner: string;
  readonly repo: string;
  private octokit?: Promise<Octokit>;
  private readonly token: string;
  /** Octokit's own notices (e.g. an endpoint deprecation) go to our debug log, not the console. */
  private readonly octokitLog: Record<'debug' | 'info' | 'warn' | 'error', (message: string) => void>;
  private readonly apiUrl: string;
  private readonly options: Required<Omit<GitHubApiOptions, 'log'>> & Pick<GitHubApiOptions, 'log'>;

  constructor(ctx: Pick<GitHubContext, 'apiUrl' | 'repository'>, token: string, options: GitHubApiOptions = {}) {
    if (!token) throw new UserError('no GitHub token: set the github-token input (default ${{ github.token }})');
    registerSecret(token);
    const [owner, repo, ...rest] = (ctx.repository ?? '').split('/');
    if (!owner || !repo || rest.length > 0) {
      throw new UserError(`GITHUB_REPOSITORY must be "owner/repo", not "${ctx.repository ?? ''}"`);
    }
    this.owner = owner;
    this.repo = repo;
    this.apiUrl = (ctx.apiUrl ?? '').trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/i.test(this.apiUrl) || !URL.canParse(this.apiUrl)) {
      throw new UserError(`GITHUB_API_URL is not an http(s) URL: "${this.apiUrl}"`);
    }
    this.options = {
      fromFork: options.fromFork ?? false,
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 1_000,
      log: options.log,
    };
    const debug = (message: string) => this.options.log?.(redact(message));
    this.octokitLog = { debug, info: debug, warn: debug, error: debug };
    // Only baseUrl is passed: a `request` option would replace (not merge with) the proxy-aware fetch that
    // @actions/github sets up. Its proxy choice is made for $GITHUB_API_URL, which is ctx.apiUrl in a runner.
    this.token = token;
  }

  /**
   * Loaded on first use: octokit (with undici) is the largest dependency, and most runs (export, a dry run
   * outside a pull request) never talk to GitHub. The build bundles it separately (scripts/build.mjs).
   */
  private client(): Promise<Octokit> {
    this.octokit ??= import('@actions/github').then(({ getOctokit }) =>
      getOctokit(this.token, { baseUrl: this.apiUrl, userAgent: 'dhis2-metadata', log: this.octokitLog }),
    );
    return this.octokit;
  }

  /**
   * Who the token writes as, learned once per run (per API and token): GraphQL `viewer` (any token), else
   * `GET /user` (a personal token), else the Actions bot (the GITHUB_TOKEN may answer neither).
   */
  identity(): Promise<Identity> {
    const key = `${this.apiUrl}\n${this.token}`;
    let known = IDENTITIES.get(key);
    if (!known) {
      known = this.learnIdentity();
      IDENTITIES.set(key, known);
    }
    return known;
  }

  private async learnIdentity(): Promise<Identity> {
    const graphql = `${this.apiUrl.replace(/\/api\/v3$/i, '/api')}/graphql`;
    try {
      const response = await this.send({
        method: 'POST',
        url: graphql,
        body: { query: 'query { viewer { login __typename } }' },
        what: 'ask GitHub who the token is (GraphQL viewer)',
      });
      const viewer = (response.data as { data?: { viewer?: { login?: unknown; __typename?: unknown } } } | null)?.data
        ?.viewer;
      if (typeof viewer?.login === 'string' && viewer.login !== '') {
        return { login: viewer.login, type: viewer.__typename === 'Bot' ? 'Bot' : 'User' };
      }
    } catch (e) {
      this.options.log?.(`GitHub: ${(e as Error).message}`);
    }
    try {
      const response = await this.send({
        method: 'GET',
        url: '/user',
        what: 'ask GitHub who the token is (GET /user)',
      });
      const user = response.data as { login?: unknown; type?: unknown } | null;
      if (typeof user?.login === 'string' && user.login !== '') {
        return { login: user.login, type: user.type === 'Bot' ? 'Bot' : 'User' };
      }
    } catch (e) {
      this.options.log?.(`GitHub: ${(e as Error).message}`);
    }
    this.options.log?.(`GitHub: the token did not say who it is; taking it for ${ACTIONS_BOT.login}`);
    return ACTIONS_BOT;
  }

  async *issueComments(issue: number): AsyncGenerator<IssueComment> {
    const what = `list the comments of pull request #${issue}`;
    let url: string | undefined = `/repos/${this.path()}/issues/${issue}/comments?per_page=${PER_PAGE}`;
    for (let page = 1; url; page++) {
      if (page > MAX_PAGES) throw new GitHubApiError(`${what}: more than ${MAX_PAGES} pages, stopped`, 'other');
      const response = await this.send({ method: 'GET', url, what });
      if (!Array.isArray(response.data)) throw unexpected(what, response.data);
      for (const item of response.data) yield toComment(item, what);
      url = this.nextPage(response, what);
    }
  }

  /**
   * The pull request's comments with who last edited each (GraphQL: REST does not say), oldest first. What a
   * restore reads its review from: the body and its editor come in the same answer, so they belong together.
   */
  async *reviewComments(pr: number): AsyncGenerator<IssueComment> {
    const what = `read the comments of pull request #${pr} and who edited them (GraphQL)`;
    const url = `${this.apiUrl.replace(/\/api\/v3$/i, '/api')}/graphql`;
    let after: string | null = null;
    for (let page = 1; ; page++) {
      if (page > MAX_PAGES) throw new GitHubApiError(`${what}: more than ${MAX_PAGES} pages, stopped`, 'other');
      const response = await this.send({
        method: 'POST',
        url,
        body: { query: REVIEW_COMMENTS_QUERY, variables: { owner: this.owner, name: this.repo, number: pr, after } },
        what,
      });
      const data = response.data as {
        data?: { repository?: { pullRequest?: { comments?: { nodes?: unknown[]; pageInfo?: PageInfo } } | null } };
        errors?: { message?: unknown }[];
      } | null;
      const comments = data?.data?.repository?.pullRequest?.comments;
      if (!comments || !Array.isArray(comments.nodes)) {
        const message = data?.errors?.map((e) => String(e.message)).join('; ');
        throw new GitHubApiError(
          `${what}: ${message ? `GitHub answered: ${message}` : 'no comments in the answer'}`,
          'other',
        );
      }
      for (const node of comments.nodes) yield graphqlComment(node, what);
      if (!comments.pageInfo?.hasNextPage || typeof comments.pageInfo.endCursor !== 'string') return;
      after = comments.pageInfo.endCursor;
    }
  }

  async createIssueComment(issue: number, body: string): Promise<IssueComment> {
    const what = `create the comment on pull request #${issue}`;
    const response = await this.send({
      method: 'POST',
      url: `/repos/${this.path()}/issues/${issue}/comments`,
      body: { body },
      what,
    });
    return toComment(response.data, what);
  }

  async updateIssueComment(commentId: number, body: string): Promise<IssueComment> {
    const what = `update comment ${commentId}`;
    const response = await this.send({
      method: 'PATCH',
      url: `/repos/${this.path()}/issues/comments/${commentId}`,
      body: { body },
      what,
    });
    return toComment(response.data, what);
  }

  /**
   * The merged pull request that brought `sha` into the repository (a push's merge, squash or rebase
   * commit), or undefined when there is none. GitHub lists every PR associated with the commit, open ones
   * too; the merged one whose merge commit is `sha` wins, else the first merged one.
   */
  async findMergedPullRequestForCommit(sha: string): Promise<CommitPullRequest | undefined> {
    if (!/^[0-9a-f]{7,64}$/i.test(sha)) throw new UserError(`not a commit SHA: "${sha}"`);
    const what = `list the pull requests of commit ${sha.slice(0, 12)}`;
    let url: string | undefined = `/repos/${this.path()}/commits/${sha}/pulls?per_page=${PER_PAGE}`;
    const merged: CommitPullRequest[] = [];
    for (let page = 1; url && page <= MAX_PAGES; page++) {
      // 422 "No commit found for SHA": the commit is not in this repository, so no PR brought it in.
      const response = await this.send({ method: 'GET', url, what, expect: [422] });
      if (response.status === 422) return undefined;
      if (!Array.isArray(response.data)) throw unexpected(what, response.data);
      for (const item of response.data) {
        const pr = toPull(item);
        if (pr?.mergedAt) merged.push(pr);
      }
      url = this.nextPage(response, what);
    }
    return merged.find((pr) => pr.mergeCommitSha?.toLowerCase() === sha.toLowerCase()) ?? merged[0];
  }

  /** The open pull requests from `head` (a branch of this repository) into `base`, oldest first. */
  async openPullRequests(head: string, base: string): Promise<PullRequest[]> {
    const what = `list the open pull requests from ${head} into ${base}`;
    const query = new URLSearchParams({
      state: 'open',
      head: `${this.owner}:${head}`,
      base,
      sort: 'created',
      direction: 'asc',
      per_page: String(PER_PAGE),
    });
    let url: string | undefined = `/repos/${this.path()}/pulls?${query.toString()}`;
    const found: PullRequest[] = [];
    for (let page = 1; url && page <= MAX_PAGES; page++) {
      const response = await this.send({ method: 'GET', url, what, permission: PR_PERMISSIONS });
      if (!Array.isArray(response.data)) throw unexpected(what, response.data);
      for (const item of response.data) found.push(toPullRequest(item, what));
      url = this.nextPage(response, what);
    }
    // GitHub filters by head and base already; a server that ignores the filter must not make us adopt another PR.
    return found.filter((pr) => pr.state === 'open' && pr.headRef === head && pr.baseRef === base);
  }

  /** Opens a pull request from `head` into `base`. Never retried (a second one could open). */
  async createPullRequest(pr: { head: string; base: string; title: string; body: string }): Promise<PullRequest> {
    const what = `open a pull request from ${pr.head} into ${pr.base}`;
    const response = await this.send({
      method: 'POST',
      url: `/repos/${this.path()}/pulls`,
      body: { ...pr, maintainer_can_modify: false },
      what,
      permission: PR_PERMISSIONS,
    });
    return toPullRequest(response.data, what);
  }

  /** Changes a pull request's title, body or state. */
  async updatePullRequest(
    number: number,
    change: { title?: string; body?: string; state?: 'open' | 'closed' },
  ): Promise<PullRequest> {
    const what = `update pull request #${number}`;
    const response = await this.send({
      method: 'PATCH',
      url: `/repos/${this.path()}/pulls/${number}`,
      body: change,
      what,
      permission: PR_PERMISSIONS,
      notFound: `pull request #${number} was deleted, or`,
    });
    return toPullRequest(response.data, what);
  }

  /** Adds labels to an issue or pull request (those it has stay). */
  async addLabels(issue: number, labels: string[]): Promise<void> {
    if (labels.length === 0) return;
    await this.send({
      method: 'POST',
      url: `/repos/${this.path()}/issues/${issue}/labels`,
      body: { labels },
      what: `label pull request #${issue}`,
      permission: PR_PERMISSIONS,
    });
  }

  /** Deletes a branch; false when it was not there (any more). */
  async deleteBranch(branch: string): Promise<boolean> {
    const ref = branch.split('/').map(encodeURIComponent).join('/');
    const response = await this.send({
      method: 'DELETE',
      url: `/repos/${this.path()}/git/refs/heads/${ref}`,
      what: `delete branch ${branch}`,
      permission: PR_PERMISSIONS,
      // 422 "Reference does not exist" (and 404 on some versions): already gone.
      expect: [404, 422],
    });
    return response.status !== 404 && response.status !== 422;
  }

  /** The next page, only on the API's own host: the token goes with every request octokit sends. */
  private nextPage(response: RawResponse, what: string): string | undefined {
    const next = nextLink(response.headers['link']);
    if (next === undefined) return undefined;
    let origin: string | undefined;
    try {
      origin = new URL(next, this.apiUrl).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== new URL(this.apiUrl).origin) {
      throw new GitHubApiError(`${what}: the next-page link leaves ${this.apiUrl}, not followed`, 'other');
    }
    return next;
  }

  private path(): string {
    return `${encodeURIComponent(this.owner)}/${encodeURIComponent(this.repo)}`;
  }

  private async send(call: Call): Promise<RawResponse> {
    // A POST that failed in flight may still have created the comment: never repeat it here (upsertComment
    // looks for the comment again before trying once more). GET and PATCH give the same result twice.
    const retries = call.method === 'POST' ? 0 : this.options.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        const octokit = await this.client();
        const response = await octokit.request({
          method: call.method,
          url: call.url,
          ...(call.body ? { data: call.body } : {}),
          request: { signal: AbortSignal.timeout(this.options.timeoutMs), log: this.octokitLog },
        });
        return response as RawResponse;
      } catch (e) {
        const status = statusOf(e);
        if (status !== undefined && call.expect?.includes(status)) {
          return { status, headers: headersOf(e), data: dataOf(e) };
        }
        const error = this.describe(e, call);
        const delay = this.retryDelay(e, error, attempt);
        if (attempt >= retries || delay === undefined) throw error;
        this.options.log?.(`GitHub: ${error.message}; retrying in ${Math.round(delay)} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private retryDelay(e: unknown, error: GitHubApiError, attempt: number): number | undefined {
    const retryAfter = Number(headersOf(e)['retry-after']);
    if (error.reason === 'rate-limit') {
      // Secondary rate limits say how long to wait; wait only when that is short, else fail clearly.
      return Number.isFinite(retryAfter) && retryAfter * 1000 <= MAX_RETRY_DELAY_MS ? retryAfter * 1000 : undefined;
    }
    if (!error.transient) return undefined;
    const backoff = this.options.retryDelayMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
    return Math.min(Number.isFinite(retryAfter) ? Math.max(retryAfter * 1000, backoff) : backoff, MAX_RETRY_DELAY_MS);
  }

  private describe(e: unknown, call: Call): GitHubApiError {
    const status = statusOf(e);
    const hasResponse = e !== null && typeof e === 'object' && 'response' in e && e.response !== undefined;
    if (!hasResponse) {
      // No answer at all: octokit wraps fetch's failure (TypeError "fetch failed", whose cause says why) in a
      // status-500 error without a response; a timeout arrives as the signal's TimeoutError.
      const chain = causes(e);
      const timedOut = chain.some((c) => c.name === 'TimeoutError' || c.name === 'AbortError');
      const code = chain.find((c) => typeof c.code === 'string')?.code;
      const detail = timedOut
        ? `no answer within ${this.options.timeoutMs / 1000} s`
        : code
          ? `${NETWORK_CODES[code] ?? 'connection failed'}: ${code}`
          : (chain.at(-1)?.message ?? 'connection failed');
      return new GitHubApiError(
        `could not reach the GitHub API at ${this.apiUrl} to ${call.what} (${detail})`,
        'network',
      );
    }
    const message = githubMessage(dataOf(e));
    const said = message ? ` ${message}` : '';
    const headers = headersOf(e);
    if (status === 401) {
      return new GitHubApiError(
        `GitHub refused the token (401${said}) trying to ${call.what}: check the github-token input`,
        'bad-credentials',
        status,
      );
    }
    if (status === 429 || (status === 403 && isRateLimited(headers, message))) {
      const reset = Number(headers['x-ratelimit-reset']);
      const when = Number.isFinite(reset) && reset > 0 ? `, resets at ${new Date(reset * 1000).toISOString()}` : '';
      return new GitHubApiError(`GitHub API rate limit reached trying to ${call.what}${when}`, 'rate-limit', status);
    }
    if (status === 403) {
      if (this.options.fromFork && call.method !== 'GET') {
        return new GitHubApiError(
          `the GITHUB_TOKEN of a pull request from a fork is read-only: the comment was skipped (GitHub: 403${said})`,
          'fork-read-only',
          status,
        );
      }
      const fix = call.permission
        ? `${call.permission} ${call.what}`
        : call.method === 'GET'
          ? 'the token cannot read this repository; give the job "permissions: pull-requests: read" (and contents: read)'
          : 'the token may not write pull-request comments; give the job "permissions: pull-requests: write", or set the comment input to false';
      return new GitHubApiError(`GitHub refused to ${call.what} (403${said}): ${fix}`, 'permission', status);
    }
    if (status === 404) {
      return new GitHubApiError(
        `GitHub answered 404 trying to ${call.what}: ${call.notFound ?? (call.method === 'PATCH' ? 'the comment was deleted, or' : `${this.owner}/${this.repo} or the pull request does not exist, or`)} the token cannot see it`,
        'not-found',
        status,
      );
    }
    if (status === 422) {
      return new GitHubApiError(`GitHub rejected the request to ${call.what} (422${said})`, 'validation', status);
    }
    if (status !== undefined && RETRY_STATUSES.has(status)) {
      return new GitHubApiError(`GitHub failed to ${call.what} (${status}${said})`, 'server', status);
    }
    return new GitHubApiError(
      `GitHub answered ${status ?? '?'} trying to ${call.what}${said ? `:${said}` : ''}`,
      'other',
      status,
    );
  }
}
