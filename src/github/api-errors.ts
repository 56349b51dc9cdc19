/** GitHub's refusals as one line each (GitHubApiError), and what is read from a failed request to say it. */
import { UserError } from '../errors.ts';
import { redact } from '../util/secrets.ts';

export type GitHubFailure =
  | 'bad-credentials'
  | 'fork-read-only'
  | 'permission'
  | 'rate-limit'
  | 'not-found'
  | 'validation'
  | 'network'
  | 'server'
  | 'other';

export class GitHubApiError extends UserError {
  constructor(
    message: string,
    readonly reason: GitHubFailure,
    readonly status?: number,
  ) {
    super(redact(message));
  }

  /** The request may have failed before GitHub acted on it, or GitHub may recover: worth another look. */
  get transient(): boolean {
    return this.reason === 'network' || this.reason === 'server';
  }
}

/** The error and its causes, outermost first (bounded: a cause cycle must not hang us). */
export function causes(e: unknown): { name?: string; code?: string; message?: string }[] {
  const chain: { name?: string; code?: string; message?: string }[] = [];
  for (let c = e; c !== null && typeof c === 'object' && chain.length < 8; c = (c as { cause?: unknown }).cause) {
    chain.push(c as { name?: string; code?: string; message?: string });
  }
  return chain;
}

export function statusOf(e: unknown): number | undefined {
  const status = (e as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

export function headersOf(e: unknown): Record<string, string | number | undefined> {
  return (
    (e as { response?: { headers?: Record<string, string | number | undefined> } } | null)?.response?.headers ?? {}
  );
}

export function dataOf(e: unknown): unknown {
  return (e as { response?: { data?: unknown } } | null)?.response?.data;
}

/** GitHub's own words, with its field errors ("body is too long (maximum is 65536 characters)"). */
export function githubMessage(data: unknown): string {
  // Redacted before anything is collapsed or cut: a cut through a secret would leave its start readable.
  if (typeof data === 'string') return oneLine(redact(data)).slice(0, 300);
  if (data === null || typeof data !== 'object') return '';
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const parts = typeof message === 'string' ? [message] : [];
  if (Array.isArray(errors)) {
    for (const err of errors) {
      if (typeof err === 'string') parts.push(err);
      else if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
        parts.push((err as { message: string }).message);
      } else if (err && typeof err === 'object') {
        const { field, code } = err as { field?: unknown; code?: unknown };
        parts.push([field, code].filter((v) => typeof v === 'string').join(' '));
      }
    }
  }
  return oneLine(redact(parts.filter(Boolean).join(': '))).slice(0, 300);
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function isRateLimited(headers: Record<string, string | number | undefined>, message: string): boolean {
  return String(headers['x-ratelimit-remaining']) === '0' || /rate limit/i.test(message);
}
