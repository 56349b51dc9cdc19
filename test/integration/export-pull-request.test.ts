/**
 * `export` with `commit: pull-request`, end to end: the bundled action against the DHIS2 emulator, real git
 * with a bare remote, and the GitHub stand-in serving the pull-request endpoints (checked against that remote).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN } from '../github-stub/server.ts';
import { repoWithRemote, sh } from '../helpers/git-repo.ts';
import { runAction } from '../helpers/run-action.ts';

const COVAC = 'yDuAzyqYABS';
const BRANCH = 'dhis2-metadata/export';
const FILE = `metadata/${COVAC}.json`;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

type Obj = Record<string, unknown>;

/** Changes an object on the server (as a user of the Maintenance app would), undone after the test. */
function changeOnServer(collection: string, id: string, change: (o: Obj) => Obj): { stored: Obj; undo(): void } {
  const stored = emulator.store.get(collection, id) as Obj;
  emulator.store.put(collection, change(stored));
  const undo = () => emulator.store.put(collection, stored);
  cleanup.push(undo);
  return { stored, undo };
}

async function setup() {
  const repo = repoWithRemote({
    'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${COVAC}\n`,
  });
  cleanup.push(repo.remove);
  const github = await startGitHubStub({ gitRemote: repo.remote });
  cleanup.push(() => github.close());
  let runId = 4242;
  const run = (extra: Record<string, string> = {}) =>
    runAction(
      {
        command: 'export',
        'server-url': emulator.url,
        username: 'admin',
        password: 'district',
        commit: 'pull-request',
        'github-token': STUB_TOKEN,
        'pull-request-labels': 'dhis2, nightly',
        ...extra,
      },
      {
        workspace: repo.work,
        env: { GITHUB_REPOSITORY: 'acme/dhis2-config', GITHUB_API_URL: github.url, GITHUB_RUN_ID: String(runId++) },
      },
    );
  // The repository starts with the program as the server has it.
  const first = await runAction(
    { command: 'export', 'server-url': emulator.url, username: 'admin', password: 'district', commit: 'true' },
    { workspace: repo.work },
  );
  expect(first.errors).toEqual([]);
  const doc = JSON.parse(sh(repo.work, 'show', `main:${FILE}`)) as { dataElements: Obj[] };
  return { repo, github, run, dataElements: doc.dataElements };
}

function remoteSha(remote: string, ref: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: remote, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const JANE = { id: 'xE7jOejl9FI', name: 'Jane Doe', username: 'jane', displayName: 'Jane Doe' };

describe('export with commit: pull-request', () => {
  it('opens one pull request, updates it, rebuilds the branch on a moved base, and closes it when the server matches again', async () => {
    const { repo, github, run, dataElements } = await setup();
    const [deA, deB] = [dataElements[2]!, dataElements[4]!];
    const mainBefore = remoteSha(repo.remote, 'main');

    // 1. Someone renames a data element on the server: a pull request opens.
    const a = changeOnServer('dataElements', deA.id as string, (o) => ({
      ...o,
      name: `${o.name as string} (edited on prod)`,
      lastUpdated: '2025-03-01T10:04:05.123',
      lastUpdatedBy: JANE,
    }));
    const opened = await run();
    expect(opened.errors).toEqual([]);
    expect(opened.code).toBe(0);
    expect(github.pulls()).toHaveLength(1);
    const pr = github.pulls()[0]!;
    expect(pr).toMatchObject({ state: 'open', head: BRANCH, base: 'main', labels: ['dhis2', 'nightly'] });
    expect(opened.outputs['pull-request-number']).toBe(String(pr.number));
    expect(opened.outputs['pull-request-url']).toBe(`https://github.example/acme/dhis2-config/pull/${pr.number}`);
    expect(pr.title).toBe('DHIS2 metadata: COVAC - COVID-19 Vaccination Registry changed on the server');
    // main is untouched; the branch is one commit on top of it, with only the program's file.
    expect(remoteSha(repo.remote, 'main')).toBe(mainBefore);
    const head1 = remoteSha(repo.remote, BRANCH)!;
    expect(sh(repo.remote, 'rev-parse', `${head1}^`)).toBe(mainBefore);
    expect(sh(repo.remote, 'diff', '--name-only', 'main', head1)).toBe(FILE);
    expect(JSON.parse(sh(repo.remote, 'show', `${head1}:${FILE}`)).dataElements[2].name).toBe(
      `${a.stored.name as string} (edited on prod)`,
    );
    // The body: the object and field that differ, repository then server, and who changed it when.
    expect(pr.body).toContain('| object | field | repository | server now |');
    expect(pr.body).toContain(`\`${deA.id as string}\` (Jane Doe (jane), 2025-03-01 10:04)`);
    expect(pr.body).toContain('`name`');
    expect(pr.body).toContain(`<!-- dhis2-metadata:export-head=${head1} -->`);
    expect(pr.body).not.toContain(deB.id as string);
    expect(opened.summary).toContain(`Opened pull request [#${pr.number}]`);
    // The checkout itself stays on main, with the export in the working tree only.
    expect(sh(repo.work, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(sh(repo.work, 'rev-parse', 'HEAD')).toBe(mainBefore);

    // 2. A second change the next night: the same pull request is updated, the branch force-updated.
    changeOnServer('dataElements', deB.id as string, (o) => ({ ...o, formName: 'Changed again' }));
    const updated = await run();
    expect(updated.errors).toEqual([]);
    expect(github.pulls()).toHaveLength(1);
    expect(updated.outputs['pull-request-number']).toBe(String(pr.number));
    const head2 = remoteSha(repo.remote, BRANCH)!;
    expect(head2).not.toBe(head1);
    expect(sh(repo.remote, 'rev-list', '--count', `main..${head2}`)).toBe('1');
    const body2 = github.pulls()[0]!.body;
    expect(body2).toContain(deA.id as string);
    expect(body2).toContain(deB.id as string);
    expect(body2).toContain('`formName`');
    expect(body2).toContain(`export-head=${head2}`);
    expect(github.pulls()[0]!.labels).toEqual(['dhis2', 'nightly']);

    // The same export again: nothing to push, the pull request is left as it is.
    const again = await run();
    expect(again.errors).toEqual([]);
    expect(remoteSha(repo.remote, BRANCH)).toBe(head2);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);

    // 3. main moves on (someone merged something else): the branch is rebuilt on top of it.
    const other = repo.otherClone();
    writeFileSync(join(other, 'notes.md'), 'unrelated\n');
    sh(other, 'add', 'notes.md');
    sh(other, 'commit', '--quiet', '-m', 'Unrelated change');
    sh(other, 'push', '--quiet', 'origin', 'main');
    sh(repo.work, 'checkout', '--quiet', '--', '.');
    sh(repo.work, 'pull', '--quiet', '--ff-only', 'origin', 'main');
    const moved = await run();
    expect(moved.errors).toEqual([]);
    const head3 = remoteSha(repo.remote, BRANCH)!;
    expect(sh(repo.remote, 'rev-parse', `${head3}^`)).toBe(remoteSha(repo.remote, 'main'));
    expect(sh(repo.remote, 'rev-list', '--count', `main..${head3}`)).toBe('1');
    expect(sh(repo.remote, 'diff', '--name-only', 'main', head3)).toBe(FILE);
    expect(github.pulls()).toHaveLength(1);

    // 4. Production matches the repository again: the pull request is closed and the branch deleted.
    for (const f of cleanup.splice(-2)) await f(); // undo both server changes
    const closed = await run();
    expect(closed.errors).toEqual([]);
    expect(closed.code).toBe(0);
    expect(github.pulls()[0]!.state).toBe('closed');
    expect(remoteSha(repo.remote, BRANCH)).toBeUndefined();
    expect(closed.outputs['pull-request-number']).toBe('');
    expect(closed.outputs['pull-request-url']).toBe('');
    expect(github.comments('acme', 'dhis2-config', pr.number)[0]?.body).toMatch(/matches `main` again/);
    expect(github.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/git/refs/heads/${BRANCH}`))).toBe(
      true,
    );

    // And nothing differs the night after: no pull request, no request that writes.
    const writes = github.requests.filter((r) => r.method !== 'GET').length;
    const quiet = await run();
    expect(quiet.errors).toEqual([]);
    expect(github.pulls()).toHaveLength(1);
    expect(github.requests.filter((r) => r.method !== 'GET').length).toBe(writes);
  });

  it('refuses to overwrite a commit someone else pushed to the export branch (the lease), with one clear error', async () => {
    const { repo, github, run, dataElements } = await setup();
    changeOnServer('dataElements', dataElements[1]!.id as string, (o) => ({ ...o, shortName: 'Short, edited' }));
    expect((await run()).errors).toEqual([]);

    // A reviewer pushes a fix to the export branch.
    const other = repo.otherClone();
    sh(other, 'fetch', '--quiet', 'origin', BRANCH);
    sh(other, 'checkout', '--quiet', '-b', 'fix', 'FETCH_HEAD');
    writeFileSync(join(other, 'notes.md'), 'reviewer fix\n');
    sh(other, 'add', 'notes.md');
    sh(other, 'commit', '--quiet', '-m', 'Reviewer fix');
    sh(other, 'push', '--quiet', 'origin', `fix:${BRANCH}`);
    const theirs = remoteSha(repo.remote, BRANCH);

    changeOnServer('dataElements', dataElements[3]!.id as string, (o) => ({ ...o, formName: 'Another edit' }));
    const refused = await run();
    expect(refused.code).toBe(1);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]).toMatch(/git push to dhis2-metadata\/export was refused: .*someone pushed to it/);
    expect(refused.errors[0]).not.toMatch(/\n/);
    // Their commit is still there, the pull request untouched.
    expect(remoteSha(repo.remote, BRANCH)).toBe(theirs);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('keeps a hostile program name inert in the title, the body and the commit message', async () => {
    const { repo, github, run } = await setup();
    const hostile = 'Evil\n@octocat please look ![img](https://x.example/i.png)\nCo-authored-by: Mallory <m@x.example>';
    changeOnServer('programs', COVAC, (o) => ({ ...o, name: hostile }));
    const r = await run();
    expect(r.errors).toEqual([]);
    const pr = github.pulls()[0]!;
    // Title: one line.
    expect(pr.title).not.toMatch(/[\r\n]/);
    expect(pr.title).toContain('Evil @octocat please look');
    // Commit message: no forged trailer, no line starting with it.
    const head = remoteSha(repo.remote, BRANCH)!;
    const message = sh(repo.remote, 'log', '-1', '--format=%B', head);
    expect(message.split('\n').some((l) => /^co-authored-by:/i.test(l.trim()))).toBe(false);
    expect(sh(repo.remote, 'log', '-1', '--format=%(trailers)', head)).toBe('');
    // Body: no mention, no image, no forged line, wherever the name shows.
    expect(pr.body).not.toMatch(/@octocat/);
    expect(pr.body).not.toContain('![img]');
    expect(pr.body).not.toMatch(/^\s*Co-authored-by:/im);
    expect(pr.body).toContain('@\u200boctocat');
  });
});
