import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { XMLValidator, XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryReporter } from '../../src/reporter.ts';
import { execute } from '../../src/run.ts';
import { runAction, runCli } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

/**
 * `check` on the real fixture programs, in a workspace of their files: expression verdicts annotated on the
 * offending key's line, a dangling reference, rule tests passing and failing (tracker with an enrollment and
 * earlier events, event program), a rule that throws at run time, the JUnit file, the outputs.
 */
const FIX = new URL('../fixtures/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FIX), 'utf8');
const TB = read('dhis2/who_TB-REG_TRACKER_V1_DHIS2.33.json');
const COVAC = read('dhis2/who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json');
const CORE = read('dhis2/core_metadata_with_program_and_programrules.json');

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function workspace(files: Record<string, string>): string {
  const ws = tempWorkspace(files);
  cleanup.push(ws.remove);
  return ws.dir;
}

const config = (programs: [string, string][], extra = '') =>
  `target: another-server\nprograms:\n${programs.map(([id, file]) => `  - id: ${id}\n    file: ${file}\n`).join('')}${extra}`;

async function check(dir: string, raw: Record<string, string> = {}) {
  const reporter = new MemoryReporter();
  const reportDir = mkdtempSync(join(tmpdir(), 'check-report-'));
  cleanup.push(() => rmSync(reportDir, { recursive: true, force: true }));
  const code = await execute(
    { command: 'check', ...raw },
    { cwd: dir, env: { DHIS2_METADATA_REPORT_DIR: reportDir } },
    reporter,
  );
  return { code, reporter, reportDir };
}

/** The 1-based line of the n-th occurrence of `needle` in `text`. */
function lineOf(text: string, needle: string, nth = 1): number {
  let at = -1;
  for (let i = 0; i < nth; i++) at = text.indexOf(needle, at + 1);
  expect(at).toBeGreaterThanOrEqual(0);
  return text.slice(0, at).split('\n').length;
}

describe('check on real programs', () => {
  it('flags what DHIS2 rejects, on the line of the offending key, and nothing it accepts', async () => {
    const dir = workspace({
      'dhis2-metadata.yml': config([['Lt6P15ps7f6', 'metadata/tb.json']]),
      'metadata/tb.json': TB,
    });
    const { code, reporter } = await check(dir);
    expect(code).toBe(1);
    expect(reporter.outputs.status).toBe('ERROR');
    // 38 ASSIGN data and 21 conditions that DHIS2 2.43.1 calls invalid (expression-verdicts.json).
    expect(reporter.outputs.errors).toBe('59');
    const positive = reporter.annotations.find((a) => a.message.includes('"Positive" is not valid'));
    expect(positive?.message).toMatch(
      /^program Lt6P15ps7f6, rule ".+": ASSIGN action data "Positive" is not valid: Unknown function or constant: 'Positive'/,
    );
    // on the action's "data" line, not its opening brace
    const dataLine = positive?.location?.line ?? 0;
    expect(TB.split('\n')[dataLine - 1]).toMatch(/"data": "Positive"/);
    const dateCompare = reporter.annotations.find((a) => a.message.includes('V{current_date} < A{DateBirth}'));
    expect(dateCompare?.level).toBe('error');
    expect(TB.split('\n')[(dateCompare?.location?.line ?? 0) - 1]).toContain(
      '"condition": "V{current_date} < A{DateBirth}"',
    );
  }, 60_000);

  it('an unknown variable, a syntax error, warnings and a dangling reference', async () => {
    const doc = JSON.parse(COVAC);
    const rule = (id: string) => doc.programRules.find((r: { id: string }) => r.id === id);
    rule('zLLHG561wsq').condition = "!d2:hasValue( 'Vaccine_type_previous' ) && #{no_such_variable} > 1";
    rule('HdOtRsvVzgY').condition = "#{Pregnant} != 'COVACPREGNANT' &&";
    const variable = doc.programRuleVariables.find((v: { name: string }) => v.name === 'Pregnant');
    variable.dataElement = { id: 'NotInFile01' };
    const text = JSON.stringify(doc, null, 2);
    const dir = workspace({
      'dhis2-metadata.yml': config([['yDuAzyqYABS', 'metadata/covac.json']]),
      'metadata/covac.json': text,
    });
    const { code, reporter } = await check(dir);
    expect(code).toBe(1);
    const errors = reporter.annotations.filter((a) => a.level === 'error');
    const unknown = errors.find((a) => a.message.includes('no_such_variable'));
    expect(unknown?.message).toMatch(/^program yDuAzyqYABS, rule "[^"]+": condition .* is not valid: /);
    expect(text.split('\n')[(unknown?.location?.line ?? 0) - 1]).toContain('"condition"');
    const syntax = errors.find((a) => a.message.includes("'COVACPREGNANT' &&"));
    expect(syntax?.message).toMatch(/is not valid: /);
    const dangling = errors.find((a) => a.message.includes('NotInFile01'));
    expect(dangling?.message).toBe(
      'program yDuAzyqYABS, rule variable: rule variable "Pregnant" reads data element NotInFile01, which is not in the file',
    );
    expect(text.split('\n')[(dangling?.location?.line ?? 0) - 1]).toContain('"dataElement"');
    // "0 error(s), 1 warning(s)": shown as warnings, do not count as errors
    expect(reporter.annotations.filter((a) => a.level === 'warning').length).toBe(5);
  }, 60_000);

  it('runs rule tests: tracker and event program, passing and failing, JUnit XML and report', async () => {
    const dir = workspace({
      'dhis2-metadata.yml': config([
        ['yDuAzyqYABS', 'metadata/covac.json'],
        ['uHi4GZJOD3n', 'metadata/core.json'],
      ]),
      'metadata/covac.json': COVAC,
      'metadata/core.json': CORE,
      'rule-tests/covac.yml': read('rule-tests/covac.yml'),
      'rule-tests/event/ta-event.yml': read('rule-tests/ta-event.yml'),
    });
    const { code, reporter, reportDir } = await check(dir);
    expect(code).toBe(1);
    expect(reporter.outputs['tests-passed']).toBe('2');
    expect(reporter.outputs['tests-failed']).toBe('2');
    const failed = reporter.annotations.filter((a) => a.message.startsWith('rule test'));
    expect(failed.map((a) => [a.location?.file, a.location?.line])).toEqual([
      ['rule-tests/covac.yml', lineOf(read('rule-tests/covac.yml'), '- name: a woman')],
      ['rule-tests/event/ta-event.yml', lineOf(read('rule-tests/ta-event.yml'), '- name: diabetes')],
    ]);
    expect(failed[0]?.message).toContain('missing: ASSIGN (field: COVAC - Total doses, value: 3)');

    const report = JSON.parse(readFileSync(reporter.outputs.report as string, 'utf8'));
    const covac = report.programs.find((p: { id: string }) => p.id === 'yDuAzyqYABS');
    expect(covac.tests.map((t: { name: string; passed: boolean }) => [t.name, t.passed])).toEqual([
      ['second dose after AstraZeneca', true],
      ['a woman is asked about pregnancy', false],
    ]);
    expect(covac.expressions[0]).toMatchObject({
      type: 'programRuleCondition',
      valid: true,
      severity: null,
      message: null,
    });

    const xml = readFileSync(join(reportDir, 'rule-tests.junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml);
    expect(parsed.testsuites['@_tests']).toBe('4');
    expect(parsed.testsuites['@_failures']).toBe('2');
    const summary = reporter.summaries.join('\n');
    expect(summary).toMatch(/\| a woman is asked about pregnancy .*covac\.yml:\d+.* \| FAILED \| missing: ASSIGN/);
    expect(summary).toMatch(/\| second dose after AstraZeneca .* \| passed \|/);
  }, 60_000);

  it('a rule that throws at run time fails its case with the engine message', async () => {
    // The WHO immunization package's mistake: an option code compared with a number.
    const doc = JSON.parse(COVAC);
    doc.programRules.find((r: { id: string }) => r.id === 'srC0NIzM3Ou').condition = 'A{SEX} != 3';
    const tests = `program: yDuAzyqYABS
cases:
  - name: men are not asked about pregnancy
    stage: Vaccination
    enrollment: {attributes: {GEN - Sex: Male}}
    event: {date: 2024-02-10, values: {COVAC - Vaccine Name: MODERNA}}
    expect:
      - {action: HIDEFIELD, field: COVAC - Pregnancy}
`;
    const dir = workspace({
      'dhis2-metadata.yml': config([['yDuAzyqYABS', 'metadata/covac.json']], 'tests: [checks/rules.yml]\n'),
      'metadata/covac.json': JSON.stringify(doc),
      'checks/rules.yml': tests,
    });
    const { code, reporter } = await check(dir);
    expect(code).toBe(1);
    const report = JSON.parse(readFileSync(reporter.outputs.report as string, 'utf8'));
    const t = report.programs[0].tests[0];
    expect(t.passed).toBe(false);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toContain("Invalid number format: 'MALE'");
    expect(t.errors[0]).toContain('srC0NIzM3Ou');
  }, 60_000);

  it('a malformed test file is one error on its line', async () => {
    const dir = workspace({
      'dhis2-metadata.yml': config([['uHi4GZJOD3n', 'metadata/core.json']]),
      'metadata/core.json': CORE,
      'rule-tests/bad.yml': 'program: uHi4GZJOD3n\ncases:\n  - name: x\n    expect:\n      - {field: abc}\n',
    });
    const { code, reporter } = await check(dir);
    expect(code).toBe(1);
    expect(reporter.annotations).toHaveLength(1);
    expect(reporter.annotations[0]?.message).toContain('needs an action');
    expect(reporter.annotations[0]?.location).toMatchObject({ file: 'rule-tests/bad.yml', line: 5 });
  });

  it('--init-tests writes an example with one case per action type, which parses', async () => {
    const dir = workspace({
      'dhis2-metadata.yml': config([['uHi4GZJOD3n', 'metadata/core.json']]),
      'metadata/core.json': CORE,
    });
    const { code, reporter } = await check(dir, { 'init-tests': 'uHi4GZJOD3n' });
    expect(code).toBe(0);
    const written = readFileSync(join(dir, 'rule-tests/uHi4GZJOD3n.yml'), 'utf8');
    for (const type of ['ASSIGN', 'ERRORONCOMPLETE', 'SETMANDATORYFIELD', 'SENDMESSAGE'])
      expect(written).toContain(`# ${type}:`);
    expect(reporter.outputs.files).toBe('["rule-tests/uHi4GZJOD3n.yml"]');
    // the example runs (its cases fail until filled in, but it is a valid test file)
    const again = await check(dir);
    expect(
      again.reporter.annotations.every(
        (a) => a.message.startsWith('rule test') || a.message.startsWith('check failed'),
      ),
    ).toBe(true);
  }, 60_000);
});

const DIST = new URL('../../dist/', import.meta.url);
describe.skipIf(!existsSync(new URL('rule-engine.js', DIST)))('check from the bundle, with no node_modules', () => {
  it('node dist/index.js and node dist/cli.js run check without a server', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'bundle-'));
    cleanup.push(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(DIST, join(copy, 'dist'), { recursive: true });
    const dir = workspace({
      'dhis2-metadata.yml': config([['uHi4GZJOD3n', 'metadata/core.json']]),
      'metadata/core.json': CORE,
      'rule-tests/ta-event.yml': read('rule-tests/ta-event.yml'),
    });
    const root = new URL('../../', import.meta.url).pathname;
    const run = await runAction(
      { command: 'check' },
      { workspace: dir, entry: relative(root, join(copy, 'dist/index.js')) },
    );
    expect(run.code).toBe(1); // one rule test fails on purpose
    expect(run.outputs).toMatchObject({ errors: '0', 'tests-passed': '1', 'tests-failed': '1', status: 'ERROR' });
    const cli = await runCli(['check', '--programs', 'uHi4GZJOD3n'], { cwd: dir });
    expect(cli.code).toBe(1);
    expect(cli.stdout + cli.stderr).toContain('diabetes makes a field mandatory');
  }, 120_000);
});
