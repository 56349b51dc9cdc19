/**
 * The pieces of `commit: pull-request` that need no server: the inputs, the comparison of the repository's file
 * with the export (what changed on the server, and who changed it), the body's size, and the export commit's
 * tree built with git's plumbing (real git, no checkout touched).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSettings, type RawInputs } from '../../src/config/inputs.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  defaultTitle,
  pullRequestBody,
  serverChange,
  serverStamps,
  type ExportedProgram,
} from '../../src/steps/export-pull-request.ts';
import { baseCheckout, exportTree, fileAt, pushExportBranch } from '../../src/github/export-branch.ts';
import { canonicalJson } from '../../src/metadata/canonical.ts';
import type { MetadataDocument } from '../../src/metadata/types.ts';
import { clearSecrets } from '../../src/util/secrets.ts';
import { repoWithRemote, sh } from '../helpers/git-repo.ts';
import { MINIMAL_CONFIG, tempWorkspace } from '../helpers/workspace.ts';

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
  clearSecrets();
});

function settingsFor(raw: RawInputs) {
  const ws = tempWorkspace({ 'dhis2-metadata.yml': MINIMAL_CONFIG });
  cleanup.push(ws.remove);
  return buildSettings(
    { command: 'export', 'server-url': 'https://dhis2.example.org', ...raw },
    { cwd: ws.dir, env: {} },
  );
}

function program(doc: MetadataDocument, raw: MetadataDocument = doc, name = 'Child Programme'): ExportedProgram {
  return { id: 'IpHINAT79UW', name, file: 'metadata/child.json', text: canonicalJson(doc), doc, raw };
}

describe('commit: pull-request inputs', () => {
  it('gives the branch (default dhis2-metadata/export), title and labels; commit stays false', () => {
    const s = settingsFor({ commit: 'pull-request', 'pull-request-labels': 'dhis2,\nnightly' });
    expect(s.commit).toBe(false);
    expect(s.pullRequest).toEqual({ branch: 'dhis2-metadata/export', title: undefined, labels: ['dhis2', 'nightly'] });
    const t = settingsFor({ commit: 'pull-request', 'pull-request-branch': 'bot/prod', 'pull-request-title': 'T' });
    expect(t.pullRequest).toMatchObject({ branch: 'bot/prod', title: 'T', labels: [] });
    const c = settingsFor({ commit: 'true' });
    expect(c.commit).toBe(true);
    expect(c.pullRequest).toBeUndefined();
  });

  it.each(['a..b', 'has space', '-x', 'x.lock', 'refs/heads/x', 'a//b', 'x/', 'a~1', 'a:b'])(
    'refuses the branch name %j',
    (branch) => {
      expect(() => settingsFor({ commit: 'pull-request', 'pull-request-branch': branch })).toThrow(ConfigError);
    },
  );

  it('names the three values of commit when given another', () => {
    expect(() => settingsFor({ commit: 'pr' })).toThrow('input commit must be true, false or pull-request (got "pr")');
  });
});

describe('what changed on the server', () => {
  const repo: MetadataDocument = {
    programs: [{ id: 'IpHINAT79UW', name: 'Child Programme' }],
    dataElements: [
      { id: 'deA00000001', name: 'Weight', formName: 'Weight (g)' },
      { id: 'deB00000001', name: 'Height' },
    ],
  };

  it('is nothing when the export equals the repository (in layout or volatile stamps only)', () => {
    expect(serverChange(program(repo), canonicalJson(repo))).toBeUndefined();
  });

  it('lists changed, new and gone objects, the server being the new side', () => {
    const server: MetadataDocument = {
      programs: repo.programs!,
      dataElements: [
        { id: 'deA00000001', name: 'Weight', formName: 'Weight in grams' },
        { id: 'deC00000001', name: 'Head circumference' },
      ],
    };
    const change = serverChange(program(server), canonicalJson(repo))!;
    expect(change.diff.totals).toEqual({ created: 1, changed: 1, unchanged: 1 });
    const changed = change.diff.collections.flatMap((c) => c.changed);
    expect(changed[0]).toMatchObject({
      id: 'deA00000001',
      fields: [{ path: 'formName', old: 'Weight (g)', new: 'Weight in grams' }],
    });
    expect(change.removed).toEqual({ dataElements: ['deB00000001'] });
    expect(change.newFile).toBe(false);
    expect(serverChange(program(server), undefined)?.newFile).toBe(true);
  });

  it("reads who changed an object and when from the raw export's stamps", () => {
    const stamps = serverStamps({
      dataElements: [
        {
          id: 'deA00000001',
          lastUpdated: '2025-03-01T10:04:05.123',
          lastUpdatedBy: { id: 'u1', name: 'Jane Doe', username: 'jane' },
        },
        { id: 'deB00000001', lastUpdatedBy: { id: 'u2', username: 'admin' } },
        { id: 'deC00000001', lastUpdated: '2024-12-31T23:59:00.000' },
        { id: 'deD00000001' },
      ],
    });
    expect(Object.fromEntries(stamps)).toEqual({
      deA00000001: 'Jane Doe (jane), 2025-03-01 10:04',
      deB00000001: 'by admin',
      deC00000001: '2024-12-31 23:59',
    });
  });

  it('keeps the body under GitHub limit, cutting the per-object detail and keeping the head marker', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      id: `de${String(i).padStart(9, '0')}`,
      name: `Data element ${i}`,
      description: 'x'.repeat(50),
    }));
    const server: MetadataDocument = {
      dataElements: many.map((d) => ({ ...d, description: 'y'.repeat(50) })),
    };
    const change = serverChange(program(server), canonicalJson({ dataElements: many }))!;
    const sha = 'a'.repeat(40);
    const body = pullRequestBody({
      changes: [change],
      server: { url: 'https://dhis2.example.org', version: '2.41.3' },
      base: 'main',
      sha,
      settings: { github: { apiUrl: '', serverUrl: 'https://github.com', repository: 'o/r', runId: '1' } },
    });
    expect(body.length).toBeLessThanOrEqual(65_000);
    expect(body).toContain(`<!-- dhis2-metadata:export-head=${sha} -->`);
    expect(body).toContain('Cut to fit');
    expect(body.startsWith('<!-- dhis2-metadata:export-pull-request -->')).toBe(true);
  });

  it('makes a title of one line from a hostile name', () => {
    const change = serverChange(program(repo, repo, 'A\nCo-authored-by: M <m@x>'), undefined)!;
    expect(defaultTitle([change])).toBe('DHIS2 metadata: A Co-authored-by: M <m@x> changed on the server');
  });
});

describe('the export commit (git plumbing)', () => {
  it('is the base tree with the new files, in new folders too, leaving the checkout and index alone', async () => {
    const repo = repoWithRemote({ 'metadata/a.json': '{"a":1}\n', 'run.sh': '#!/bin/sh\n', 'x/y/keep.txt': 'k\n' });
    cleanup.push(repo.remove);
    chmodSync(join(repo.work, 'run.sh'), 0o755);
    sh(repo.work, 'add', 'run.sh');
    sh(repo.work, 'commit', '--quiet', '-m', 'exec');
    writeFileSync(join(repo.work, 'notes.txt'), 'staged, not ours\n');
    sh(repo.work, 'add', 'notes.txt');

    const base = await baseCheckout(repo.work, 'export');
    expect(base.branch).toBe('main');
    expect(await fileAt(repo.work, base, 'metadata/a.json')).toBe('{"a":1}\n');
    expect(await fileAt(repo.work, base, 'metadata/none.json')).toBeUndefined();
    const tree = await exportTree(repo.work, base, [
      { path: 'metadata/a.json', text: '{"a":2}\n' },
      { path: 'x/y/z/new.json', text: '{}\n' },
    ]);
    const out = await pushExportBranch({ cwd: repo.work, base, tree, branch: 'export', message: 'Export\n' });
    expect(out.pushed).toBe(true);
    const files = sh(repo.remote, 'ls-tree', '-r', 'export').split('\n');
    expect(files.map((l) => l.split('\t')[1]).sort()).toEqual(
      ['metadata/a.json', 'run.sh', 'x/y/keep.txt', 'x/y/z/new.json'].sort(),
    );
    expect(files.find((l) => l.endsWith('\trun.sh'))).toMatch(/^100755/);
    expect(sh(repo.remote, 'show', 'export:metadata/a.json')).toBe('{"a":2}');
    expect(sh(repo.remote, 'rev-parse', 'export^')).toBe(base.sha);
    // The checkout: same branch and commit, the staged file still staged, nothing else.
    expect(sh(repo.work, 'rev-parse', 'HEAD')).toBe(base.sha);
    expect(sh(repo.work, 'status', '--porcelain')).toBe('A  notes.txt');

    // The same export again pushes nothing.
    const again = await pushExportBranch({ cwd: repo.work, base, tree, branch: 'export', message: 'Export\n' });
    expect(again).toMatchObject({ pushed: false, sha: out.sha });
  });

  it('works from a workspace in a subfolder of the repository', async () => {
    const repo = repoWithRemote({ 'dhis/metadata/a.json': '{"a":1}\n' });
    cleanup.push(repo.remove);
    const cwd = join(repo.work, 'dhis');
    mkdirSync(cwd, { recursive: true });
    const base = await baseCheckout(cwd, 'export');
    expect(base.prefix).toBe('dhis/');
    const tree = await exportTree(cwd, base, [{ path: 'metadata/a.json', text: '{"a":3}\n' }]);
    await pushExportBranch({ cwd, base, tree, branch: 'export', message: 'Export' });
    expect(sh(repo.remote, 'show', 'export:dhis/metadata/a.json')).toBe('{"a":3}');
  });

  it('refuses a detached HEAD and the export branch itself as the base', async () => {
    const repo = repoWithRemote();
    cleanup.push(repo.remove);
    await expect(baseCheckout(repo.work, 'main')).rejects.toThrow(/is the branch checked out/);
    sh(repo.work, 'checkout', '--quiet', '--detach');
    await expect(baseCheckout(repo.work, 'export')).rejects.toThrow(/HEAD is detached/);
  });

  it('with a lease, refuses when the branch is not where the export left it', async () => {
    const repo = repoWithRemote({ 'a.json': '{}\n' });
    cleanup.push(repo.remove);
    const base = await baseCheckout(repo.work, 'export');
    const tree = await exportTree(repo.work, base, [{ path: 'a.json', text: '{"v":1}\n' }]);
    const first = await pushExportBranch({ cwd: repo.work, base, tree, branch: 'export', message: 'one' });
    // The export believes it left the branch elsewhere (someone pushed since): nothing is overwritten.
    const tree2 = await exportTree(repo.work, base, [{ path: 'a.json', text: '{"v":2}\n' }]);
    await expect(
      pushExportBranch({ cwd: repo.work, base, tree: tree2, branch: 'export', message: 'two', expected: base.sha }),
    ).rejects.toThrow(/refused: the branch has a commit the export did not make/);
    expect(sh(repo.remote, 'rev-parse', 'export')).toBe(first.sha);
    // Where the export did leave it: force-updated.
    const second = await pushExportBranch({
      cwd: repo.work,
      base,
      tree: tree2,
      branch: 'export',
      message: 'two',
      expected: first.sha,
    });
    expect(sh(repo.remote, 'rev-parse', 'export')).toBe(second.sha);
    expect(sh(repo.remote, 'rev-parse', 'export^')).toBe(base.sha);

    // A branch deleted by hand is simply made again.
    sh(repo.remote, 'update-ref', '-d', 'refs/heads/export');
    const third = await pushExportBranch({
      cwd: repo.work,
      base,
      tree: tree2,
      branch: 'export',
      message: 'three',
      expected: second.sha,
    });
    expect(sh(repo.remote, 'rev-parse', 'export')).toBe(third.sha);
  });
});

describe('the pull-request endpoints of GitHubApi, against the stand-in', () => {
  it('lists, opens, updates, labels and deletes; says which permissions a refusal needs', async () => {
    const { startGitHubStub, STUB_TOKEN, STUB_READ_ONLY_TOKEN } = await import('../github-stub/server.ts');
    const { GitHubApi } = await import('../../src/github/api.ts');
    const repo = repoWithRemote();
    cleanup.push(repo.remove);
    sh(repo.work, 'push', '--quiet', 'origin', 'main:refs/heads/export');
    const stub = await startGitHubStub({ gitRemote: repo.remote });
    try {
      const ctx = { apiUrl: stub.url, repository: 'acme/cfg' };
      const api = new GitHubApi(ctx, STUB_TOKEN, { retries: 0 });
      expect(await api.openPullRequests('export', 'main')).toEqual([]);
      const pr = await api.createPullRequest({ head: 'export', base: 'main', title: 'T', body: 'B' });
      expect(pr).toMatchObject({ state: 'open', headRef: 'export', baseRef: 'main', title: 'T', body: 'B' });
      // A second one for the same branches: GitHub's 422.
      await expect(
        api.createPullRequest({ head: 'export', base: 'main', title: 'T', body: 'B' }),
      ).rejects.toMatchObject({ reason: 'validation' });
      expect((await api.openPullRequests('export', 'main')).map((p) => p.number)).toEqual([pr.number]);
      expect(await api.openPullRequests('export', 'develop')).toEqual([]);
      await api.addLabels(pr.number, ['dhis2']);
      const updated = await api.updatePullRequest(pr.number, { body: 'B2' });
      expect(updated).toMatchObject({ body: 'B2', labels: ['dhis2'] });
      expect(await api.deleteBranch('export')).toBe(true);
      expect(await api.deleteBranch('export')).toBe(false);
      expect(stub.pulls()[0]!.state).toBe('closed');

      const readOnly = new GitHubApi(ctx, STUB_READ_ONLY_TOKEN, { retries: 0 });
      const refused = await readOnly
        .createPullRequest({ head: 'main', base: 'main', title: 'T', body: '' })
        .catch((e: Error) => e);
      expect((refused as Error).message).toMatch(/403.*contents: write, pull-requests: write/);
    } finally {
      await stub.close();
    }
  });
});
