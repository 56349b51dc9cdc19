import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAndPush } from '../../src/github/git.ts';
import { UserError } from '../../src/errors.ts';
import { repoWithRemote, sh } from '../helpers/git-repo.ts';

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function setup() {
  const repo = repoWithRemote({ 'metadata/a.json': '{"a":1}\n', 'notes.txt': 'x\n' });
  cleanup.push(repo.remove);
  return repo;
}

describe('commitAndPush with real git and a bare remote', () => {
  it('commits only the given changed files and pushes one commit', async () => {
    const repo = setup();
    writeFileSync(join(repo.work, 'metadata/a.json'), '{"a":2}\n');
    writeFileSync(join(repo.work, 'notes.txt'), 'unrelated local edit\n');
    const out = await commitAndPush({ cwd: repo.work, files: ['metadata/a.json'], message: 'Export a' });
    expect(out.committed).toBe(true);
    expect(repo.remoteLog()).toEqual(['Export a', 'initial']);
    expect(sh(repo.remote, 'show', '--name-only', '--format=', 'main')).toBe('metadata/a.json');
    // The unrelated edit is still only in the working tree.
    expect(sh(repo.work, 'status', '--porcelain')).toBe('M notes.txt');
  });

  it('makes no commit when nothing changed', async () => {
    const repo = setup();
    const out = await commitAndPush({ cwd: repo.work, files: ['metadata/a.json'], message: 'Export a' });
    expect(out).toEqual({ committed: false, rebased: false });
    expect(repo.remoteLog()).toEqual(['initial']);
  });

  it('adds a new file in a new folder', async () => {
    const repo = setup();
    mkdirSync(join(repo.work, 'metadata/new'), { recursive: true });
    writeFileSync(join(repo.work, 'metadata/new/b.json'), '{}\n');
    const out = await commitAndPush({ cwd: repo.work, files: ['metadata/new/b.json'], message: 'Add b' });
    expect(out.committed).toBe(true);
    expect(sh(repo.remote, 'ls-tree', '-r', '--name-only', 'main')).toContain('metadata/new/b.json');
  });

  it('rebases once and pushes when the branch moved on the remote', async () => {
    const repo = setup();
    const other = repo.otherClone();
    writeFileSync(join(other, 'notes.txt'), 'someone else\n');
    sh(other, 'commit', '--quiet', '-am', 'Someone else');
    sh(other, 'push', '--quiet', 'origin', 'main');

    writeFileSync(join(repo.work, 'metadata/a.json'), '{"a":3}\n');
    const out = await commitAndPush({ cwd: repo.work, files: ['metadata/a.json'], message: 'Export a' });
    expect(out.rebased).toBe(true);
    expect(repo.remoteLog()).toEqual(['Export a', 'Someone else', 'initial']);
  });

  it('stops with a clear error when the rebase conflicts', async () => {
    const repo = setup();
    const other = repo.otherClone();
    writeFileSync(join(other, 'metadata/a.json'), '{"a":"theirs"}\n');
    sh(other, 'commit', '--quiet', '-am', 'Theirs');
    sh(other, 'push', '--quiet', 'origin', 'main');

    writeFileSync(join(repo.work, 'metadata/a.json'), '{"a":"ours"}\n');
    const err = await commitAndPush({ cwd: repo.work, files: ['metadata/a.json'], message: 'Ours' }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/rebase .* conflicts/);
    expect(repo.remoteLog()).toEqual(['Theirs', 'initial']);
    expect(sh(repo.work, 'status', '--porcelain')).toBe(''); // rebase aborted, nothing half-done
  });

  it('refuses a detached HEAD', async () => {
    const repo = setup();
    sh(repo.work, 'checkout', '--quiet', '--detach');
    writeFileSync(join(repo.work, 'metadata/a.json'), '{"a":4}\n');
    await expect(commitAndPush({ cwd: repo.work, files: ['metadata/a.json'], message: 'x' })).rejects.toThrow(
      /HEAD is detached/,
    );
  });
});
