/**
 * The one pull-request comment a dry run writes per config file and DHIS2 server: found again on later
 * runs by a hidden marker on its first line, edited in place, never duplicated, and kept under GitHub's
 * size limit by cutting the detail (never the counts or errors) with a pointer to the job summary.
 *
 * Values a later run needs (the dry-run fingerprint that restore checks) ride along as hidden lines,
 * `<!-- dhis2-metadata:<key>=<value> -->`, written by markedValue() and read by readMarkedValue().
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { GitHubContext } from '../config/types.ts';
import { redact } from '../util/secrets.ts';
import { mdText } from './markdown.ts';
import { GitHubApiError, writtenBy, type IssueComment, type IssueCommentsApi } from './api.ts';

/** GitHub refuses bodies over 65,536 characters; the margin covers counting differences (see fitComment). */
export const COMMENT_LIMIT = 65_000;
const GITHUB_BODY_LIMIT = 65_536;

const NAMESPACE = 'dhis2-metadata:';
/** Any hidden line of ours; redact() must not touch them or a later run could not find its comment. */
const HIDDEN_LINE = /(<!-- dhis2-metadata:[^<>\n]*? -->)/;
const KEY = /^[A-Za-z0-9._:-]+$/;

/**
 * The hidden first line of the comment for one config file and one server. Stable across runs and
 * machines; holds no secret: the config path (percent-encoded, so nothing in it can end the HTML comment)
 * and a short hash of the normalised server URL (which may name an internal host).
 */
export function commentMarker(configPath: string, serverUrl: string, programs?: readonly string[]): string {
  // A run over a subset of the config's programs (a workflow matrix over `programs`) has its own comment,
  // so the legs neither overwrite each other's fingerprints nor race into duplicates.
  const scope = programs && programs.length > 0 ? ` programs=${[...programs].sort().join(',')}` : '';
  return `<!-- ${NAMESPACE}dry-run config=${encodePath(normaliseConfigPath(configPath))} server=${serverId(serverUrl)}${scope} -->`;
}

/**
 * Which programs a dry-run comment for this config and server speaks for: 'all' for a run over the whole
 * config, the ids for a run over a subset, undefined when the comment is not one of ours for them.
 */
export function markerScope(body: string, configPath: string, serverUrl: string): 'all' | string[] | undefined {
  const base = commentMarker(configPath, serverUrl).slice(0, -' -->'.length);
  const text = body.trimStart();
  if (!text.startsWith(base)) return undefined;
  const rest = text.slice(base.length);
  if (rest.startsWith(' -->')) return 'all';
  const scoped = /^ programs=([A-Za-z0-9,]+) -->/.exec(rest);
  return scoped ? (scoped[1] as string).split(',') : undefined;
}

/** A hidden `<!-- dhis2-metadata:key=value -->` line carrying a value for a later run. */
export function markedValue(key: string, value: string): string {
  if (!KEY.test(key)) throw new Error(`invalid marked-value key: ${key}`);
  return `<!-- ${NAMESPACE}${key}=${encodeURIComponent(value)} -->`;
}

/** The value of the first `<!-- dhis2-metadata:key=value -->` line in `body`, or undefined. */
export function readMarkedValue(body: string, key: string): string | undefined {
  if (!KEY.test(key)) return undefined;
  const match = new RegExp(`<!-- ${escapeRegExp(NAMESPACE + key)}=([^\\s<>]*) -->`).exec(body);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1] ?? '');
  } catch {
    return undefined; // a hand-edited, broken escape: treat as absent rather than guess
  }
}

/** Is this comment ours for `marker`? The marker must open the body: a quote of it elsewhere does not count. */
export function isMarkedComment(body: string, marker: string): boolean {
  return body.trimStart().startsWith(marker);
}

/** Link to the run, whose page shows every job summary; undefined outside a runner. */
export function jobSummaryUrl(ctx: Pick<GitHubContext, 'serverUrl' | 'repository' | 'runId'>): string | undefined {
  if (!ctx.serverUrl || !ctx.repository || !ctx.runId) return undefined;
  return `${ctx.serverUrl.replace(/\/+$/, '')}/${ctx.repository}/actions/runs/${encodeURIComponent(ctx.runId)}`;
}

/**
 * What a report was made for and when: "For commit `abc1234` at 2025-01-31 12:00 UTC, in [workflow run 42](url)."
 * `sha` is the commit reviewed (a pull request's head, not the merge commit GitHub checks out); the link is
 * left out when the URL is not a plain http(s) one.
 */
export function provenanceLine(
  ctx: Pick<GitHubContext, 'serverUrl' | 'repository' | 'runId'>,
  sha: string | undefined,
  now: Date = new Date(),
): string {
  const parts: string[] = [];
  if (sha && /^[0-9a-f]{7,64}$/i.test(sha)) parts.push(`For commit \`${sha.slice(0, 7)}\``);
  parts.push(`${parts.length ? 'at' : 'At'} ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  const url = jobSummaryUrl(ctx);
  if (url && /^https?:\/\/[^\s()<>]+$/.test(url) && ctx.runId && /^\d+$/.test(ctx.runId)) {
    parts.push(`in [workflow run ${ctx.runId}](${url})`);
  }
  return `${parts.join(' ')}.`;
}

/** How a report names the server: its label when given ("staging"), with the URL beside it. */
export function serverTitle(label: string | undefined): string {
  return label ? ` (${mdText(label)})` : '';
}

export interface CommentParts {
  /** Starts with the marker; title line. */
  header: string;
  /** Counts, status, errors: always kept whole when at all possible. */
  essential: string;
  /** Per-object tables, import report details: cut first. */
  detail: string;
  footer?: string;
  /** Where the pointer sends readers when something was cut (see jobSummaryUrl). */
  summaryUrl?: string;
}

/**
 * Joins the parts into a body of at most `limit` characters. When too long, `detail` is cut at a line
 * boundary, any `<details>` or code fence left open is closed, and a pointer to the job summary is added.
 * Only if header, essential and footer alone do not fit is `essential` cut the same way.
 *
 * Lengths are UTF-16 code units, never fewer than the characters GitHub counts, so the bound holds.
 * Secrets are redacted before cutting (cutting first could leave half a secret behind).
 */
export function fitComment(parts: CommentParts, limit = COMMENT_LIMIT): string {
  const header = safe(parts.header);
  const essential = safe(parts.essential);
  const detail = safe(parts.detail);
  const footer = safe(parts.footer ?? '');
  const whole = join(header, essential, detail, footer);
  if (whole.length <= limit) return whole;

  const pointer = pointerLine(parts.summaryUrl);
  // Room left for the detail once everything else is in place ("x" stands in for the cut detail).
  const detailRoom = limit - (join(header, essential, 'x', pointer, footer).length - 1);
  const cutDetail = detailRoom > 0 ? cutBlock(detail, detailRoom) : '';
  if (join(header, essential, pointer, footer).length <= limit) {
    return join(header, essential, cutDetail, pointer, footer);
  }

  // The essential part alone is too big (thousands of errors): cut it too, keeping its start.
  const essentialRoom = limit - (join(header, 'x', pointer, footer).length - 1);
  const cutEssential = essentialRoom > 0 ? cutBlock(essential, essentialRoom) : '';
  const body = join(header, cutEssential, pointer, footer);
  if (body.length <= limit) return body;
  // Only a huge header or footer gets here: a hard cut still keeps the marker, which comes first.
  return hardCut(join(header, cutEssential, pointer), limit);
}

export interface UpsertResult {
  id: number;
  action: 'created' | 'updated' | 'unchanged';
  url?: string;
}

/**
 * The first comment on the PR that starts with `marker` AND was written by the token's own identity,
 * reading page by page until found. Anyone can copy a marker into a comment of their own: such a comment is
 * never ours, never edited, never read as a review.
 */
export async function findMarkedComment(
  api: IssueCommentsApi,
  pr: number,
  marker: string,
): Promise<IssueComment | undefined> {
  const me = await api.identity();
  for await (const comment of api.issueComments(pr)) {
    if (isMarkedComment(comment.body, marker) && writtenBy(comment, me)) return comment;
  }
  return undefined;
}

/**
 * Creates the comment, or edits the one that carries `marker`; leaves it alone when nothing changed.
 * `body` is prefixed with the marker unless it already starts with it, redacted, and cut to the limit if
 * the caller did not already fit it.
 */
export async function upsertComment(
  api: IssueCommentsApi,
  pr: number,
  marker: string,
  body: string,
): Promise<UpsertResult> {
  const text = prepareBody(marker, body);
  const existing = await findMarkedComment(api, pr, marker);
  if (existing) return update(api, pr, existing, text);
  try {
    const created = await api.createIssueComment(pr, text);
    return { id: created.id, action: 'created', url: created.htmlUrl };
  } catch (e) {
    if (!(e instanceof GitHubApiError && e.transient)) throw e;
    // The request may have reached GitHub before the connection failed: look again before creating, so a
    // flaky network never leaves two comments.
    const again = await findMarkedComment(api, pr, marker);
    if (again) return update(api, pr, again, text);
    const created = await api.createIssueComment(pr, text);
    return { id: created.id, action: 'created', url: created.htmlUrl };
  }
}

async function update(api: IssueCommentsApi, pr: number, existing: IssueComment, text: string): Promise<UpsertResult> {
  if (existing.body === text) return { id: existing.id, action: 'unchanged', url: existing.htmlUrl };
  try {
    const updated = await api.updateIssueComment(existing.id, text);
    return { id: updated.id, action: 'updated', url: updated.htmlUrl ?? existing.htmlUrl };
  } catch (e) {
    // Deleted by someone between our listing and the edit: write it afresh.
    if (!(e instanceof GitHubApiError && e.reason === 'not-found')) throw e;
    const created = await api.createIssueComment(pr, text);
    return { id: created.id, action: 'created', url: created.htmlUrl };
  }
}

function prepareBody(marker: string, body: string): string {
  const text = body.replace(/\r\n?/g, '\n');
  const withMarker = isMarkedComment(text, marker) ? text.trimStart() : `${marker}\n${text}`;
  const rest = withMarker.slice(marker.length);
  const safeText = marker + safe(rest);
  if (safeText.length <= Math.min(COMMENT_LIMIT, GITHUB_BODY_LIMIT)) return safeText;
  return fitComment({ header: marker, essential: '', detail: rest.replace(/^\n/, '') });
}

/** Redacts everything except our own hidden lines (a short password could otherwise match inside one). */
function safe(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(HIDDEN_LINE)
    .map((piece, i) => (i % 2 === 1 ? piece : redact(piece)))
    .join('');
}

function join(...blocks: string[]): string {
  return blocks
    .map((b) => b.replace(/\s+$/, ''))
    .filter((b) => b.trim() !== '')
    .join('\n\n');
}

function pointerLine(summaryUrl: string | undefined): string {
  const where =
    summaryUrl && /^https?:\/\/[^\s()<>]+$/.test(summaryUrl)
      ? `the [job summary](${summaryUrl})`
      : 'the job summary of this workflow run';
  return `_Cut to fit GitHub's size limit for comments: the full report is in ${where}._`;
}

/**
 * The longest start of `text` that ends at a line boundary and, with the tags and fences it leaves open
 * closed again, fits in `room` characters. Empty when not even the first line fits.
 */
function cutBlock(text: string, room: number): string {
  let end = text.length <= room ? text.length : text.lastIndexOf('\n', room);
  while (end > 0) {
    const kept = text.slice(0, end).replace(/\s+$/, '');
    const closed = kept + closers(kept);
    if (closed.length <= room) return closed;
    end = text.lastIndexOf('\n', end - 1);
  }
  return '';
}

/** What closes the code fence and `<details>` blocks left open at the end of `text`. */
function closers(text: string): string {
  let fence: { char: string; length: number } | undefined;
  let details = 0;
  for (const line of text.split('\n')) {
    const mark = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (mark && mark[1]![0] === fence.char && mark[1]!.length >= fence.length && mark[2]!.trim() === '') {
        fence = undefined;
      }
      continue;
    }
    if (mark && !(mark[1]![0] === '`' && mark[2]!.includes('`'))) {
      fence = { char: mark[1]![0]!, length: mark[1]!.length };
      continue;
    }
    details += (line.match(/<details\b[^>]*>/gi) ?? []).length;
    details = Math.max(0, details - (line.match(/<\/details\s*>/gi) ?? []).length);
  }
  let out = fence ? `\n${fence.char.repeat(fence.length)}` : '';
  for (let i = 0; i < details; i++) out += '\n\n</details>';
  return out;
}

function hardCut(text: string, limit: number): string {
  let cut = text.slice(0, limit);
  // Never leave half a surrogate pair behind.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut;
}

function normaliseConfigPath(path: string): string {
  const slashed = path.trim().replace(/\\/g, '/');
  const normal = slashed === '' ? '' : posix.normalize(slashed);
  return normal.replace(/^(\.\/)+/, '');
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * 16 hex digits of sha256 over the normalised server URL: scheme and host lower case, no default port,
 * credentials, query, fragment, trailing slash or `/api`, so every spelling of one server maps to one id.
 */
function serverId(serverUrl: string): string {
  const text = serverUrl.trim();
  let normal: string;
  try {
    const url = new URL(text);
    const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/i, '');
    normal = `${url.protocol}//${url.host}${path}`;
  } catch {
    normal = text.toLowerCase().replace(/\/+$/, '');
  }
  return createHash('sha256').update(normal).digest('hex').slice(0, 16);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
