/**
 * A local stand-in for the few GitHub REST endpoints the tool calls, served over real HTTP on 127.0.0.1:
 *
 *   GET   /repos/{owner}/{repo}/issues/{n}/comments    (per_page, page; Link headers like GitHub)
 *   POST  /repos/{owner}/{repo}/issues/{n}/comments
 *   PATCH /repos/{owner}/{repo}/issues/comments/{id}
 *   GET   /repos/{owner}/{repo}/commits/{sha}/pulls
 *   GET   /repos/{owner}/{repo}/pulls                  (state, head=owner:branch, base; per_page, page)
 *   POST  /repos/{owner}/{repo}/pulls                  (head, base, title, body)
 *   PATCH /repos/{owner}/{repo}/pulls/{n}              (title, body, state)
 *   POST  /repos/{owner}/{repo}/issues/{n}/labels
 *   DELETE /repos/{owner}/{repo}/git/refs/heads/{branch}
 *   GET   /user                                       (who a personal token is; 403 for an app token)
 *   POST  /graphql  query { viewer { login } }        (likewise; on GHES at /api/graphql)
 *   POST  /graphql  repository { pullRequest { comments { ... editor lastEditedAt } } }  (who last edited)
 *
 * Tokens are identities like GitHub's: the app tokens (STUB_TOKEN, STUB_READ_ONLY_TOKEN: the workflow's
 * GITHUB_TOKEN) write as github-actions[bot] (type Bot) and cannot say who they are, as an installation token
 * answers /user with 403 and GraphQL viewer with a FORBIDDEN error; a personal token (STUB_PERSONAL_TOKEN)
 * writes as its user and says so. Comments by anyone can be seeded with addComment.
 *
 * It answers the way GitHub does where the tool depends on it: 401 "Bad credentials" without a known token,
 * 403 "Resource not accessible by integration" when a read-only token (a fork PR's GITHUB_TOKEN) writes,
 * 422 for a body over 65,536 characters, 404 for an unknown comment, and GitHub's error body shapes.
 * Comments and pull requests live in memory; every request is logged in `requests`. With `gitRemote` (a bare
 * repository), pull requests are checked against it as GitHub does: the head branch must exist (422 otherwise),
 * one open pull request per head and base (422 "A pull request already exists"), `head.sha` is the branch's
 * commit when listed, and deleting a ref deletes the branch there (422 "Reference does not exist" when absent).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STUB_TOKEN = 'ghs_stubReadWriteToken0123456789';
export const STUB_READ_ONLY_TOKEN = 'ghs_stubReadOnlyToken9876543210';
/** A personal access token of the user `release-manager`. */
export const STUB_PERSONAL_TOKEN = 'ghp_stubPersonalToken0123456789abcd';
export const STUB_PERSONAL_USER: StubUser = { login: 'release-manager', type: 'User' };
export const ACTIONS_BOT_USER: StubUser = { login: 'github-actions[bot]', type: 'Bot' };

export interface StubUser {
  login: string;
  type: 'Bot' | 'User';
}

export interface GitHubStubOptions {
  /** Tokens that may read and write. Default [STUB_TOKEN]. */
  tokens?: string[];
  /** Tokens that may only read: writes get 403 like a fork PR's GITHUB_TOKEN. Default [STUB_READ_ONLY_TOKEN]. */
  readOnlyTokens?: string[];
  /** Path prefix of the API, e.g. `/api/v3` as on GitHub Enterprise Server. Default none. */
  basePath?: string;
  /** Page size when the client gives none (GitHub: 30; at most 100). */
  defaultPerPage?: number;
  /** GitHub's limit on a comment body, in characters. */
  bodyLimit?: number;
  /** Author of the comments an app token creates. Default github-actions[bot]. */
  user?: StubUser;
  /** Personal tokens (read and write) and their users. Default {STUB_PERSONAL_TOKEN: release-manager}. */
  personalTokens?: Record<string, StubUser>;
  /** When given, only these issue numbers exist (others: 404). */
  pullRequests?: number[];
  /** Called with one line per request. */
  log?: (line: string) => void;
  /** A bare git repository standing for the repository's branches (pull requests, ref deletion). */
  gitRemote?: string;
}

/** A pull request the stand-in holds (commit: pull-request). */
export interface StubPullRequest {
  number: number;
  owner: string;
  repo: string;
  state: 'open' | 'closed';
  title: string;
  body: string;
  head: string;
  base: string;
  labels: string[];
  user: StubUser;
  createdAt: string;
  updatedAt: string;
}

export interface StubComment {
  id: number;
  owner: string;
  repo: string;
  issue: number;
  body: string;
  user: StubUser;
  createdAt: string;
  updatedAt: string;
  /** The last edit of the body (a PATCH, or editComment): who made it and when (GraphQL `editor`, `lastEditedAt`). */
  editor?: StubUser;
  lastEditedAt?: string;
}

export interface StubRequest {
  method: string;
  /** Path without the base path and query, e.g. /repos/o/r/issues/1/comments. */
  path: string;
  query: Record<string, string>;
  /** The token from the Authorization header, if any. */
  token?: string;
  /** The raw Authorization header. */
  authorization?: string;
  status: number;
  /** Length of the request body in characters. */
  bodyLength?: number;
}

export interface StubPull {
  number: number;
  state?: 'open' | 'closed';
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  head?: { sha: string; ref?: string };
  base?: { ref: string };
}

export interface StubFailure {
  /** Answer this status (with a GitHub-like body) instead of handling the request. Default 502. */
  status?: number;
  /** Close the connection without answering instead. */
  drop?: boolean;
  /** Handle the request first (e.g. create the comment), then fail: the client never learns it worked. */
  afterHandling?: boolean;
  /** Only requests with this method. */
  method?: string;
  /** Only requests whose path (without the base path) matches. */
  path?: RegExp;
  /** How many matching requests fail. Default 1. */
  count?: number;
  /** The `message` of the error body. */
  message?: string;
  /** Extra response headers (e.g. retry-after, x-ratelimit-remaining). */
  headers?: Record<string, string>;
}

export interface GitHubStub {
  /** The API base URL to use as GITHUB_API_URL (with the base path). */
  url: string;
  comments(owner: string, repo: string, pr: number): StubComment[];
  /** Seeds a comment as if someone wrote it. */
  addComment(owner: string, repo: string, pr: number, body: string, user?: StubUser): StubComment;
  /**
   * Edits a comment as `editor` would in GitHub's UI (anyone with write access can edit any comment, a bot's
   * included): the author stays, GraphQL's `editor` and `lastEditedAt` change.
   */
  editComment(id: number, body: string, editor: StubUser): void;
  requests: StubRequest[];
  addPullForCommit(sha: string, pr: number | StubPull): void;
  /** Pull requests opened through POST /pulls (or seeded), in order. */
  pulls(): StubPullRequest[];
  /** Seeds a pull request as if someone opened it. */
  addPullRequest(
    pr: Omit<StubPullRequest, 'number' | 'createdAt' | 'updatedAt' | 'user' | 'labels' | 'state'> &
      Partial<StubPullRequest>,
  ): StubPullRequest;
  /** Makes the next matching request(s) fail. */
  failNext(failure?: StubFailure): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
/** The head commit of a seeded pull request when the test names none (as test/helpers/pr-event.ts's default). */
export const DEFAULT_HEAD_SHA = 'a'.repeat(40);
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export async function startGitHubStub(opts: GitHubStubOptions = {}): Promise<GitHubStub> {
  const personal = new Map(Object.entries(opts.personalTokens ?? { [STUB_PERSONAL_TOKEN]: STUB_PERSONAL_USER }));
  const tokens = new Set([...(opts.tokens ?? [STUB_TOKEN]), ...personal.keys()]);
  const readOnly = new Set(opts.readOnlyTokens ?? [STUB_READ_ONLY_TOKEN]);
  const basePath = (opts.basePath ?? '').replace(/\/+$/, '');
  const defaultPerPage = opts.defaultPerPage ?? 30;
  const bodyLimit = opts.bodyLimit ?? 65_536;
  const user = opts.user ?? ACTIONS_BOT_USER;
  const pulls = opts.pullRequests ? new Set(opts.pullRequests) : undefined;

  const comments: StubComment[] = [];
  const pullRequests: StubPullRequest[] = [];
  let nextPull = 101;
  const pullsByCommit = new Map<string, StubPull[]>();
  const requests: StubRequest[] = [];
  const failures: (StubFailure & { left: number })[] = [];
  let nextId = 1_000_001;
  let clock = Date.UTC(2025, 0, 1);

  const now = () => new Date((clock += 1000)).toISOString();

  function addComment(owner: string, repo: string, issue: number, body: string, author = user): StubComment {
    const at = now();
    const comment = { id: nextId++, owner, repo, issue, body, user: author, createdAt: at, updatedAt: at };
    comments.push(comment);
    return comment;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `stub failure: ${(e as Error).message}` });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const authorization = req.headers.authorization;
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const entry: StubRequest = {
      method,
      path: url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || '/' : url.pathname,
      query: Object.fromEntries(url.searchParams),
      token,
      authorization,
      status: 0,
      bodyLength: raw === undefined ? undefined : raw.length,
    };
    requests.push(entry);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      opts.log?.(`${method} ${url.pathname}${url.search} -> ${status}`);
      send(res, status, body, headers);
    };

    const failure = failures.find(
      (f) => f.left > 0 && (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(entry.path)),
    );
    if (failure) failure.left--;
    const fail = () => {
      if (failure?.drop) {
        entry.status = -1;
        res.socket?.destroy();
        return;
      }
      const status = failure?.status ?? 502;
      reply(
        status,
        { message: failure?.message ?? (status === 502 ? 'Server Error' : 'Injected failure'), status: String(status) },
        failure?.headers,
      );
    };
    if (failure && !failure.afterHandling) return fail();

    const answer = route(method, url, entry, token, raw);
    if (failure) return fail();
    reply(answer.status, answer.body, answer.headers);
  }

  interface Answer {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
  }

  function route(method: string, url: URL, entry: StubRequest, token: string | undefined, raw?: string): Answer {
    // GraphQL lives at /graphql (github.com) or /api/graphql (GHES, whose REST base is /api/v3).
    const graphqlPath = `${basePath.replace(/\/v3$/, '')}/graphql`;
    if (!url.pathname.startsWith(basePath + '/') && url.pathname !== graphqlPath) return notFound();
    if (!token || (!tokens.has(token) && !readOnly.has(token))) {
      return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
    }
    const me = personal.get(token);
    if (url.pathname === graphqlPath) {
      if (method !== 'POST') return notFound();
      const request = JSON.parse(raw ?? '{}') as { query?: unknown; variables?: Record<string, unknown> };
      const query = request.query;
      if (typeof query === 'string' && /\bpullRequest\s*\(/.test(query) && /\bcomments\s*\(/.test(query)) {
        return { status: 200, body: pullRequestComments(request.variables ?? {}) };
      }
      if (typeof query !== 'string' || !/\bviewer\b/.test(query)) {
        return { status: 200, body: { errors: [{ message: 'stub: only viewer queries are served' }] } };
      }
      if (!me) {
        return {
          status: 200,
          body: {
            data: null,
            errors: [{ type: 'FORBIDDEN', path: ['viewer'], message: 'Resource not accessible by integration' }],
          },
        };
      }
      return { status: 200, body: { data: { viewer: { login: me.login, __typename: me.type } } } };
    }
    const path = entry.path;
    if (path === '/user' && method === 'GET') {
      if (!me) {
        return {
          status: 403,
          body: { message: 'Resource not accessible by integration', documentation_url: DOCS, status: '403' },
        };
      }
      return { status: 200, body: { login: me.login, id: me.login.length, type: me.type } };
    }
    const list = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path);
    const edit = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(path);
    const commitPulls = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/pulls$/.exec(path);
    const pullsPath = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(path);
    const onePull = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(path);
    const labelsPath = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/.exec(path);
    const refPath = /^\/repos\/([^/]+)\/([^/]+)\/git\/refs\/heads\/(.+)$/.exec(path);
    const writes = method !== 'GET';
    if (writes && readOnly.has(token)) {
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: `${DOCS}/issues/comments`,
          status: '403',
        },
      };
    }

    if (list) {
      const [owner, repo, issue] = [decodeURIComponent(list[1]!), decodeURIComponent(list[2]!), Number(list[3])];
      if (pulls && !pulls.has(issue)) return notFound();
      if (method === 'GET') return listComments(url, owner, repo, issue);
      if (method === 'POST') {
        const body = parseBody(raw);
        if ('error' in body) return body.error;
        const comment = addComment(owner, repo, issue, body.text, me ?? user);
        return { status: 201, body: toJson(url, comment) };
      }
      return methodNotAllowed();
    }
    if (edit) {
      const comment = comments.find(
        (c) =>
          c.id === Number(edit[3]) &&
          c.owner === decodeURIComponent(edit[1]!) &&
          c.repo === decodeURIComponent(edit[2]!),
      );
      if (!comment) return notFound();
      if (method === 'GET') return { status: 200, body: toJson(url, comment) };
      if (method !== 'PATCH') return methodNotAllowed();
      const body = parseBody(raw);
      if ('error' in body) return body.error;
      comment.body = body.text;
      comment.updatedAt = comment.lastEditedAt = now();
      comment.editor = me ?? user;
      return { status: 200, body: toJson(url, comment) };
    }
    if (pullsPath) {
      const [owner, repo] = [decodeURIComponent(pullsPath[1]!), decodeURIComponent(pullsPath[2]!)];
      if (method === 'GET') return listPulls(url, owner, repo);
      if (method === 'POST') return createPull(url, owner, repo, raw, me ?? user);
      return methodNotAllowed();
    }
    if (onePull) {
      const pr = pullRequests.find(
        (p) =>
          p.number === Number(onePull[3]) &&
          p.owner === decodeURIComponent(onePull[1]!) &&
          p.repo === decodeURIComponent(onePull[2]!),
      );
      if (!pr) return notFound();
      if (method === 'GET') return { status: 200, body: pullRequestJson(url, pr) };
      if (method !== 'PATCH') return methodNotAllowed();
      const data = parseJson(raw);
      if ('error' in data) return data.error;
      const change = data.value as { title?: unknown; body?: unknown; state?: unknown };
      if (change.body !== undefined && typeof change.body === 'string' && [...change.body].length > bodyLimit) {
        return tooLong('PullRequest');
      }
      if (typeof change.title === 'string') pr.title = change.title;
      if (typeof change.body === 'string') pr.body = change.body;
      if (change.state === 'open' || change.state === 'closed') pr.state = change.state;
      pr.updatedAt = now();
      return { status: 200, body: pullRequestJson(url, pr) };
    }
    if (labelsPath && method === 'POST') {
      const pr = pullRequests.find((p) => p.number === Number(labelsPath[3]));
      if (!pr) return notFound();
      const data = parseJson(raw);
      if ('error' in data) return data.error;
      const labels = (data.value as { labels?: unknown }).labels;
      if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
        return validationFailed('Label', 'labels', 'invalid');
      }
      for (const l of labels as string[]) if (!pr.labels.includes(l)) pr.labels.push(l);
      return { status: 200, body: pr.labels.map((name, i) => ({ id: i + 1, name })) };
    }
    if (refPath && method === 'DELETE') {
      const branch = decodeURIComponent(refPath[3]!);
      if (!opts.gitRemote || branchSha(branch) === undefined) {
        return { status: 422, body: { message: 'Reference does not exist', documentation_url: DOCS, status: '422' } };
      }
      execFileSync('git', ['update-ref', '-d', `refs/heads/${branch}`], { cwd: opts.gitRemote });
      // GitHub closes the open pull requests of a deleted head branch.
      for (const pr of pullRequests) if (pr.head === branch && pr.state === 'open') pr.state = 'closed';
      return { status: 204, body: undefined };
    }
    if (commitPulls && method === 'GET') {
      const sha = decodeURIComponent(commitPulls[3]!);
      if (!/^[0-9a-f]{7,40}$/i.test(sha)) {
        return {
          status: 422,
          body: { message: `No commit found for SHA: ${sha}`, documentation_url: DOCS, status: '422' },
        };
      }
      const found = [...pullsByCommit.entries()]
        .filter(([full]) => full.toLowerCase().startsWith(sha.toLowerCase()))
        .flatMap(([, prs]) => prs);
      return { status: 200, body: found.map((pr) => pullJson(url, commitPulls[1]!, commitPulls[2]!, pr)) };
    }
    return notFound();
  }

  function branchSha(branch: string): string | undefined {
    if (!opts.gitRemote) return undefined;
    try {
      return execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {
        cwd: opts.gitRemote,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  }

  function listPulls(url: URL, owner: string, repo: string): Answer {
    const state = url.searchParams.get('state') ?? 'open';
    const head = url.searchParams.get('head');
    const base = url.searchParams.get('base');
    const perPage = clamp(Number(url.searchParams.get('per_page') ?? defaultPerPage), 1, 100, defaultPerPage);
    const page = clamp(Number(url.searchParams.get('page') ?? 1), 1, Number.MAX_SAFE_INTEGER, 1);
    const all = pullRequests.filter(
      (p) =>
        p.owner === owner &&
        p.repo === repo &&
        (state === 'all' || p.state === state) &&
        // GitHub's head filter is `user:ref`; the owner part must be the repository's owner here.
        (!head || head === `${owner}:${p.head}`) &&
        (!base || p.base === base),
    );
    return { status: 200, body: all.slice((page - 1) * perPage, page * perPage).map((p) => pullRequestJson(url, p)) };
  }

  function createPull(url: URL, owner: string, repo: string, raw: string | undefined, author: StubUser): Answer {
    const data = parseJson(raw);
    if ('error' in data) return data.error;
    const { head, base, title, body } = data.value as Record<string, unknown>;
    if (typeof title !== 'string' || title === '') return validationFailed('PullRequest', 'title', 'missing_field');
    if (typeof head !== 'string' || typeof base !== 'string') {
      return validationFailed('PullRequest', typeof head !== 'string' ? 'head' : 'base', 'missing_field');
    }
    if (typeof body === 'string' && [...body].length > bodyLimit) return tooLong('PullRequest');
    if (opts.gitRemote && branchSha(head) === undefined) return validationFailed('PullRequest', 'head', 'invalid');
    if (opts.gitRemote && branchSha(base) === undefined) return validationFailed('PullRequest', 'base', 'invalid');
    const dup = pullRequests.find(
      (p) => p.owner === owner && p.repo === repo && p.head === head && p.base === base && p.state === 'open',
    );
    if (dup) {
      return {
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [
            { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` },
          ],
          documentation_url: DOCS,
          status: '422',
        },
      };
    }
    const pr = addPullRequest({
      owner,
      repo,
      head,
      base,
      title,
      body: typeof body === 'string' ? body : '',
      user: author,
    });
    return { status: 201, body: pullRequestJson(url, pr) };
  }

  function addPullRequest(
    pr: Omit<StubPullRequest, 'number' | 'createdAt' | 'updatedAt' | 'user' | 'labels' | 'state'> &
      Partial<StubPullRequest>,
  ): StubPullRequest {
    const at = now();
    const entry: StubPullRequest = {
      number: nextPull++,
      state: 'open',
      labels: [],
      user,
      createdAt: at,
      updatedAt: at,
      ...pr,
    };
    pullRequests.push(entry);
    return entry;
  }

  function pullRequestJson(url: URL, pr: StubPullRequest): Record<string, unknown> {
    return {
      number: pr.number,
      state: pr.state,
      title: pr.title,
      body: pr.body === '' ? null : pr.body,
      html_url: `https://github.example/${pr.owner}/${pr.repo}/pull/${pr.number}`,
      url: `${url.origin}${basePath}/repos/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
      user: { login: pr.user.login, type: pr.user.type },
      labels: pr.labels.map((name, i) => ({ id: i + 1, name })),
      head: { ref: pr.head, sha: branchSha(pr.head) ?? '0'.repeat(40), label: `${pr.owner}:${pr.head}` },
      base: { ref: pr.base, sha: branchSha(pr.base) ?? '0'.repeat(40), label: `${pr.owner}:${pr.base}` },
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      merged_at: null,
    };
  }

  function parseJson(raw: string | undefined): { value: Record<string, unknown> } | { error: Answer } {
    try {
      const value: unknown = JSON.parse(raw ?? '');
      if (value && typeof value === 'object' && !Array.isArray(value))
        return { value: value as Record<string, unknown> };
    } catch {
      // answered below
    }
    return {
      error: { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' } },
    };
  }

  function validationFailed(resource: string, field: string, code: string): Answer {
    return {
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource, field, code }],
        documentation_url: DOCS,
        status: '422',
      },
    };
  }

  function tooLong(resource: string): Answer {
    return {
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [
          { resource, code: 'custom', field: 'body', message: `body is too long (maximum is ${bodyLimit} characters)` },
        ],
        documentation_url: DOCS,
        status: '422',
      },
    };
  }

  function listComments(url: URL, owner: string, repo: string, issue: number): Answer {
    const perPage = clamp(Number(url.searchParams.get('per_page') ?? defaultPerPage), 1, 100, defaultPerPage);
    const page = clamp(Number(url.searchParams.get('page') ?? 1), 1, Number.MAX_SAFE_INTEGER, 1);
    const all = comments.filter((c) => c.owner === owner && c.repo === repo && c.issue === issue);
    const items = all.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number, rel: string) => {
      const target = new URL(url);
      target.searchParams.set('per_page', String(perPage));
      target.searchParams.set('page', String(p));
      return `<${target.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    return {
      status: 200,
      body: items.map((c) => toJson(url, c)),
      headers: links.length ? { link: links.join(', ') } : {},
    };
  }

  function parseBody(raw: string | undefined): { text: string } | { error: Answer } {
    let data: unknown;
    try {
      data = JSON.parse(raw ?? '');
    } catch {
      return {
        error: { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' } },
      };
    }
    const text = (data as { body?: unknown } | null)?.body;
    if (typeof text !== 'string') {
      return {
        error: {
          status: 422,
          body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: DOCS, status: '422' },
        },
      };
    }
    // GitHub counts characters (code points), not UTF-16 units.
    if ([...text].length > bodyLimit) {
      return {
        error: {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [
              {
                resource: 'IssueComment',
                code: 'custom',
                field: 'body',
                message: `body is too long (maximum is ${bodyLimit} characters)`,
              },
            ],
            documentation_url: DOCS,
            status: '422',
          },
        },
      };
    }
    return { text };
  }

  /**
   * GraphQL `repository { pullRequest(number) { comments(first, after) { pageInfo nodes { databaseId body url
   * lastEditedAt author editor } } } }`, as GitHub answers it: an actor's login without `[bot]` (a GraphQL Bot is
   * named by its app), `__typename` Bot or User, `editor`/`lastEditedAt` null when never edited; 100 per page.
   */
  function pullRequestComments(v: Record<string, unknown>): Record<string, unknown> {
    const [owner, name, number] = [String(v.owner), String(v.name), Number(v.number)];
    const all = comments.filter((c) => c.owner === owner && c.repo === name && c.issue === number);
    const from = typeof v.after === 'string' ? Number(v.after) : 0;
    const page = all.slice(from, from + 100);
    const actor = (u: StubUser | undefined) =>
      u ? { login: u.type === 'Bot' ? u.login.replace(/\[bot\]$/, '') : u.login, __typename: u.type } : null;
    return {
      data: {
        repository: {
          pullRequest: {
            comments: {
              pageInfo: { hasNextPage: from + 100 < all.length, endCursor: String(from + page.length) },
              nodes: page.map((c) => ({
                databaseId: c.id,
                body: c.body,
                url: `https://github.example/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
                lastEditedAt: c.lastEditedAt ?? null,
                author: actor(c.user),
                editor: actor(c.editor),
              })),
            },
          },
        },
      },
    };
  }

  function toJson(url: URL, c: StubComment): Record<string, unknown> {
    const api = `${url.origin}${basePath}`;
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${api}/repos/${c.owner}/${c.repo}/issues/comments/${c.id}`,
      html_url: `https://github.example/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${api}/repos/${c.owner}/${c.repo}/issues/${c.issue}`,
      body: c.body,
      user: { login: c.user.login, id: c.user.login.length, type: c.user.type },
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: c.user.type === 'Bot' ? 'NONE' : 'MEMBER',
    };
  }

  function pullJson(url: URL, owner: string, repo: string, pr: StubPull): Record<string, unknown> {
    return {
      number: pr.number,
      state: pr.state ?? 'closed',
      merged_at: pr.merged_at ?? null,
      merge_commit_sha: pr.merge_commit_sha ?? null,
      html_url: `https://github.example/${owner}/${repo}/pull/${pr.number}`,
      url: `${url.origin}${basePath}/repos/${owner}/${repo}/pulls/${pr.number}`,
      // By default the head that test/helpers/pr-event.ts's pull_request events carry: the commit the dry run reviewed.
      head: { sha: pr.head?.sha ?? DEFAULT_HEAD_SHA, ref: pr.head?.ref ?? `branch-${pr.number}` },
      base: { ref: pr.base?.ref ?? 'main' },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    comments: (owner, repo, pr) =>
      comments.filter((c) => c.owner === owner && c.repo === repo && c.issue === pr).map((c) => ({ ...c })),
    addComment,
    editComment(id, body, editor) {
      const comment = comments.find((c) => c.id === id);
      if (!comment) throw new Error(`stub: no comment ${id}`);
      comment.body = body;
      comment.updatedAt = comment.lastEditedAt = now();
      comment.editor = editor;
    },
    requests,
    addPullForCommit(sha, pr) {
      const entry: StubPull =
        typeof pr === 'number'
          ? { number: pr, state: 'closed', merged_at: new Date(clock).toISOString(), merge_commit_sha: sha }
          : pr;
      pullsByCommit.set(sha, [...(pullsByCommit.get(sha) ?? []), entry]);
    },
    pulls: () => pullRequests.map((p) => ({ ...p, labels: [...p.labels] })),
    addPullRequest,
    failNext(failure = {}) {
      failures.push({ ...failure, left: failure.count ?? 1 });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function notFound(): { status: number; body: unknown } {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

function methodNotAllowed(): { status: number; body: unknown } {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}
