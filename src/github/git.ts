/**
 * Commits exported files with the runner's own git (actions/checkout leaves it configured with the
 * job's credentials), pushing to the branch that is checked out. Only the given paths are staged, so
 * nothing else in the workspace is ever committed by accident.
 */
import { execFile } from 'node:child_process';
import { UserError } from '../errors.ts';
import { redact } from '../util/secrets.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs git; `input` is written to its stdin (mktree, hash-object --stdin). */
export async function git(cwd: string, args: string[], input?: string): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ stdout: stdout.toString(), stderr: stderr.toString(), code });
    });
    // A git that exits before reading all of it (an error) must not crash us with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

export async function gitOk(cwd: string, args: string[], what: string, input?: string): Promise<string> {
  const r = await git(cwd, args, input);
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ');
    throw new UserError(`git ${what} failed: ${detail}`);
  }
  return r.stdout.trim();
}

/** The bot identity GitHub shows for commits made with GITHUB_TOKEN, used when git has none. */
const BOT = { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' };

export async function identityArgs(cwd: string): Promise<string[]> {
  const email = await git(cwd, ['config', 'user.email']);
  const name = await git(cwd, ['config', 'user.name']);
  const args: string[] = [];
  if (email.code !== 0 || !email.stdout.trim()) args.push('-c', `user.email=${BOT.email}`);
  if (name.code !== 0 || !name.stdout.trim()) args.push('-c', `user.name=${BOT.name}`);
  return args;
}

export interface CommitOutcome {
  committed: boolean;
  sha?: string;
  branch?: string;
  /** The branch had moved on the remote: our commit was rebased onto it before the push. */
  rebased: boolean;
}

function rejectedBecauseBehind(r: GitResult): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|failed to push some refs/i.test(r.stderr);
}

/**
 * Stages exactly `files` (workspace-relative), commits them when they differ from HEAD, and pushes. A push
 * rejected because the branch moved is fetched, rebased and pushed once more.
 */
export async function commitAndPush(options: {
  cwd: string;
  files: string[];
  message: string;
  remote?: string;
  log?: (message: string) => void;
}): Promise<CommitOutcome> {
  const { cwd, files } = options;
  // Names from the server are in it: no secret, in any form, goes into the history.
  const message = redact(options.message);
  const remote = options.remote ?? 'origin';
  const log = options.log ?? (() => {});
  if (files.length === 0) return { committed: false, rebased: false };

  await gitOk(
    cwd,
    ['rev-parse', '--git-dir'],
    'rev-parse (is the workspace a git checkout? run actions/checkout first)',
  );
  await gitOk(cwd, ['add', '--', ...files], 'add');
  const staged = await git(cwd, ['diff', '--cached', '--quiet', '--', ...files]);
  if (staged.code === 0) {
    log('git: nothing to commit, the files match HEAD');
    return { committed: false, rebased: false };
  }

  const branch = await gitOk(cwd, ['rev-parse', '--abbrev-ref', 'HEAD'], 'rev-parse');
  if (branch === 'HEAD') {
    throw new UserError(
      'commit: true needs a branch checkout, but HEAD is detached (check out a branch, e.g. actions/checkout with ref: main)',
    );
  }
  const identity = await identityArgs(cwd);
  await gitOk(cwd, [...identity, 'commit', '--quiet', '-m', message, '--', ...files], 'commit');
  let sha = await gitOk(cwd, ['rev-parse', 'HEAD'], 'rev-parse');
  log(`git: committed ${sha.slice(0, 7)} on ${branch}`);

  let push = await git(cwd, ['push', remote, `HEAD:refs/heads/${branch}`]);
  let rebased = false;
  if (push.code !== 0 && rejectedBecauseBehind(push)) {
    log(`git: ${branch} moved on ${remote}; fetching and rebasing once`);
    await gitOk(cwd, ['fetch', '--quiet', remote, branch], 'fetch');
    const rebase = await git(cwd, [...identity, 'rebase', '--quiet', 'FETCH_HEAD']);
    if (rebase.code !== 0) {
      await git(cwd, ['rebase', '--abort']);
      throw new UserError(
        `git push to ${branch} was rejected and the rebase onto ${remote}/${branch} conflicts; the exported files were changed on the branch meanwhile: rerun the export`,
      );
    }
    rebased = true;
    sha = await gitOk(cwd, ['rev-parse', 'HEAD'], 'rev-parse');
    push = await git(cwd, ['push', remote, `HEAD:refs/heads/${branch}`]);
  }
  if (push.code !== 0) {
    const detail = push.stderr.trim().split('\n').slice(-3).join(' ');
    throw new UserError(
      `git push to ${branch} failed: ${detail} (the job needs permissions: contents: write, and a branch that accepts pushes)`,
    );
  }
  log(`git: pushed ${sha.slice(0, 7)} to ${remote}/${branch}`);
  return { committed: true, sha, branch, rebased };
}

/** A full object name (sha-1 or sha-256). */
const OBJECT_NAME = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** The commit `rev` names, when the checkout has it. */
async function commitOf(cwd: string, rev: string): Promise<string | undefined> {
  const r = await git(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export interface FilesAtRevision {
  /** The commit the files were read at (the merge base of `rev` and HEAD when git can tell). */
  commit: string;
  /** Per workspace-relative path: its text at that commit, or null when it did not exist there. */
  files: Map<string, string | null>;
}

/**
 * The given files as they were at `rev`, seen as `git diff rev...HEAD` sees the change: at the merge base of
 * `rev` and HEAD (on a pull_request checkout, HEAD is the merge commit and the merge base is `rev` itself).
 * A commit the checkout lacks (actions/checkout's fetch-depth: 1) is fetched from `remote` by its name; in
 * a shallow clone where the merge base can't be found, `rev` itself is used. Throws a UserError saying why
 * the files can't be had.
 */
export async function filesAtRevision(
  workspace: string,
  rev: string,
  paths: readonly string[],
  remote = 'origin',
): Promise<FilesAtRevision> {
  const top = await git(workspace, ['rev-parse', '--show-toplevel']);
  if (top.code !== 0) throw new UserError('the workspace is not a git checkout');
  let commit = await commitOf(workspace, rev);
  if (!commit) {
    const fetched = await git(workspace, ['fetch', '--no-tags', '--quiet', '--depth=1', remote, rev]);
    if (fetched.code === 0) commit = (await commitOf(workspace, rev)) ?? (await commitOf(workspace, 'FETCH_HEAD'));
    if (!commit) {
      const why = (fetched.stderr || fetched.stdout).trim().split('\n').pop() ?? '';
      throw new UserError(
        `commit ${rev} is not in the checkout and could not be fetched from ${remote}${why ? ` (${why})` : ''}`,
      );
    }
  }
  const base = await git(workspace, ['merge-base', commit, 'HEAD']);
  const at = base.code === 0 && OBJECT_NAME.test(base.stdout.trim()) ? base.stdout.trim() : commit;
  const files = new Map<string, string | null>();
  for (const path of paths) {
    // `git show <commit>:./<path>` resolves against the working directory: run it in the workspace.
    const spec = `${at}:./${path.replace(/\\/g, '/')}`;
    const exists = await git(workspace, ['cat-file', '-e', spec]);
    if (exists.code !== 0) {
      files.set(path, null);
      continue;
    }
    files.set(path, await gitOk(workspace, ['cat-file', 'blob', spec], `cat-file (${path} at ${at.slice(0, 7)})`));
  }
  return { commit: at, files };
}
