import type { SourceLocation } from './errors.ts';

/**
 * Where a command tells the user what happened. The action's reporter writes workflow commands,
 * outputs and the job summary through @actions/core; the CLI's prints to the terminal. Commands only
 * talk to this interface, so they run the same in both. Implementations redact secrets.
 */
export interface Reporter {
  info(message: string): void;
  debug(message: string): void;
  notice(message: string, location?: SourceLocation): void;
  warning(message: string, location?: SourceLocation): void;
  /** An annotation (in the action) naming a problem; does not by itself fail the run. */
  error(message: string, location?: SourceLocation): void;
  setOutput(name: string, value: string): void;
  /** Markdown appended to the job summary (the CLI prints nothing for it unless verbose). */
  summary(markdown: string): Promise<void>;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

/** Collects everything: for tests and for commands that run nested. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  readonly outputs: Record<string, string> = {};
  readonly summaries: string[] = [];
  readonly annotations: { level: 'notice' | 'warning' | 'error'; message: string; location?: SourceLocation }[] = [];

  info(message: string): void {
    this.lines.push(message);
  }
  debug(message: string): void {
    this.lines.push(`debug: ${message}`);
  }
  notice(message: string, location?: SourceLocation): void {
    this.annotations.push({ level: 'notice', message, location });
  }
  warning(message: string, location?: SourceLocation): void {
    this.annotations.push({ level: 'warning', message, location });
  }
  error(message: string, location?: SourceLocation): void {
    this.annotations.push({ level: 'error', message, location });
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }
  async summary(markdown: string): Promise<void> {
    this.summaries.push(markdown);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`## ${title}`);
    return fn();
  }
}
