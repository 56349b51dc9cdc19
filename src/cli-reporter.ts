import type { SourceLocation } from './errors.ts';
import type { Reporter } from './reporter.ts';
import { redact } from './util/secrets.ts';

function where(location?: SourceLocation): string {
  if (!location?.file) return '';
  return `${[location.file, location.line, location.column].filter((p) => p !== undefined).join(':')}: `;
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
    this.out(redact(message));
  }
  debug(message: string): void {
    if (this.verbose) this.err(`debug: ${redact(message)}`);
  }
  notice(message: string, location?: SourceLocation): void {
    this.out(`note: ${where(location)}${redact(message)}`);
  }
  warning(message: string, location?: SourceLocation): void {
    this.err(`warning: ${where(location)}${redact(message)}`);
  }
  error(message: string, location?: SourceLocation): void {
    this.err(`error: ${where(location)}${redact(message)}`);
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = redact(value);
  }
  async summary(markdown: string): Promise<void> {
    this.out(terminalText(redact(markdown), this.verbose));
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.out(`\n== ${redact(title)}`);
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
  return text
    .replace(/&lt;/g, '<')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd();
}
