/**
 * `export` with `commit: pull-request`: what production changed by hand (Program Config App, Maintenance app)
 * arrives as one pull request into the branch that is checked out, reviewed like any other change.
 *
 * - The exported files go in one commit on top of the current branch, pushed to `pull-request-branch` with a
 *   lease (src/github/export-branch.ts): the branch always holds exactly the latest export.
 * - One pull request is opened, or the open one is updated (title, body, labels). When production matches the
 *   repository again, that pull request is closed and the branch deleted.
 * - The body says what changed on the server, per program: the objects and fields that differ from the
 *   repository (the dry run's comparison, diffMetadata, and its renderer, detailSectionAs), and who changed them
 *   when, from the server's own stamps (`lastUpdatedBy`, `lastUpdated`, read before the preset removes them).
 *   Every name from the server goes through mdText (body) or commitLine (title, commit message).
 */
import type { Settings } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { GitHubApi, GitHubApiError, type PullRequest } from '../github/api.ts';
import {
  baseCheckout,
  exportTree,
  fileAt,
  pushExportBranch,
  type BaseCheckout,
  type ExportFile,
} from '../github/export-branch.ts';
import { code, md, programLabel, table } from '../github/markdown.ts';
import { COMMENT_LIMIT, fitComment, jobSummaryUrl, markedValue, readMarkedValue } from '../github/pr-comment.ts';
import { sameContent } from '../metadata/canonical.ts';
import { diffMetadata, type MetadataDiff } from '../metadata/diff.ts';
import { idOf, isRecord } from '../metadata/json.ts';
import { indexTopLevel, type MetadataDocument } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import { redact } from '../util/secrets.ts';
import { commitLine } from '../util/text.ts';
import { detailSectionAs, type DiffView, type ProgramOutcome } from '../report/import-summary.ts';
import { DIFF_IGNORE_KEYS } from '../plan/plan.ts';
import { setOwn } from '../util/own-keys.ts';

/** One program as the export just read it. */
export interface ExportedProgram {
  id: string;
  name?: string;
  /** Relative to the workspace. */
  file: string;
  /** The file's new text and document (after the preset). */
  text: string;
  doc: MetadataDocument;
  /** The collected export before the preset: the server's stamps. */
  raw: MetadataDocument;
}

/** A program whose export differs from the repository, and how. */
export interface ServerChange {
  program: ExportedProgram;
  diff: MetadataDiff;
  /** Objects the repository has and the server no longer does, per collection. */
  removed: Record<string, string[]>;
  /** The repository has no file for it yet. */
  newFile: boolean;
}

export interface PullRequestOutcome {
  action: 'opened' | 'updated' | 'unchanged' | 'closed' | 'none';
  branch: string;
  base: string;
  number?: number;
  url?: string;
  /** The export commit the branch holds. */
  sha?: string;
  /** Programs that differ from the repository. */
  programs: string[];
}

const HEAD_KEY = 'export-head';
const MARKER = '<!-- dhis2-metadata:export-pull-request -->';
const TITLE_MAX = 200;

function parseDocument(text: string | undefined): MetadataDocument {
  if (text === undefined) return {};
  try {
    const doc: unknown = JSON.parse(text);
    return isRecord(doc) ? (doc as MetadataDocument) : {};
  } catch {
    return {}; // a broken file in the repository: everything the server has is then new
  }
}

/** The repository's file against the fresh export: the server's side is the new one. */
export function serverChange(program: ExportedProgram, repoText: string | undefined): ServerChange | undefined {
  if (repoText !== undefined && (repoText === program.text || sameContent(repoText, program.text))) return undefined;
  const repo = parseDocument(repoText);
  const diff = diffMetadata(program.doc, indexTopLevel(repo), DIFF_IGNORE_KEYS);
  const onServer = indexTopLevel(program.doc);
  const removed: Record<string, string[]> = {};
  for (const [collection, value] of Object.entries(repo)) {
    if (!Array.isArray(value)) continue;
    const gone = value.flatMap((obj) => {
      const id = isRecord(obj) ? idOf(obj) : undefined;
      return id !== undefined && !onServer.has(id) ? [id] : [];
    });
    if (gone.length > 0) setOwn(removed, collection, gone);
  }
  return { program, diff, removed, newFile: repoText === undefined };
}

/** A user reference as DHIS2 exports it (`{id, code, name, displayName, username}`), as short text. */
function userText(user: unknown): string | undefined {
  if (!isRecord(user)) return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const name = str(user.name) ?? str(user.displayName);
  const username = str(user.username) ?? str(user.code);
  if (name && username && name !== username) return `${name} (${username})`;
  return name ?? username ?? str(user.id);
}

/** `2025-03-01T10:04:05.123` as `2025-03-01 10:04`; anything else as it is. */
function timeText(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(value.trim());
  return m ? `${m[1]} ${m[2]}` : value.trim();
}

/** Who last changed each object of the raw export, and when, as DHIS2 says. */
export function serverStamps(raw: MetadataDocument): Map<string, string> {
  const stamps = new Map<string, string>();
  for (const [id, obj] of indexTopLevel(raw)) {
    const who = userText(obj.lastUpdatedBy);
    const when = timeText(obj.lastUpdated);
    const text = who && when ? `${who}, ${when}` : who ? `by ${who}` : when;
    if (text) stamps.set(id, text);
  }
  return stamps;
}

function exportView(change: ServerChange): DiffView {
  const stamps = serverStamps(change.program.raw);
  return {
    old: 'repository',
    new: 'server now',
    created: 'New on the server',
    removed: 'Gone from the server (the repository still has them)',
    removedObjects: change.removed,
    stamp: (id) => stamps.get(id),
  };
}

function programSection(change: ServerChange): string {
  const { program, diff } = change;
  const outcome: ProgramOutcome = { id: program.id, name: program.name, file: program.file, diff };
  const gone = Object.values(change.removed).reduce((n, ids) => n + ids.length, 0);
  if (diff.totals.created + diff.totals.changed + gone === 0) {
    outcome.after = ['No object differs: the file changes only in its layout or in keys the comparison leaves out.'];
  }
  if (change.newFile) outcome.after = [...(outcome.after ?? []), 'The repository has no file for it yet.'];
  return detailSectionAs(outcome, exportView(change));
}

/** The pull request's title: the input, else the programs (one line each, from the server: commitLine). */
export function defaultTitle(changes: ServerChange[]): string {
  if (changes.length === 1) {
    const p = changes[0]!.program;
    // Redacted before it is cut: a secret cut in two would no longer be found.
    const name = commitLine(redact(p.name ?? p.id));
    const short = name.length > TITLE_MAX - 40 ? `${name.slice(0, TITLE_MAX - 41)}…` : name;
    return `DHIS2 metadata: ${short} changed on the server`;
  }
  return `DHIS2 metadata: ${changes.length} programs changed on the server`;
}

/** The pull request's body, under GitHub's limit (the per-object detail is cut first). */
export function pullRequestBody(options: {
  changes: ServerChange[];
  server: { url: string; version: string };
  base: string;
  sha: string;
  settings: Pick<Settings, 'github'>;
}): string {
  const { changes, server, base, sha, settings } = options;
  const rows = changes.map(({ program, diff, removed }) => [
    programLabel(program.id, program.name),
    code(program.file),
    diff.totals.created,
    diff.totals.changed,
    Object.values(removed).reduce((n, ids) => n + ids.length, 0),
  ]);
  const summaryUrl = jobSummaryUrl(settings.github);
  const essential = [
    md`The export from ${server.url} (DHIS2 ${server.version}) found metadata on the server that differs from ${code(base)}: changes made on the server itself (in the Program Config App or the Maintenance app, say). Merging this pull request takes them into the repository; a restore from ${code(base)} without it would undo them on the server.`
      .text,
    table(['program', 'file', 'new on the server', 'changed', 'gone'], rows, [
      'left',
      'left',
      'right',
      'right',
      'right',
    ]),
    'Each object shows who changed it last on the server and when, where DHIS2 says so.',
  ].join('\n\n');
  return fitComment(
    {
      header: `${MARKER}\n### What changed on the DHIS2 server`,
      essential,
      detail: changes.map(programSection).join('\n\n'),
      // No run link here: an export that finds the same changes leaves the body (and its notifications) alone.
      footer: `_This pull request is kept up to date by the export: it holds exactly the latest export on top of ${code(base).text}, and closes itself when the server matches the repository again._\n${markedValue(HEAD_KEY, sha)}`,
      summaryUrl,
    },
    COMMENT_LIMIT,
  );
}

function apiFor(settings: Settings, reporter: Reporter): GitHubApi {
  if (!settings.githubToken) {
    throw new UserError(
      'commit: pull-request needs a GitHub token to open the pull request: set github-token (default ${{ github.token }})',
    );
  }
  return new GitHubApi(settings.github, settings.githubToken, { log: (m) => reporter.debug(m) });
}

async function openPullRequest(api: GitHubApi, branch: string, base: string): Promise<PullRequest | undefined> {
  const open = await api.openPullRequests(branch, base);
  return open[0];
}

/**
 * Brings the export branch and its pull request up to date with `programs` (every program exported, none
 * failed). `message` makes the commit message from the programs that differ.
 */
export async function exportPullRequest(options: {
  settings: Settings;
  reporter: Reporter;
  programs: ExportedProgram[];
  server: { url: string; version: string };
  message: (differing: ExportedProgram[]) => string;
}): Promise<PullRequestOutcome> {
  const { settings, reporter, programs, server } = options;
  const spec = settings.pullRequest;
  if (!spec) throw new Error('exportPullRequest without settings.pullRequest');
  const cwd = settings.workspace;
  const base: BaseCheckout = await baseCheckout(cwd, spec.branch);

  const changes: ServerChange[] = [];
  for (const program of programs) {
    const change = serverChange(program, await fileAt(cwd, base, program.file));
    if (change) changes.push(change);
  }
  const outcome: PullRequestOutcome = {
    action: 'none',
    branch: spec.branch,
    base: base.branch,
    programs: changes.map((c) => c.program.id),
  };
  const api = apiFor(settings, reporter);
  const open = await openPullRequest(api, spec.branch, base.branch);

  if (changes.length === 0) {
    reporter.info(`Production matches ${base.branch}: no pull request needed.`);
    if (!open) return outcome;
    await api.createIssueComment(
      open.number,
      md`The server matches ${code(base.branch)} again: the export found nothing that differs, so this pull request is closed and ${code(spec.branch)} deleted.`
        .text,
    );
    await api.updatePullRequest(open.number, { state: 'closed' });
    const deleted = await api.deleteBranch(spec.branch);
    reporter.info(
      `Closed pull request #${open.number}${deleted ? ` and deleted ${spec.branch}` : ` (${spec.branch} was already gone)`}.`,
    );
    return { ...outcome, action: 'closed', number: open.number, url: open.htmlUrl };
  }

  const files: ExportFile[] = changes.map((c) => ({ path: c.program.file, text: c.program.text }));
  const tree = await exportTree(cwd, base, files);
  const expected = open ? readMarkedValue(open.body, HEAD_KEY) : undefined;
  const branch = await pushExportBranch({
    cwd,
    base,
    tree,
    branch: spec.branch,
    message: options.message(changes.map((c) => c.program)),
    expected: expected && /^[0-9a-f]{40,64}$/i.test(expected) ? expected : undefined,
    log: (m) => reporter.info(m),
  });
  outcome.sha = branch.sha;

  const title = redact(spec.title ?? defaultTitle(changes));
  const body = pullRequestBody({ changes, server, base: base.branch, sha: branch.sha, settings });
  let pr: PullRequest;
  let action: PullRequestOutcome['action'];
  if (open) {
    if (open.title === title && open.body === body) {
      pr = open;
      action = 'unchanged';
    } else {
      pr = await api.updatePullRequest(open.number, { title, body });
      action = 'updated';
    }
  } else {
    try {
      pr = await api.createPullRequest({ head: spec.branch, base: base.branch, title, body });
      action = 'opened';
    } catch (e) {
      // Another run opened it meanwhile (GitHub: 422 "A pull request already exists"): update that one.
      if (!(e instanceof GitHubApiError && e.reason === 'validation')) throw e;
      const again = await openPullRequest(api, spec.branch, base.branch);
      if (!again) throw e;
      pr = await api.updatePullRequest(again.number, { title, body });
      action = 'updated';
    }
  }
  const missing = spec.labels.filter((l) => !pr.labels.some((have) => have.toLowerCase() === l.toLowerCase()));
  await api.addLabels(pr.number, missing);
  reporter.info(`Pull request #${pr.number} ${action}${pr.htmlUrl ? `: ${pr.htmlUrl}` : ''}`);
  return { ...outcome, action, number: pr.number, url: pr.htmlUrl };
}
