/**
 * The export branch of `commit: pull-request`: one commit with the exported files on top of the branch that
 * is checked out, built with git's plumbing (blobs, trees, commit-tree) so neither the checkout, its index nor
 * the current branch is touched, and pushed to `pull-request-branch` with a lease. The branch therefore always
 * holds exactly the latest export on top of the current branch; the lease makes sure a push never throws away
 * a commit the export did not make (someone pushed to the branch since).
 */
import { UserError } from '../errors.ts';
import { redact } from '../util/secrets.ts';
import { git, gitOk, identityArgs } from './git.ts';

export interface ExportFile {
  /** Path relative to the workspace. */
  path: string;
  text: string;
}

export interface BaseCheckout {
  /** The branch checked out (the pull request's base). */
  branch: string;
  /** Its commit: the export commit's parent. */
  sha: string;
  /** Where the workspace sits in the repository (`` or `sub/dir/`), for paths in trees. */
  prefix: string;
}

/** The branch checked out in `cwd`, refusing a detached HEAD and a checkout that is not git at all. */
export async function baseCheckout(cwd: string, exportBranch: string): Promise<BaseCheckout> {
  await gitOk(
    cwd,
    ['rev-parse', '--git-dir'],
    'rev-parse (is the workspace a git checkout? run actions/checkout first)',
  );
  const branch = await gitOk(cwd, ['rev-parse', '--abbrev-ref', 'HEAD'], 'rev-parse');
  if (branch === 'HEAD') {
    throw new UserError(
      'commit: pull-request needs a branch checkout to open the pull request into, but HEAD is detached (check out a branch, e.g. actions/checkout with ref: main)',
    );
  }
  if (branch === exportBranch) {
    throw new UserError(
      `commit: pull-request: pull-request-branch "${exportBranch}" is the branch checked out; run the export on the branch the pull request goes into (e.g. main)`,
    );
  }
  const valid = await git(cwd, ['check-ref-format', `refs/heads/${exportBranch}`]);
  if (valid.code !== 0) throw new UserError(`input pull-request-branch is not a valid branch name: "${exportBranch}"`);
  const sha = await gitOk(cwd, ['rev-parse', 'HEAD'], 'rev-parse');
  const prefix = await gitOk(cwd, ['rev-parse', '--show-prefix'], 'rev-parse');
  return { branch, sha, prefix };
}

/** The file's text in a commit, or undefined when the commit does not have it. */
export async function fileAt(cwd: string, base: BaseCheckout, path: string): Promise<string | undefined> {
  const r = await git(cwd, ['cat-file', 'blob', `${base.sha}:${base.prefix}${path}`]);
  return r.code === 0 ? r.stdout : undefined;
}

interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  name: string;
}

async function readTree(cwd: string, tree: string | undefined): Promise<TreeEntry[]> {
  if (!tree) return [];
  const out = await gitOk(cwd, ['ls-tree', '-z', tree], 'ls-tree');
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode, type, sha] = line.slice(0, tab).split(' ') as [string, string, string];
      return { mode, type, sha, name: line.slice(tab + 1) };
    });
}

/** `tree` with each path (split in parts) set to its blob; folders that do not exist yet are created. */
async function treeWith(cwd: string, tree: string | undefined, blobs: [string[], string][]): Promise<string> {
  const entries = new Map((await readTree(cwd, tree)).map((e) => [e.name, e]));
  const byFolder = new Map<string, [string[], string][]>();
  for (const [parts, blob] of blobs) {
    const [first, ...rest] = parts as [string, ...string[]];
    if (rest.length === 0) {
      const old = entries.get(first);
      // Keep an executable bit; anything else (a folder, a link, a submodule) becomes the file.
      const mode = old?.type === 'blob' && old.mode === '100755' ? '100755' : '100644';
      entries.set(first, { mode, type: 'blob', sha: blob, name: first });
    } else {
      byFolder.set(first, [...(byFolder.get(first) ?? []), [rest, blob]]);
    }
  }
  for (const [folder, inside] of byFolder) {
    const old = entries.get(folder);
    const sub = await treeWith(cwd, old?.type === 'tree' ? old.sha : undefined, inside);
    entries.set(folder, { mode: '040000', type: 'tree', sha: sub, name: folder });
  }
  const input = [...entries.values()].map((e) => `${e.mode} ${e.type} ${e.sha}\t${e.name}\0`).join('');
  return gitOk(cwd, ['mktree', '-z'], 'mktree', input);
}

/** The base commit's tree with the files' new texts. */
export async function exportTree(cwd: string, base: BaseCheckout, files: ExportFile[]): Promise<string> {
  const blobs: [string[], string][] = [];
  for (const file of files) {
    const path = `${base.prefix}${file.path.split(/[\\/]+/).join('/')}`;
    // --path: the repository's attributes (line endings, filters) apply as `git add` would apply them.
    const blob = await gitOk(cwd, ['hash-object', '-w', '--stdin', `--path=${path}`], 'hash-object', file.text);
    blobs.push([path.split('/'), blob]);
  }
  const baseTree = await gitOk(cwd, ['rev-parse', `${base.sha}^{tree}`], 'rev-parse');
  return treeWith(cwd, baseTree, blobs);
}

export async function treeOf(cwd: string, commit: string): Promise<string> {
  return gitOk(cwd, ['rev-parse', `${commit}^{tree}`], 'rev-parse');
}

/** The branch's commit on the remote, or undefined when it has no such branch. */
export async function remoteBranch(cwd: string, remote: string, branch: string): Promise<string | undefined> {
  const out = await gitOk(cwd, ['ls-remote', '--heads', remote, `refs/heads/${branch}`], `ls-remote ${remote}`);
  const line = out.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
  return line ? line.split('\t')[0] : undefined;
}

export interface BranchOutcome {
  /** The export commit the branch holds now. */
  sha: string;
  /** False when the branch already held exactly this export on this base (nothing pushed). */
  pushed: boolean;
  /** The branch's commit before (undefined: it was created). */
  previous?: string;
}

/**
 * Puts one commit with `tree` on top of the base on `branch` at `remote`. `expected` is where the export left
 * the branch last time (recorded in its pull request); without it, wherever the remote has it now. The push is
 * forced with that lease: if the branch moved meanwhile (someone pushed to it), nothing is overwritten and the
 * export stops with one clear error.
 */
export async function pushExportBranch(options: {
  cwd: string;
  base: BaseCheckout;
  tree: string;
  branch: string;
  message: string;
  expected?: string;
  remote?: string;
  log?: (message: string) => void;
}): Promise<BranchOutcome> {
  const { cwd, base, tree, branch } = options;
  // Names from the server are in it: no secret, in any form, goes into the branch's history.
  const message = redact(options.message);
  const remote = options.remote ?? 'origin';
  const log = options.log ?? (() => {});
  const current = await remoteBranch(cwd, remote, branch);
  // A branch that is gone (deleted by hand) is simply made again; else it must be where the export left it.
  const lease = current === undefined ? undefined : (options.expected ?? current);

  // The branch already holds this very export on this base: leave it (and its pull request's checks) alone.
  if (current !== undefined && current === lease) {
    const fetched = await git(cwd, ['fetch', '--quiet', '--no-tags', remote, `refs/heads/${branch}`]);
    if (fetched.code === 0) {
      const head = await gitOk(cwd, ['rev-parse', 'FETCH_HEAD'], 'rev-parse');
      const parents = await gitOk(cwd, ['rev-list', '--parents', '-n', '1', head], 'rev-list');
      if (head === current && parents === `${head} ${base.sha}` && (await treeOf(cwd, head)) === tree) {
        log(`git: ${remote}/${branch} already holds this export on ${base.branch}; nothing to push`);
        return { sha: head, pushed: false, previous: current };
      }
    }
  }

  const identity = await identityArgs(cwd);
  const sha = await gitOk(cwd, [...identity, 'commit-tree', tree, '-p', base.sha, '-F', '-'], 'commit-tree', message);
  const push = await git(cwd, [
    'push',
    '--porcelain',
    `--force-with-lease=refs/heads/${branch}:${lease ?? ''}`,
    remote,
    `${sha}:refs/heads/${branch}`,
  ]);
  if (push.code !== 0) {
    const said = `${push.stdout}\n${push.stderr}`;
    if (/stale info|\[rejected\]|fetch first|non-fast-forward/i.test(said)) {
      throw new UserError(
        `git push to ${branch} was refused: the branch has a commit the export did not make (someone pushed to it${lease ? ` after the export left it at ${lease.slice(0, 7)}` : ''}); nothing was overwritten. Merge or close its pull request and delete the branch (or take that change into ${base.branch}), then export again`,
      );
    }
    const detail = push.stderr.trim().split('\n').slice(-3).join(' ');
    throw new UserError(
      `git push to ${branch} failed: ${detail} (the job needs permissions: contents: write, and pushes to ${branch} must be allowed)`,
    );
  }
  log(`git: pushed ${sha.slice(0, 7)} to ${remote}/${branch} (on ${base.branch} ${base.sha.slice(0, 7)})`);
  return { sha, pushed: true, previous: current };
}
