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
    this.out(terminalText(redact(markdown), this.verbose));
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.out(`\n== ${line(title)}`);
    return fn();
  }
}

/**
 * The job summary's Markdown, made for a terminal: collapsed `<details>` blocks are left out (their title
 * stays, with a hint) unless verbose, and the few HTML bits become text.
 */
export function terminalText(markdown: string, verbose: boolean): string {
  const text = markdown.replace(
    /<details><summary>(.*?)<\/summary>([\s\S]*?)<\/details>/g,
    (_all, summary: string, body: string) =>
      verbose ? `${summary}\n${body.trim()}` : `${summary} (--verbose shows them)`,
  );
  // Untrusted text arrives escaped for Markdown (src/github/markdown.ts): show its characters again, in one
  // pass (an escaped `&amp;#27;` stays the text `&#27;`), then drop anything a terminal would act on.
  const decoded = text.replace(/&(?:#(\d{1,6})|(amp|lt|gt|quot));/g, (all, num: string | undefined, name: string) =>
    num !== undefined
      ? Number(num) <= 0x10ffff
        ? String.fromCodePoint(Number(num))
        : all
      : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as const)[name as 'amp'],
  );
  return stripTerminal(decoded)
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd();
}
