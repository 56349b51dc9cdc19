import * as core from '@actions/core';
import type { SourceLocation } from '../errors.ts';
import type { Reporter } from '../reporter.ts';
import { redact } from '../util/secrets.ts';
import { logText } from '../util/text.ts';

/** Every line for the log: secrets masked, and made one line that no runner command can hide in. */
const line = (message: string) => logText(redact(message));

/** @actions/core escapes the properties as GitHub asks (`%`, CR, LF, `:` and `,`); the file is one line too. */
function properties(location?: SourceLocation): core.AnnotationProperties {
  if (!location?.file) return {};
  return { file: line(location.file), startLine: location.line, startColumn: location.column };
}

/** Writes through @actions/core: workflow commands, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. */
export class ActionReporter implements Reporter {
  /** @param hasSummary whether $GITHUB_STEP_SUMMARY is set (outside a runner core.summary.write() throws). */
  constructor(private readonly hasSummary: boolean) {}

  info(message: string): void {
    core.info(line(message));
  }
  debug(message: string): void {
    core.debug(line(message));
  }
  notice(message: string, location?: SourceLocation): void {
    core.notice(line(message), properties(location));
  }
  warning(message: string, location?: SourceLocation): void {
    core.warning(line(message), properties(location));
  }
  error(message: string, location?: SourceLocation): void {
    core.error(line(message), properties(location));
  }
  setOutput(name: string, value: string): void {
    core.setOutput(name, redact(value));
  }
  async summary(markdown: string): Promise<void> {
    if (!this.hasSummary) return;
    await core.summary.addRaw(redact(markdown), true).write();
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return core.group(line(title), fn);
  }
}
