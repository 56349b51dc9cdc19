/**
 * Every secret the tool learns (password, token, GitHub token, the Basic auth value) is registered here at the
 * edge. The runner masks its own log through core.setSecret, but the job summary, report files, rollback
 * points, PR comments, commit messages, outputs and CLI output are written by us, so everything we write
 * passes through redact().
 *
 * A secret rarely reaches a writer as it was typed. A server echoes it JSON-escaped, HTML-escaped or
 * percent-encoded (a URL, a query); our own writers escape what they are given (JSON.stringify for reports,
 * mdText's character references for Markdown, the `%` escapes of workflow commands, one-line text). So
 * registerSecret() derives, once, every form the secret can take (each encoding below, and each encoding of
 * an encoding: a JSON-escaped echo in a Markdown cell, a JSON report of a message holding the JSON body),
 * and redact() replaces all of them in one pass. The writers redact the raw text before they escape it
 * (mdText, code, the JSON report, every log line); the variants catch what reached them encoded already.
 */
import { encodeQueryComponent } from '../dhis2/query.ts';
import { UserError } from '../errors.ts';
import { markdownText } from '../github/markdown.ts';
import { commitLine, logText } from './text.ts';
import { setOwn } from './own-keys.ts';

/** What a secret is replaced with. */
export const MASK = '***';
/** Masking "a" everywhere would destroy the text and reveal nothing useful. */
const MIN_LENGTH = 3;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** A string's content as JSON.stringify writes it (no quotes). */
const json = (s: string): string => JSON.stringify(s).slice(1, -1);

/**
 * Ways a secret is written inside other text. Each is applied to the secret and to each result again, so
 * that two layers (a server's JSON escaping, then our Markdown's) are covered too.
 */
const ENCODINGS: readonly ((s: string) => string)[] = [
  // JSON strings: as JSON.stringify (our reports, most servers), and with every non-ASCII character (lower or
  // upper case hex) or `/` escaped, as other serialisers write them.
  json,
  (s) => json(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${hex(c, 4)}`),
  (s) => json(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${hex(c, 4).toUpperCase()}`),
  (s) => json(s).replace(/\//g, '\\/'),
  // Markdown and HTML: mdText's character references (job summary, PR comment; also without its zero-width
  // spaces), and HTML/XML escaping as a server's error page or an XML answer has it (text only, or attributes
  // too, in either spelling).
  markdownText,
  (s) => markdownText(s).replace(/\u200b/g, ''),
  (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  (s) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
  (s) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#x27;'),
  // URLs: encodeURIComponent (upper and lower case hex), our query encoding, a form (`+` for a space), and
  // encodeURI (a whole URL: `#&=?/@:` stay).
  (s) => tryEncode(encodeURIComponent, s),
  (s) => tryEncode(encodeURIComponent, s).replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase()),
  (s) => tryEncode(encodeQueryComponent, s),
  (s) => new URLSearchParams([['', s]]).toString().slice(1),
  (s) => tryEncode(encodeURI, s),
  // Workflow commands: @actions/core escapes a message's `%`, CR and LF, and a property's `:` and `,` too.
  (s) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A'),
  (s) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/:/g, '%3A').replace(/,/g, '%2C'),
  // One-line text: a log line (logText) and a commit message or a Markdown value (commitLine) collapse
  // line breaks and blanks.
  logText,
  commitLine,
  (s) => s.replace(/\s+/g, ' '),
];

function tryEncode(encode: (s: string) => string, s: string): string {
  try {
    return encode(s);
  } catch {
    return s; // a lone surrogate: no such encoding
  }
}

/** The secret and every form it can take in text we write (see ENCODINGS), each at least MIN_LENGTH long. */
export function secretVariants(secret: string): string[] {
  const seeds = new Set([secret, secret.normalize('NFC'), secret.normalize('NFD')]);
  // A secret of several lines: a log or a one-line message may hold one line of it.
  for (const line of secret.split(/\r\n|[\r\n\u0085\u2028\u2029]/)) seeds.add(line);
  const all = new Set(seeds);
  let layer = [...seeds];
  for (let depth = 0; depth < 2; depth++) {
    const next: string[] = [];
    for (const value of layer) {
      for (const encode of ENCODINGS) {
        const v = encode(value);
        if (!all.has(v)) {
          all.add(v);
          next.push(v);
        }
      }
    }
    layer = next;
  }
  return [...all].filter((v) => v.trim().length >= MIN_LENGTH);
}

const secrets = new Set<string>();
/** Every variant of every secret, and the one pattern that finds them all (built on first use). */
const variants = new Set<string>();
let pattern: RegExp | null | undefined;
const listeners: ((secret: string) => void)[] = [];

/** What a listener is told of: the secret itself, and the forms it takes when it is long enough to mask. */
function maskable(secret: string): string[] {
  if (secret.length < MIN_LENGTH) return [secret];
  return [secret, ...secretVariants(secret).filter((v) => v !== secret)];
}

export function registerSecret(value: string | undefined): void {
  if (!value || secrets.has(value)) return;
  secrets.add(value);
  if (value.length >= MIN_LENGTH) {
    for (const v of secretVariants(value)) variants.add(v);
    pattern = undefined;
  }
  for (const listener of listeners) for (const v of maskable(value)) listener(v);
}

/**
 * Registers the credentials of HTTP Basic auth: the password, and `user:password` and its base64 (the value
 * of the Authorization header), each with their variants. Returns the base64 value.
 */
export function registerBasicAuth(username: string, password: string): string {
  registerSecret(password);
  const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  registerSecret(encoded);
  // Without its `=` padding, as some tools print it (still the secret: it decodes to the password).
  registerSecret(encoded.replace(/=+$/, ''));
  return encoded;
}

/**
 * Also tells `listener` of every secret and every variant of it (see secretVariants), past and future: the
 * action masks them in the runner's log (core.setSecret).
 */
export function onSecret(listener: (secret: string) => void): void {
  listeners.push(listener);
  for (const s of secrets) for (const v of maskable(s)) listener(v);
}

export function registeredSecrets(): readonly string[] {
  return [...secrets];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compiled(): RegExp | null {
  if (pattern !== undefined) return pattern;
  // Longest first: where two variants start at one place, the longer (a secret holding another) goes whole.
  const list = [...variants].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  pattern = list.length === 0 ? null : new RegExp(list.map(escapeRegExp).join('|'), 'g');
  return pattern;
}

/** `text` with every secret, in every form it can take (secretVariants), replaced by `***`. */
export function redact(text: string): string {
  const re = compiled();
  if (!re || text.length < MIN_LENGTH) return text;
  return text.replace(re, MASK);
}

/** Whether `text` holds a secret in any of its forms. */
export function holdsSecret(text: string): boolean {
  const re = compiled();
  if (!re) return false;
  re.lastIndex = 0;
  const found = re.test(text);
  re.lastIndex = 0;
  return found;
}

/**
 * Refuses data that is written as it is (a program file of `export`, a downloaded backup) when it holds a
 * secret in any form: redacting it would change the metadata (a later restore would rename things to `***`),
 * and written as it is, the secret would be committed to the repository.
 */
export function refuseSecret(text: string, what: string): void {
  if (holdsSecret(text)) {
    throw new UserError(
      `${what} holds a secret of this run (the password or a token, in some form), so it is not written: remove it from the server (a name, a description), or change the secret`,
    );
  }
}

/**
 * A value to be written as JSON with every string in it (keys too) redacted: for a report, before
 * JSON.stringify escapes them. Objects become plain ones, as JSON.stringify would write them.
 */
export function redactValue<T>(value: T): T {
  if (!compiled()) return value;
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value !== null && typeof value === 'object') {
    // As JSON.stringify sees it: what toJSON gives (a Date's string), else the own enumerable properties.
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return walk(json.call(value));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, redact(k), walk(v));
    return out;
  }
  return value;
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear();
  variants.clear();
  pattern = undefined;
}
