/**
 * The PR comment against a real HTTP stand-in of the GitHub REST API (test/github-stub): the same
 * requests, headers, pagination and error answers the action meets on a runner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubApi, GitHubApiError } from '../../src/github/api.ts';
import {
  COMMENT_LIMIT,
  commentMarker,
  findMarkedComment,
  fitComment,
  markedValue,
  readMarkedValue,
  upsertComment,
} from '../../src/github/pr-comment.ts';
import { clearSecrets } from '../../src/util/secrets.ts';
import {
  STUB_PERSONAL_TOKEN,
  STUB_READ_ONLY_TOKEN,
  STUB_TOKEN,
  startGitHubStub,
  type GitHubStub,
} from '../github-stub/server.ts';

const OWNER = 'dhis2-org';
const REPO = 'program-config';
const PR = 12;
const SERVER = 'https://dhis2.example.org/dhis';
const MARKER = commentMarker('dhis2-metadata.yml', SERVER);

let stub: GitHubStub;
beforeEach(async () => {
  stub = await startGitHubStub();
});
afterEach(async () => {
  await stub.close();
  clearSecrets();
});

function client(token = STUB_TOKEN, fromFork = false, url = stub.url): GitHubApi {
  return new GitHubApi({ apiUrl: url, repository: `${OWNER}/${REPO}` }, token, {
    fromFork,
    retries: 2,
    retryDelayMs: 5,
    timeoutMs: 5_000,
  });
}

function body(stats: { created: number; updated: number }): string {
  return fitComment({
    header: `${MARKER}\n${markedValue('fingerprint', 'f'.repeat(64))}\n## DHIS2 dry run`,
    essential: `| created | updated |\n| ---: | ---: |\n| ${stats.created} | ${stats.updated} |`,
    detail: '',
  });
}

async function rejection(promise: Promise<unknown>): Promise<GitHubApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitHubApiError);
  return error as GitHubApiError;
}

describe('upsertComment against the GitHub stand-in', () => {
  it('creates the comment on the first run and edits the same one on the next', async () => {
    const api = client();
    const first = await upsertComment(api, PR, MARKER, body({ created: 1, updated: 2 }));
    expect(first.action).toBe('created');
    expect(stub.comments(OWNER, REPO, PR)).toHaveLength(1);

    const second = await upsertComment(api, PR, MARKER, body({ created: 3, updated: 4 }));
    expect(second).toMatchObject({ id: first.id, action: 'updated' });
    const comments = stub.comments(OWNER, REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.id).toBe(first.id);
    expect(comments[0]!.body).toContain('| 3 | 4 |');
    expect(comments[0]!.body.startsWith(MARKER)).toBe(true);

    // Same content: no PATCH at all.
    const patches = stub.requests.filter((r) => r.method === 'PATCH').length;
    const third = await upsertComment(api, PR, MARKER, body({ created: 3, updated: 4 }));
    expect(third).toMatchObject({ id: first.id, action: 'unchanged' });
    expect(stub.requests.filter((r) => r.method === 'PATCH')).toHaveLength(patches);

    // Every request carried the token the way GitHub expects it.
    expect(stub.requests.every((r) => r.authorization === `token ${STUB_TOKEN}`)).toBe(true);
  });

  it('leaves unrelated comments and the comment of another config or server alone', async () => {
    const human = stub.addComment(OWNER, REPO, PR, 'Looks good to me', { login: 'alice', type: 'User' });
    const otherConfig = commentMarker('other.yml', SERVER);
    const otherServer = commentMarker('dhis2-metadata.yml', 'https://staging.example.org');
    const a = stub.addComment(OWNER, REPO, PR, `${otherConfig}\nother config`);
    const b = stub.addComment(OWNER, REPO, PR, `${otherServer}\nother server`);
    const elsewhere = stub.addComment(OWNER, REPO, PR + 1, `${MARKER}\nanother pull request`);

    const api = client();
    const result = await upsertComment(api, PR, MARKER, body({ created: 1, updated: 1 }));
    expect(result.action).toBe('created');
    await upsertComment(api, PR, MARKER, body({ created: 2, updated: 2 }));

    const comments = stub.comments(OWNER, REPO, PR);
    expect(comments).toHaveLength(4);
    expect(comments.find((c) => c.id === human.id)!.body).toBe('Looks good to me');
    expect(comments.find((c) => c.id === a.id)!.body).toBe(`${otherConfig}\nother config`);
    expect(comments.find((c) => c.id === b.id)!.body).toBe(`${otherServer}\nother server`);
    expect(stub.comments(OWNER, REPO, PR + 1)[0]!.body).toBe(elsewhere.body);
    expect(comments.filter((c) => c.body.startsWith(MARKER))).toHaveLength(1);
  });

  it('finds its comment beyond the first page of a long discussion', async () => {
    for (let i = 0; i < 230; i++) stub.addComment(OWNER, REPO, PR, `comment ${i}`, { login: 'bob', type: 'User' });
    const ours = stub.addComment(OWNER, REPO, PR, `${MARKER}\nold body`);
    for (let i = 0; i < 20; i++) stub.addComment(OWNER, REPO, PR, `late comment ${i}`);

    const result = await upsertComment(client(), PR, MARKER, body({ created: 5, updated: 6 }));
    expect(result).toMatchObject({ id: ours.id, action: 'updated' });
    expect(stub.comments(OWNER, REPO, PR)).toHaveLength(251);

    const pages = stub.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/issues/${PR}/comments`));
    expect(pages.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(pages.every((r) => r.query.per_page === '100')).toBe(true);
  });

  it('reads every page when the marker is absent, then creates', async () => {
    for (let i = 0; i < 205; i++) stub.addComment(OWNER, REPO, PR, `comment ${i}`);
    const result = await upsertComment(client(), PR, MARKER, body({ created: 0, updated: 0 }));
    expect(result.action).toBe('created');
    expect(stub.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/comments'))).toHaveLength(3);
    expect(stub.comments(OWNER, REPO, PR)).toHaveLength(206);
  });

  it('keeps a very large report under the limit, with counts and errors intact, and GitHub accepts it', async () => {
    const essential =
      '| status | created | updated | errors |\n| --- | ---: | ---: | ---: |\n| ERROR | 7 | 8123 | 2 |\n\n- E5002: invalid reference';
    const detail = `<details><summary>Objects</summary>\n\n${Array.from(
      { length: 20_000 },
      (_, i) => `| dataElement | x${i} | UPDATE |`,
    ).join('\n')}\n\n</details>`;
    const text = fitComment({ header: MARKER, essential, detail, summaryUrl: 'https://github.com/o/r/actions/runs/1' });
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);

    await upsertComment(client(), PR, MARKER, text);
    const stored = stub.comments(OWNER, REPO, PR)[0]!.body;
    expect(stored).toBe(text);
    expect(stored).toContain('| ERROR | 7 | 8123 | 2 |');
    expect(stored).toContain('E5002: invalid reference');
    expect(stored).toContain('job summary');
  });

  it('surfaces GitHub’s own 422 when a body over 65,536 characters is sent anyway', async () => {
    const error = await rejection(client().createIssueComment(PR, 'x'.repeat(65_537)));
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/422.*body is too long \(maximum is 65536 characters\)/);
    expect(stub.comments(OWNER, REPO, PR)).toHaveLength(0);
  });

  it('explains the read-only token of a fork pull request', async () => {
    const error = await rejection(
      upsertComment(client(STUB_READ_ONLY_TOKEN, true), PR, MARKER, body({ created: 1, updated: 1 })),
    );
    expect(error.reason).toBe('fork-read-only');
    expect(error.message).toMatch(
      /^the GITHUB_TOKEN of a pull request from a fork is read-only: the comment was skipped/,
    );
    expect(error.message).not.toContain(STUB_READ_ONLY_TOKEN);
    expect(stub.comments(OWNER, REPO, PR)).toHaveLength(0);
  });

  it('explains a missing pull-requests: write permission outside a fork', async () => {
    const error = await rejection(
      upsertComment(client(STUB_READ_ONLY_TOKEN, false), PR, MARKER, body({ created: 1, updated: 1 })),
    );
    expect(error.reason).toBe('permission');
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/Resource not accessible by integration/);
    expect(error.message).toMatch(/permissions: pull-requests: write/);
  });

  it('explains a bad token without ever showing it', async () => {
    const secret = 'ghp_totallySecretTokenValue1234567890';
    const error = await rejection(upsertComment(client(secret), PR, MARKER, 'body'));
    expect(error.reason).toBe('bad-credentials');
    expect(error.message).toMatch(/401 Bad credentials.*github-token/);
    for (const text of [error.message, String(error), JSON.stringify(error), error.stack ?? '']) {
      expect(text).not.toContain(secret);
    }
  });

  it('explains a pull request or repository that is not there', async () => {
    await stub.close();
    stub = await startGitHubStub({ pullRequests: [PR] });
    const error = await rejection(upsertComment(client(), PR + 100, MARKER, 'body'));
    expect(error.reason).toBe('not-found');
    expect(error.message).toMatch(/404.*dhis2-org\/program-config or the pull request does not exist/);
    expect((await rejection(client().updateIssueComment(999, 'x'))).status).toBe(404);
  });

  it('never puts the token into any error, whatever fails', async () => {
    const token = STUB_TOKEN;
    const failures = [
      () => stub.failNext({ status: 500 }),
      () =>
        stub.failNext({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1900000000' } }),
      () => stub.failNext({ drop: true }),
      () => stub.failNext({ status: 418 }),
      // Should GitHub ever echo what it was sent, the message is still masked.
      () => stub.failNext({ status: 400, message: `Problems parsing "token ${token}"` }),
    ];
    const reasons: string[] = [];
    for (const fail of failures) {
      fail();
      const error = await rejection(client(token).createIssueComment(PR, `text with ${token} inside`));
      reasons.push(error.reason);
      expect(`${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`).not.toContain(token);
    }
    expect(reasons).toEqual(['server', 'rate-limit', 'network', 'other', 'other']);
    // And the token written into a body by mistake is masked before it leaves.
    await upsertComment(client(token), PR, MARKER, `oops ${token}`);
    expect(stub.comments(OWNER, REPO, PR).at(-1)!.body).toBe(`${MARKER}\noops ***`);
  });
});

describe("only the token's own comments count", () => {
  it("never edits a person's comment that carries the marker (copied from another review)", async () => {
    const copied = `${MARKER}\n${markedValue('fingerprint', 'c'.repeat(64))}\ncopied from pull request #3`;
    const mallory = stub.addComment(OWNER, REPO, PR, copied, { login: 'mallory', type: 'User' });
    const api = client();
    const first = await upsertComment(api, PR, MARKER, 'the real dry run');
    expect(first.action).toBe('created');
    expect(first.id).not.toBe(mallory.id);
    const second = await upsertComment(api, PR, MARKER, 'the real dry run, again');
    expect(second).toMatchObject({ id: first.id, action: 'updated' });
    const comments = stub.comments(OWNER, REPO, PR);
    expect(comments.find((c) => c.id === mallory.id)!.body).toBe(copied);
    expect(stub.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      `/repos/${OWNER}/${REPO}/issues/comments/${first.id}`,
    ]);
    // The GITHUB_TOKEN cannot say who it is (403 on /user, FORBIDDEN from GraphQL): it is the Actions bot,
    // and that is learned once per run, not per request.
    expect(comments.find((c) => c.id === first.id)!.user).toEqual({ login: 'github-actions[bot]', type: 'Bot' });
    expect(stub.requests.filter((r) => r.path.endsWith('/graphql'))).toHaveLength(1);
    expect(stub.requests.filter((r) => r.path === '/user').map((r) => r.status)).toEqual([403]);
  });

  it("a personal token edits its own user's comment, never the bot's or another person's", async () => {
    const bots = stub.addComment(OWNER, REPO, PR, `${MARKER}\nwritten with the GITHUB_TOKEN`);
    const other = stub.addComment(OWNER, REPO, PR, `${MARKER}\nby alice`, { login: 'alice', type: 'User' });
    const api = client(STUB_PERSONAL_TOKEN);
    expect(await api.identity()).toEqual({ login: 'release-manager', type: 'User' });
    const first = await upsertComment(api, PR, MARKER, 'by the release manager');
    expect(first.action).toBe('created');
    const second = await upsertComment(api, PR, MARKER, 'by the release manager, again');
    expect(second).toMatchObject({ id: first.id, action: 'updated' });
    const comments = stub.comments(OWNER, REPO, PR);
    expect(comments.find((c) => c.id === bots.id)!.body).toBe(`${MARKER}\nwritten with the GITHUB_TOKEN`);
    expect(comments.find((c) => c.id === other.id)!.body).toBe(`${MARKER}\nby alice`);
    expect(comments.find((c) => c.id === first.id)!.user.login).toBe('release-manager');
  });

  it('asks GET /user when GraphQL does not answer, and falls back to the Actions bot when neither does', async () => {
    stub.failNext({ status: 502, method: 'POST', path: /graphql$/ });
    expect(await client(STUB_PERSONAL_TOKEN).identity()).toEqual({ login: 'release-manager', type: 'User' });
    stub.failNext({ status: 502, method: 'POST', path: /graphql$/ });
    stub.failNext({ status: 404, method: 'GET', path: /^\/user$/ });
    expect(await client(STUB_TOKEN).identity()).toEqual({ login: 'github-actions[bot]', type: 'Bot' });
  });
});

describe('GitHubApi resilience', () => {
  it('retries a list page after a 502 and still finds the comment', async () => {
    const ours = stub.addComment(OWNER, REPO, PR, `${MARKER}\nbody`);
    stub.failNext({ status: 502, method: 'GET', path: /\/comments$/ });
    const found = await findMarkedComment(client(), PR, MARKER);
    expect(found?.id).toBe(ours.id);
    expect(stub.requests.filter((r) => r.path.endsWith('/comments')).map((r) => r.status)).toEqual([502, 200]);
  });

  it('does not leave two comments when the create response is lost', async () => {
    stub.failNext({ drop: true, method: 'POST', afterHandling: true, path: /\/comments$/ });
    const result = await upsertComment(client(), PR, MARKER, 'body');
    expect(stub.comments(OWNER, REPO, PR)).toHaveLength(1);
    expect(result.action).toBe('unchanged');
    expect(stub.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/comments'))).toHaveLength(1);
  });

  it('never repeats a POST by itself', async () => {
    stub.failNext({ status: 502, method: 'POST', count: 1 });
    const error = await rejection(client().createIssueComment(PR, 'body'));
    expect(error.transient).toBe(true);
    expect(stub.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('gives up on a silent server after the timeout, saying so', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const api = new GitHubApi({ apiUrl: `http://127.0.0.1:${port}`, repository: `${OWNER}/${REPO}` }, STUB_TOKEN, {
        timeoutMs: 200,
        retries: 1,
        retryDelayMs: 5,
      });
      const started = Date.now();
      const error = await rejection(findMarkedComment(api, PR, MARKER));
      expect(error.reason).toBe('network');
      expect(error.message).toMatch(/could not reach the GitHub API at .* \(no answer within 0\.2 s\)/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('retries a dropped connection on a PATCH, which is safe to repeat', async () => {
    const ours = stub.addComment(OWNER, REPO, PR, `${MARKER}\nold`);
    stub.failNext({ drop: true, method: 'PATCH' });
    const result = await upsertComment(client(), PR, MARKER, 'new');
    expect(result).toMatchObject({ id: ours.id, action: 'updated' });
    expect(stub.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([-1, 200]);
  });

  it('works under a GitHub Enterprise Server base path', async () => {
    await stub.close();
    stub = await startGitHubStub({ basePath: '/api/v3', defaultPerPage: 30 });
    expect(stub.url).toMatch(/\/api\/v3$/);
    for (let i = 0; i < 120; i++) stub.addComment(OWNER, REPO, PR, `c${i}`);
    const first = await upsertComment(client(STUB_TOKEN, false, `${stub.url}/`), PR, MARKER, 'one');
    const second = await upsertComment(client(STUB_TOKEN, false, stub.url), PR, MARKER, 'two');
    expect(second).toMatchObject({ id: first.id, action: 'updated' });
  });

  it('refuses to follow a next-page link to another host (the token would go with it)', async () => {
    const { createServer } = await import('node:http');
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', link: '<http://localhost:1/steal?page=2>; rel="next"' });
      res.end('[]');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const port = (evil.address() as { port: number }).port;
    try {
      const error = await rejection(
        findMarkedComment(client(STUB_TOKEN, false, `http://127.0.0.1:${port}`), PR, MARKER),
      );
      expect(error.message).toMatch(/next-page link leaves/);
    } finally {
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it('rejects a bad repository or API URL before any request', () => {
    expect(() => new GitHubApi({ apiUrl: stub.url, repository: 'no-slash' }, STUB_TOKEN)).toThrow(/owner\/repo/);
    expect(() => new GitHubApi({ apiUrl: 'ftp://x', repository: 'o/r' }, STUB_TOKEN)).toThrow(/GITHUB_API_URL/);
    expect(() => new GitHubApi({ apiUrl: stub.url, repository: 'o/r' }, '')).toThrow(/github-token/);
    expect(stub.requests).toHaveLength(0);
  });
});

describe('the fingerprint round trip for restore', () => {
  it('finds the merged pull request of a commit and reads the dry-run fingerprint from its comment', async () => {
    const fingerprint = '0123456789abcdef'.repeat(4);
    const api = client();
    await upsertComment(
      api,
      PR,
      MARKER,
      fitComment({ header: `${MARKER}\n${markedValue('fingerprint', fingerprint)}`, essential: 'ok', detail: '' }),
    );
    const mergeSha = '9'.repeat(40);
    stub.addPullForCommit(mergeSha, { number: 99, state: 'open', merged_at: null });
    stub.addPullForCommit(mergeSha, PR);

    const pull = await api.findMergedPullRequestForCommit(mergeSha);
    expect(pull).toMatchObject({ number: PR, mergeCommitSha: mergeSha });
    const comment = await findMarkedComment(api, pull!.number, MARKER);
    expect(readMarkedValue(comment!.body, 'fingerprint')).toBe(fingerprint);
    expect(comment!.authorType).toBe('Bot');
  });

  it('answers undefined when no merged pull request brought the commit in', async () => {
    const api = client();
    expect(await api.findMergedPullRequestForCommit('1'.repeat(40))).toBeUndefined();
    stub.addPullForCommit('2'.repeat(40), { number: 5, state: 'open', merged_at: null });
    expect(await api.findMergedPullRequestForCommit('2'.repeat(40))).toBeUndefined();
    await expect(api.findMergedPullRequestForCommit('not-a-sha')).rejects.toThrow(/not a commit SHA/);
  });
});
