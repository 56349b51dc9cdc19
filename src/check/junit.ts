/**
 * Rule test results as JUnit XML (`<report dir>/rule-tests.junit.xml`), the format test-report actions read:
 * one <testsuite> per test file, one <testcase> per case, a <failure> with what was missing, unexpected or
 * raised by the engine.
 */
import type { TestResult } from './run-rule-tests.ts';

export function xmlEscape(text: string): string {
  return (
    text
      // XML 1.0 forbids most control characters even escaped.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

export function describeEffectSpec(spec: Record<string, unknown>): string {
  const { action, ...rest } = spec;
  const details = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${String(v)}`);
  return details.length ? `${String(action)} (${details.join(', ')})` : String(action);
}

/** What went wrong in a failed case, one line per problem. */
export function failureLines(result: TestResult): string[] {
  return [
    ...result.missing.map((m) => `missing: ${describeEffectSpec(m)}`),
    ...result.forbidden.map((f) => `unexpected: ${describeEffectSpec(f)}`),
    ...result.errors.map((e) => `error: ${e}`),
  ];
}

export function junitXml(results: TestResult[], seconds: number): string {
  const byFile = new Map<string, TestResult[]>();
  for (const r of results) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const failures = results.filter((r) => !r.passed).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dhis2-metadata rule tests" tests="${results.length}" failures="${failures}" errors="0" time="${seconds.toFixed(3)}">`,
  ];
  for (const [file, cases] of byFile) {
    const failed = cases.filter((c) => !c.passed).length;
    lines.push(
      `  <testsuite name="${xmlEscape(file)}" tests="${cases.length}" failures="${failed}" errors="0" skipped="0">`,
    );
    for (const c of cases) {
      const attrs = `name="${xmlEscape(c.name)}" classname="${xmlEscape(c.program)}" file="${xmlEscape(c.file)}"${c.line ? ` line="${c.line}"` : ''}`;
      if (c.passed) {
        lines.push(`    <testcase ${attrs}/>`);
        continue;
      }
      const problems = failureLines(c);
      lines.push(
        `    <testcase ${attrs}>`,
        `      <failure message="${xmlEscape(problems[0] ?? 'failed')}" type="RuleTestFailure">${xmlEscape(problems.join('\n'))}</failure>`,
        '    </testcase>',
      );
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
