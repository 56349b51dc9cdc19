/**
 * The checks' results where a user sees them, the same in `check` and `dry-run`: one annotation per problem
 * (the change's as errors, those already there as warnings), why every problem counts when there is nothing
 * to compare with, and the outputs `errors`, `errors-existing`, `tests-passed`, `tests-failed`.
 */
import type { Reporter } from '../reporter.ts';
import type { CheckResult } from './run-checks.ts';

export function announceChecks(reporter: Reporter, result: CheckResult): void {
  if (result.strictBecause) {
    // The line that says why the problems below fail the gate; with none, a plain line is enough.
    const line = `fail-on: new, but every problem counts: ${result.strictBecause}`;
    if (result.errors > 0) reporter.notice(line);
    else reporter.info(line);
  }
  for (const p of result.problems) {
    if (p.level === 'error') reporter.error(p.message, p.location);
    else reporter.warning(p.message, p.location);
  }
  reporter.setOutput('errors', String(result.errors));
  reporter.setOutput('errors-existing', String(result.errorsExisting));
  reporter.setOutput('tests-passed', String(result.testsPassed));
  reporter.setOutput('tests-failed', String(result.testsFailed));
}
