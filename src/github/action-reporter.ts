import * as core from '@actions/core';
import type { SourceLocation } from '../errors.ts';
import type { Reporter } from '../reporter.ts';
import { redact } from '../util/secrets.ts';

function properties(location?: SourceLocation): core.AnnotationProperties {
  if (!location?.file) return {};
  return { file: location.file, startLine: location.line, startColumn: location.column };
}

/** Writes through @actions/core: workflow commands, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. */
export class ActionReporter implements Reporter {
  /** @param hasSummary whether $GITHUB_STEP_SUMMARY is set (outside a runner core.summary.write() throws). */
  constructor(private readonly hasSummary: boolean) {}

  info(message: string): void {
    core.info(redact(message));
  }
  debug(message: string): void {
    core.debug(redact(message));
  }
  notice(message: string, location?: SourceLocation): void {
    core.notice(redact(message), properties(location));
  }
  warning(message: string, location?: SourceLocation): void {
    core.warning(redact(message), properties(location));
  }
  error(message: string, location?: SourceLocation): void {
    core.error(redact(message), properties(location));
  }
  setOutput(name: string, value: string): void {
    core.setOutput(name, redact(value));
  }
  async summary(markdown: string): Promise<void> {
    if (!this.hasSummary) return;
    await core.summary.addRaw(redact(markdown), true).write();
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return core.group(redact(title), fn);
  }
}
