import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A real bare remote and a clone of it on branch main, with one initial commit. */
export function repoWithRemote(files: Record<string, string> = { 'README.md': 'hello\n' }) {
  const root = mkdtempSync(join(tmpdir(), 'git-test-'));
  const remote = join(root, 'remote.git');
  const work = join(root, 'work');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  execFileSync('git', ['clone', '--quiet', remote, work], { stdio: 'ignore' });
  sh(work, 'checkout', '--quiet', '-B', 'main');
  sh(work, 'config', 'user.email', 'test@example.org');
  sh(work, 'config', 'user.name', 'Test');
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(work, p)), { recursive: true });
    writeFileSync(join(work, p), t);
  }
  sh(work, 'add', '-A');
  sh(work, 'commit', '--quiet', '-m', 'initial');
  sh(work, 'push', '--quiet', 'origin', 'main');
  return {
    root,
    remote,
    work,
    /** Another clone, to move the branch behind our back. */
    otherClone(): string {
      const other = join(root, `other-${Math.random().toString(36).slice(2)}`);
      execFileSync('git', ['clone', '--quiet', '--branch', 'main', remote, other], { stdio: 'ignore' });
      sh(other, 'config', 'user.email', 'other@example.org');
      sh(other, 'config', 'user.name', 'Other');
      return other;
    },
    remoteLog(): string[] {
      return sh(remote, 'log', '--format=%s', 'main').split('\n');
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
