import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { isPullRequestEvent, readPullRequest } from '../../src/github/event.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

/** The parts of a real pull_request payload the code reads (webhook docs, "pull_request" event). */
function pullRequestPayload(opts: { number: number; head?: string | null; base?: string; sha?: string }) {
  return {
    action: 'synchronize',
    number: opts.number,
    pull_request: {
      number: opts.number,
      head: {
        sha: opts.sha ?? 'a'.repeat(40),
        ref: 'feature',
        repo: opts.head === null ? null : { full_name: opts.head ?? 'dhis2/config' },
      },
      base: { sha: 'b'.repeat(40), ref: 'main', repo: { full_name: opts.base ?? 'dhis2/config' } },
    },
    repository: { full_name: opts.base ?? 'dhis2/config' },
  };
}

let ws: ReturnType<typeof tempWorkspace>;
beforeEach(() => {
  ws = tempWorkspace();
});
afterEach(() => ws.remove());

function eventFile(payload: unknown): string {
  const path = join(ws.dir, 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return path;
}

describe('readPullRequest', () => {
  it('reads number, head SHA and base branch of a pull_request event from the same repository', () => {
    const eventPath = eventFile(pullRequestPayload({ number: 17, sha: 'c'.repeat(40) }));
    expect(readPullRequest({ eventName: 'pull_request', eventPath })).toEqual({
      number: 17,
      headSha: 'c'.repeat(40),
      baseRef: 'main',
      baseSha: 'b'.repeat(40),
      fromFork: false,
    });
  });

  it('flags a pull request from a fork, also on pull_request_target', () => {
    const eventPath = eventFile(pullRequestPayload({ number: 3, head: 'someone/config', base: 'dhis2/config' }));
    expect(readPullRequest({ eventName: 'pull_request', eventPath })?.fromFork).toBe(true);
    expect(readPullRequest({ eventName: 'pull_request_target', eventPath })).toMatchObject({
      number: 3,
      fromFork: true,
    });
  });

  it('treats a deleted fork (head.repo null) as a fork, and compares names case-insensitively', () => {
    expect(
      readPullRequest({
        eventName: 'pull_request',
        eventPath: eventFile(pullRequestPayload({ number: 4, head: null })),
      })?.fromFork,
    ).toBe(true);
    const same = eventFile(pullRequestPayload({ number: 5, head: 'DHIS2/Config', base: 'dhis2/config' }));
    expect(readPullRequest({ eventName: 'pull_request', eventPath: same })?.fromFork).toBe(false);
  });

  it('answers undefined for push and workflow_dispatch, without reading the file', () => {
    const push = eventFile({ ref: 'refs/heads/main', after: 'd'.repeat(40), commits: [] });
    expect(readPullRequest({ eventName: 'push', eventPath: push })).toBeUndefined();
    expect(
      readPullRequest({ eventName: 'workflow_dispatch', eventPath: join(ws.dir, 'missing.json') }),
    ).toBeUndefined();
    expect(readPullRequest({ eventName: undefined })).toBeUndefined();
    expect(isPullRequestEvent({ eventName: 'push' })).toBe(false);
    expect(isPullRequestEvent({ eventName: 'workflow_dispatch' })).toBe(false);
    expect(isPullRequestEvent({ eventName: 'pull_request' })).toBe(true);
    expect(isPullRequestEvent({ eventName: 'pull_request_target' })).toBe(true);
  });

  it('explains a missing, unreadable or malformed event file in one line', () => {
    const missing = join(ws.dir, 'nope.json');
    expect(() => readPullRequest({ eventName: 'pull_request', eventPath: missing })).toThrow(UserError);
    expect(() => readPullRequest({ eventName: 'pull_request', eventPath: missing })).toThrow(/ENOENT/);
    expect(() => readPullRequest({ eventName: 'pull_request' })).toThrow(/no event file/);
    const bad = join(ws.dir, 'bad.json');
    writeFileSync(bad, '{not json');
    expect(() => readPullRequest({ eventName: 'pull_request', eventPath: bad })).toThrow(/cannot read/);
    const noNumber = eventFile({ pull_request: { head: {}, base: {} } });
    expect(() => readPullRequest({ eventName: 'pull_request', eventPath: noNumber })).toThrow(/no pull request number/);
  });
});
