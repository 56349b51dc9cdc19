import type { SourceLocation } from './errors.ts';
import type { Reporter } from './reporter.ts';
import { redact } from './util/secrets.ts';
import { logText, stripTerminal } from './util/text.ts';

/** A message for the terminal: secrets masked, one line, control characters shown as text. */
const line = (message: string) => logText(redact(message));

function where(location?: SourceLocation): string {
  if (!location?.file) return '';
  return `${line([location.file, location.line, location.column].filter((p) => p !== undefined).join(':'))}: `;
}

/** Prints to the terminal: progress on stdout, problems on stderr, the summary as plain Markdown. */
export class CliReporter implements Reporter {
  readonly outputs: Record<string, string> = {};

  constructor(
    private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    private readonly err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly verbose = false,
  ) {}

  info(message: string): void {
    this.out(line(message));
  }
  debug(message: string): void {
    if (this.verbose) this.err(`debug: ${line(message)}`);
  }
  notice(message: string, location?: SourceLocation): void {
    this.out(`note: ${where(location)}${line(message)}`);
  }
  warning(message: string, location?: SourceLocation): void {
    this.err(`warning: ${where(location)}${line(message)}`);
  }
  error(message: string, location?: SourceLocation): void {
    this.err(`error: ${where(location)}${line(message)}`);
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = stripTerminal(redact(value));
  }
  async summary(markdown: string): Promise<void> {
    // Redacted again once character references are decoded back to the characters they stand for.
    this.out(redact(terminalText(redact(markdown), this.verbose)));
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.out(`\n== ${line(title)}`);
    return fn();
  }
}

/** Character references of escaped untrusted text (src/github/markdown.ts), shown as their characters again. */
function decode(text: string): string {
  // One pass: an escaped `&amp;#27;` stays the text `&#27;`.
  return text.replace(/&(?:#(\d{1,6})|(amp|lt|gt|quot));/g, (all, num: string | undefined, name: string) =>
    num !== undefined
      ? Number(num) <= 0x10ffff
        ? String.fromCodePoint(Number(num))
        : all
      : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as const)[name as 'amp'],
  );
}

/**
 * Inline Markdown as text: links as `text (url)`, no emphasis, code spans without backticks, no HTML tags.
 * Every Markdown character in untrusted text is a character reference (mdText), so what is matched here is
 * markup this tool wrote; references are decoded last.
 */
function inline(text: string): string {
  const plain = text
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<\/?[a-z][a-z0-9]*(?:\s[^<>]*)?>/gi, '')
    .replace(/!?\[([^\]]*)\]\(([^)\s]*)\)/g, (_all, label: string, url: string) =>
      label === url || !url ? label : `${label} (${url})`,
    )
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/__([^_]+)__/g, '$1')
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=$|[\s).,:;!?])/g, '$1$2')
    .replace(/~~([^~]+)~~/g, '$1');
  return decode(plain).replace(/\u200b/g, '');
}

/** Cells of a Markdown table row: split at the pipes (a pipe in untrusted text is a reference, not a pipe). */
const cells = (row: string) =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/** Display width: code points, so that an emoji or an accented letter counts once. */
const width = (text: string) => [...text].length;

/** A Markdown table as aligned columns, the header underlined; `---:` columns right-aligned. */
function renderTable(rows: string[]): string[] {
  const alignRow = rows[1] && /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(rows[1]) ? rows[1] : undefined;
  const right = alignRow ? cells(alignRow).map((c) => c.endsWith(':') && !c.startsWith(':')) : [];
  const body = rows.filter((r) => r !== alignRow).map((r) => cells(r).map(inline));
  const columns = Math.max(...body.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...body.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) =>
    widths
      .map((w, i) => {
        const c = r[i] ?? '';
        const pad = ' '.repeat(w - width(c));
        return right[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  const [header, ...rest] = body;
  if (!header) return [];
  return alignRow ? [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rest.map(line)] : body.map(line);
}

/**
 * The job summary's Markdown, made for a terminal: tables as aligned columns, headings underlined, no
 * emphasis, links as `text (url)`, code blocks indented, no HTML. Collapsed `<details>` blocks are left out
 * (their title stays, with a hint) unless verbose. Anything a terminal would act on is dropped at the end.
 */
export function terminalText(markdown: string, verbose: boolean): string {
  const text = markdown.replace(
    /<details>\s*<summary>([\s\S]*?)<\/summary>([\s\S]*?)<\/details>/g,
    (_all, summary: string, body: string) =>
      verbose ? `**${summary.trim()}**\n\n${body.trim()}\n` : `${summary.trim()} (--verbose shows them)\n`,
  );
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    const fence = /^\s*(```+|~~~+)/.exec(l);
    if (fence) {
      // A code block: its lines as they are, indented.
      for (i++; i < lines.length && !(lines[i] as string).trim().startsWith(fence[1] as string); i++) {
        out.push(`    ${lines[i]}`);
      }
      continue;
    }
    if (/^\s*\|/.test(l)) {
      const rows: string[] = [];
      for (; i < lines.length && /^\s*\|/.test(lines[i] as string); i++) rows.push(lines[i] as string);
      i--;
      out.push(...renderTable(rows));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(l);
    if (heading) {
      const title = inline(heading[2] as string);
      out.push(title, ((heading[1] as string).length <= 3 ? '=' : '-').repeat(width(title)));
      continue;
    }
    if (/^\s*(-{3,}|\*{3,}|_{3,})\s*$/.test(l)) {
      out.push('-'.repeat(40));
      continue;
    }
    out.push(inline(l.replace(/^\s*>\s?/, '')));
  }
  return stripTerminal(out.join('\n'))
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
