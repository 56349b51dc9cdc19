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
    this.out(redact(markdown).trimEnd());
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.out(`\n== ${redact(title)}`);
    return fn();
  }
}
