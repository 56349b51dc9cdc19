/**
 * `check`: program rules and indicators validated with DHIS2's own engines, and the program rule tests run,
 * from the files in the repo: no server, no credentials (so it also runs for pull requests from forks).
 * Every problem is annotated on its line (the rule's `condition`, the action's `data`, the failing test case);
 * outputs `errors`, `tests-passed`, `tests-failed`, `status`, `report`; the rule tests also go to
 * `<report dir>/rule-tests.junit.xml`. `--init-tests <program>` writes an example test file instead.
 * The checking itself is src/check/run-checks.ts (`runChecks`), which dry-run can run too.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Settings } from '../config/types.ts';
import { ConfigError, isUserError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';
import { exampleTests } from '../check/init-tests.ts';
import { junitXml } from '../check/junit.ts';
import { programModel } from '../check/program-model.ts';
import { findTestFiles, readTestFile, type RuleTestFile } from '../check/rule-test-file.ts';
import { runChecks, type CheckInput, type CheckResult } from '../check/run-checks.ts';
import { readMetadataFile } from './json-file.ts';
import { writeReport } from './report-file.ts';

/** The program files of the run, read from the workspace. */
export function checkInputs(settings: Settings, options: { skipUnreadable?: boolean } = {}): CheckInput[] {
  return settings.programs.flatMap((entry) => {
    try {
      const file = readMetadataFile(settings.workspace, entry.file, `the file of program ${entry.id} in the config`);
      return [{ id: entry.id, file: entry.file, text: file.text, doc: file.doc }];
    } catch (e) {
      // dry-run reports an unreadable file as that program's own error, after the checks of the others.
      if (options.skipUnreadable && isUserError(e)) return [];
      throw e;
    }
  });
}

/**
 * The rule test files of the config (`tests:`, default `rule-tests/`) for the programs of the run. A file that
 * names a program not in the config is an error on its `program:` line.
 */
export function checkTests(settings: Settings): RuleTestFile[] {
  const known = new Set(settings.config.programs.map((p) => p.id));
  const selected = new Set(settings.programs.map((p) => p.id));
  const tests = findTestFiles(settings.workspace, settings.config.tests).map((f) =>
    readTestFile(settings.workspace, f),
  );
  for (const t of tests) {
    if (!known.has(t.program)) {
      throw new ConfigError(
        `${t.file}: program ${t.program} is not a program of ${settings.config.path} (its programs: ${[...known].join(', ')})`,
        { file: t.file, line: t.programLine },
      );
    }
  }
  return tests.filter((t) => selected.has(t.program));
}

/** Writes the JUnit file of the rule tests into the report folder; returns its path. */
export function writeJunit(settings: Settings, result: CheckResult): string {
  mkdirSync(settings.reportDir, { recursive: true });
  const path = join(settings.reportDir, 'rule-tests.junit.xml');
  const tests = result.programs.flatMap((p) => p.tests);
  writeFileSync(path, junitXml(tests, result.engineMs / 1000));
  return path;
}

function initTests(settings: Settings, reporter: Reporter, programId: string): boolean {
  const entry = settings.config.programs.find((p) => p.id === programId);
  if (!entry) {
    throw new ConfigError(
      `init-tests: program ${programId} is not in ${settings.config.path} (its programs: ${settings.config.programs.map((p) => p.id).join(', ')})`,
    );
  }
  const file = readMetadataFile(settings.workspace, entry.file, `the file of program ${entry.id} in the config`);
  const model = programModel(file.doc, entry.id);
  if (!model.program)
    throw new ConfigError(`init-tests: program ${entry.id} is not in ${entry.file}`, { file: entry.file });
  const folder = settings.config.tests?.find((t) => !/\.ya?ml$/i.test(t)) ?? 'rule-tests';
  const path = `${folder.replace(/\/+$/, '')}/${entry.id}.yml`;
  const abs = resolve(settings.workspace, path);
  if (existsSync(abs))
    throw new ConfigError(`init-tests: ${path} already exists (remove it or edit it)`, { file: path });
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, exampleTests(model));
  reporter.info(`wrote ${path}: an example rule test file for ${model.name} (${entry.id}); fill in the TODOs`);
  reporter.setOutput('files', JSON.stringify([path]));
  reporter.setOutput('status', 'OK');
  return true;
}

export async function runCheck(settings: Settings, reporter: Reporter): Promise<boolean> {
  if (settings.initTests) return initTests(settings, reporter, settings.initTests);
  const inputs = checkInputs(settings);
  const tests = checkTests(settings);
  const result = await runChecks(inputs, tests);

  for (const p of result.problems) {
    if (p.level === 'error') reporter.error(p.message, p.location);
    else reporter.warning(p.message, p.location);
  }
  for (const p of result.programs) {
    const invalid = p.expressions.filter((e) => e.severity === 'error').length;
    const warned = p.expressions.filter((e) => e.severity === 'warning').length;
    reporter.info(
      `${p.name} (${p.id}): ${p.expressions.length} expressions, ${invalid} invalid, ${warned} with warnings, ` +
        `${p.references.length} broken references; rule tests ${p.tests.filter((t) => t.passed).length} passed, ` +
        `${p.tests.filter((t) => !t.passed).length} failed`,
    );
  }
  reporter.debug(`engine time ${result.engineMs.toFixed(0)} ms`);

  const report = { command: 'check', programs: result.programs };
  const reportPath = writeReport(settings, 'check', report);
  const junitPath = writeJunit(settings, result);
  reporter.debug(`rule tests as JUnit XML: ${junitPath}`);
  const ok = result.errors === 0 && result.testsFailed === 0;
  reporter.setOutput('errors', String(result.errors));
  reporter.setOutput('tests-passed', String(result.testsPassed));
  reporter.setOutput('tests-failed', String(result.testsFailed));
  reporter.setOutput('status', ok ? (result.warnings > 0 ? 'WARNING' : 'OK') : 'ERROR');
  reporter.setOutput('report', reportPath);
  await reporter.summary(result.markdown);
  if (!ok) {
    reporter.error(
      `check failed: ${result.errors} invalid expressions or broken references, ${result.testsFailed} failed rule tests`,
    );
  }
  return ok;
}
