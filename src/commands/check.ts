/**
 * `check`: program rules and indicators validated with DHIS2's own engines, and the program rule tests run,
 * from the files in the repo: no server, no credentials (so it also runs for pull requests from forks).
 * Every problem is annotated on its line (the rule's `condition`, the action's `data`, the failing test case);
 * outputs `errors`, `tests-passed`, `tests-failed`, `status`, `report`; the rule tests also go to
 * `<report dir>/rule-tests.junit.xml`. `--init-tests <program>` writes an example test file instead.
 * The checking itself is src/check/run-checks.ts (`runChecks`), which dry-run can run too.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Settings } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';
import { exampleTests } from '../check/init-tests.ts';
import { announceChecks } from '../check/announce.ts';
import { programModel } from '../check/program-model.ts';
import { checkInputs, checkTests, gitBaseline, writeJunit } from '../check/program-files.ts';
import { checksFail, evaluateChecks, existingLine, judgeChecks } from '../check/run-checks.ts';
import { readMetadataFile } from '../plan/metadata-file.ts';
import { writeReport } from '../report/report-file.ts';

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
  // The files before the change come from git while the engines work on the files now.
  const [evaluation, before] = await Promise.all([evaluateChecks(inputs, tests), gitBaseline(settings, inputs)]);
  const result = judgeChecks(evaluation, { failOn: settings.failOn, ...before });
  announceChecks(reporter, result);
  for (const p of result.programs) {
    const invalid = p.expressions.filter((e) => e.severity === 'error');
    const warned = p.expressions.filter((e) => e.severity === 'warning').length;
    const existing = invalid.filter((e) => e.existing).length + p.references.filter((r) => r.existing).length;
    reporter.info(
      `${p.name} (${p.id}): ${p.expressions.length} expressions, ${invalid.length} invalid, ${warned} with warnings, ` +
        `${p.references.length} broken references${existing > 0 ? ` (${existing} problems already ${result.where})` : ''}; ` +
        `rule tests ${p.tests.filter((t) => t.passed).length} passed, ${p.tests.filter((t) => !t.passed).length} failed`,
    );
  }
  reporter.debug(`engine time ${result.engineMs.toFixed(0)} ms`);

  const report = {
    command: 'check',
    failOn: result.failOn,
    before: result.where ?? null,
    programs: result.programs,
  };
  const reportPath = writeReport(settings, 'check', report);
  const junitPath = writeJunit(settings, result);
  reporter.debug(`rule tests as JUnit XML: ${junitPath}`);
  const ok = !checksFail(result);
  reporter.setOutput('status', ok ? (result.warnings > 0 || result.errorsExisting > 0 ? 'WARNING' : 'OK') : 'ERROR');
  reporter.setOutput('report', reportPath);
  await reporter.summary(result.markdown);
  if (!ok) {
    const what = result.failOn === 'new' && !result.strictBecause ? ' this change brings' : '';
    reporter.error(
      `check failed: ${result.errors} invalid expressions or broken references${what}, ${result.testsFailed} failed rule tests`,
    );
  } else if (result.errorsExisting > 0) {
    reporter.info(
      `check passed: this change brings no invalid expression or broken reference (${existingLine(result)})`,
    );
  }
  return ok;
}
