/** The shapes of GitHub's answers this tool reads (REST and GraphQL), checked as they are read. */
import { GitHubApiError } from './api-errors.ts';

export interface IssueComment {
  id: number;
  body: string;
  htmlUrl?: string;
  /** Login of the author, e.g. `github-actions[bot]`. */
  author?: string;
  /** `Bot` for GitHub Apps (the GITHUB_TOKEN writes as github-actions[bot]), `User` for a personal token. */
  authorType?: string;
  /** When the body was last edited (GraphQL `lastEditedAt`); undefined: never edited, or not asked. */
  lastEditedAt?: string;
  /** Who made that last edit (GraphQL `editor`); undefined on an edited comment: an account since deleted. */
  editor?: { login: string; type: string };
}

export interface CommitPullRequest {
  number: number;
  state?: string;
  mergedAt?: string;
  mergeCommitSha?: string;
  headSha?: string;
  baseRef?: string;
  htmlUrl?: string;
}

/** A pull request as the export's pull-request mode reads it. */
export interface PullRequest {
  number: number;
  state: string;
  title: string;
  body: string;
  htmlUrl?: string;
  headRef?: string;
  headSha?: string;
  baseRef?: string;
  labels: string[];
}

/** The `rel="next"` URL of a Link header (RFC 8288), as GitHub paginates. */
export function nextLink(header: string | number | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    for (const param of (match[2] ?? '').split(';')) {
      const rel = /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param);
      if (rel && (rel[1] ?? '').split(/\s+/).includes('next')) return match[1];
    }
  }
  return undefined;
}

export interface PageInfo {
  hasNextPage?: unknown;
  endCursor?: unknown;
}

/** GraphQL names a bot by its app's name (no `[bot]`) with `__typename` Bot, as `writtenBy` expects. */
export const REVIEW_COMMENTS_QUERY = `query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      comments(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { databaseId body url lastEditedAt author { login __typename } editor { login __typename } }
      }
    }
  }
}`;

export function graphqlComment(item: unknown, what: string): IssueComment {
  const c = item as {
    databaseId?: unknown;
    body?: unknown;
    url?: unknown;
    lastEditedAt?: unknown;
    author?: { login?: unknown; __typename?: unknown } | null;
    editor?: { login?: unknown; __typename?: unknown } | null;
  } | null;
  if (!c || typeof c !== 'object' || typeof c.databaseId !== 'number') throw unexpected(what, item);
  const comment: IssueComment = {
    id: c.databaseId,
    body: typeof c.body === 'string' ? c.body : '',
    htmlUrl: typeof c.url === 'string' ? c.url : undefined,
    author: typeof c.author?.login === 'string' ? c.author.login : undefined,
    authorType: typeof c.author?.__typename === 'string' ? c.author.__typename : undefined,
  };
  if (typeof c.lastEditedAt === 'string') comment.lastEditedAt = c.lastEditedAt;
  if (typeof c.editor?.login === 'string') {
    comment.editor = {
      login: c.editor.login,
      type: typeof c.editor.__typename === 'string' ? c.editor.__typename : 'User',
    };
  }
  return comment;
}

export function toComment(item: unknown, what: string): IssueComment {
  const c = item as {
    id?: unknown;
    body?: unknown;
    html_url?: unknown;
    user?: { login?: unknown; type?: unknown } | null;
  };
  if (!c || typeof c !== 'object' || typeof c.id !== 'number') throw unexpected(what, item);
  return {
    id: c.id,
    // A comment created with an empty body comes back as null.
    body: typeof c.body === 'string' ? c.body : '',
    htmlUrl: typeof c.html_url === 'string' ? c.html_url : undefined,
    author: typeof c.user?.login === 'string' ? c.user.login : undefined,
    authorType: typeof c.user?.type === 'string' ? c.user.type : undefined,
  };
}

export function toPull(item: unknown): CommitPullRequest | undefined {
  const p = item as {
    number?: unknown;
    state?: unknown;
    merged_at?: unknown;
    merge_commit_sha?: unknown;
    html_url?: unknown;
    head?: { sha?: unknown } | null;
    base?: { ref?: unknown } | null;
  };
  if (!p || typeof p !== 'object' || typeof p.number !== 'number') return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    number: p.number,
    state: str(p.state),
    mergedAt: str(p.merged_at),
    mergeCommitSha: str(p.merge_commit_sha),
    headSha: str(p.head?.sha),
    baseRef: str(p.base?.ref),
    htmlUrl: str(p.html_url),
  };
}

export function toPullRequest(item: unknown, what: string): PullRequest {
  const p = item as {
    number?: unknown;
    state?: unknown;
    title?: unknown;
    body?: unknown;
    html_url?: unknown;
    head?: { ref?: unknown; sha?: unknown } | null;
    base?: { ref?: unknown } | null;
    labels?: unknown;
  };
  if (!p || typeof p !== 'object' || typeof p.number !== 'number') throw unexpected(what, item);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const labels = Array.isArray(p.labels)
    ? p.labels.flatMap((l: unknown) => {
        const name = typeof l === 'string' ? l : (l as { name?: unknown } | null)?.name;
        return typeof name === 'string' ? [name] : [];
      })
    : [];
  return {
    number: p.number,
    state: str(p.state) ?? 'open',
    title: typeof p.title === 'string' ? p.title : '',
    // A pull request opened with no body comes back with null.
    body: typeof p.body === 'string' ? p.body : '',
    htmlUrl: str(p.html_url),
    headRef: str(p.head?.ref),
    headSha: str(p.head?.sha),
    baseRef: str(p.base?.ref),
    labels,
  };
}

export function unexpected(what: string, data: unknown): GitHubApiError {
  const shape = Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data;
  return new GitHubApiError(`unexpected answer from GitHub trying to ${what} (got ${shape})`, 'other');
}
