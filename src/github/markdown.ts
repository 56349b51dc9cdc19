/**
 * Markdown for the job summary and PR comments. Untrusted text (names, descriptions, DHIS2 error texts,
 * backup names) becomes inert through ONE function, mdText(): no HTML, no emphasis, no links or images, no
 * @mentions or issue references, no table pipes, one line. Markup we compose ourselves is a `Markup`
 * (from md`...`, code() or programLabel()), which the builders here pass through unescaped; every other
 * value given to them is escaped, after secrets are redacted from it (src/util/secrets.ts).
 */
import { redact } from '../util/secrets.ts';
import { commitLine } from '../util/text.ts';

/** Markdown this tool composed; safe to put in as it is. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/**
 * Characters that start Markdown or HTML, as character references: they render as themselves, in Markdown
 * text, table cells and raw HTML blocks (`<summary>`) alike, and never as syntax. `|` too: a table row is
 * split at raw pipes only. `(` and `)` need none: with `[` and `]` escaped they start no link; `$` starts
 * GitHub's math.
 */
const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '*': '&#42;',
  _: '&#95;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '|': '&#124;',
  '~': '&#126;',
  '\\': '&#92;',
  '!': '&#33;',
  $: '&#36;',
};
const ZWSP = '\u200b';

/**
 * Untrusted text as inert inline Markdown. Besides the characters above: a zero-width space after `@`
 * (no mention, no e-mail autolink), after `#` (no issue reference), inside `://` and after `www` (no
 * autolinked URL). Line breaks become spaces; control characters go. Secrets are redacted from the raw
 * text first: escaped, a secret would no longer be found (`_` becomes `&#95;`) yet render as itself.
 */
export function mdText(value: unknown): string {
  if (value instanceof Markup) return value.text;
  return markdownText(redact(value === undefined || value === null ? '' : String(value)));
}

/**
 * mdText's escaping alone, without redaction: for src/util/secrets.ts, which derives the escaped form of
 * each secret from it. Everything else uses mdText.
 */
export function markdownText(raw: string): string {
  const text = commitLine(raw);
  // Zero-width spaces first: the references that follow contain `#`.
  return text
    .replace(/[@#]/g, (c) => c + ZWSP)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${ZWSP}.`)
    .replace(/[&<>*_`[\]|~\\!$]/g, (c) => ENTITIES[c] ?? c);
}

/** A table cell or an inline value: mdText for text, a Markup as it is. */
export function cell(value: unknown): string {
  return mdText(value);
}

/**
 * A code span for identifiers (uids, paths, keys): shown monospace when it holds nothing that could break
 * out of or act inside one (backticks, pipes, HTML, mentions); otherwise the escaped text without the span.
 */
export function code(value: unknown): Markup {
  const text = commitLine(redact(value === undefined || value === null ? '' : String(value)));
  if (text !== '' && /^[^`|<>&@#\\]+$/.test(text) && !/:\/\//.test(text)) return new Markup(`\`${text}\``);
  return new Markup(markdownText(text));
}

/** Markdown from a template: the literal parts as written, every value through mdText (a Markup as it is). */
export function md(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += mdText(v) + (strings[i + 1] ?? '');
  });
  return new Markup(out);
}

/**
 * Joins Markdown blocks (paragraphs, lists, tables, headings, `<details>`) into one document with a blank
 * line between each, dropping empty ones. Every section of a summary or comment goes through this: a block
 * written right after a list without a blank line is a lazy continuation of the list's last item (a
 * program's heading would render inside the previous program's last bullet), and an HTML block such as
 * `</details>` swallows the lines up to the next blank one.
 */
export function blocks(...parts: (string | Markup | false | null | undefined)[]): string {
  return parts
    .map((p) => (p instanceof Markup ? p.text : p || ''))
    .map((p) => p.replace(/^(\s*\n)+/, '').replace(/\s+$/, ''))
    .filter((p) => p !== '')
    .join('\n\n');
}

export function table(headers: string[], rows: unknown[][], align?: ('left' | 'right')[]): string {
  const sep = headers.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [headers.map(cell), sep, ...rows.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "Name (`id`)", or just the id, each part made inert. */
export function programLabel(id: string, name?: string): Markup {
  return name ? md`${name} (${code(id)})` : code(id);
}
