/**
 * `runChecks`: the whole check of a set of programs, no server needed. For each program, from its file: the
 * expression verdicts (validate-expressions.ts), the broken references (references.ts) and the program rule
 * tests (rule-test-file.ts, run-rule-tests.ts). Reports nothing itself: it returns the report, the problems
 * with their locations (for annotations), counts and the summary Markdown, so that `check` and `dry-run`
 * can both show them.
 */
import type { SourceLocation } from '../errors.ts';
import { ConfigError } from '../errors.ts';
import { cell, programLabel, table } from '../github/markdown.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import { loadEngines } from './engines.ts';
import { JsonKeyLocator } from './json-locator.ts';
import { failureLines } from './junit.ts';
import { programModel, ruleName, str, type ProgramModel } from './program-model.ts';
import { checkReferences, type ReferenceProblem } from './references.ts';
import type { RuleTestFile } from './rule-test-file.ts';
import { runTestFile, type TestResult } from './run-rule-tests.ts';
import { validateProgramExpressions, type ExpressionVerdict } from './validate-expressions.ts';

/** One program's metadata, as read from its file. */
export interface CheckInput {
  id: string;
  /** Workspace-relative path of the file (annotations), or a description when not a file of the repo. */
  file: string;
  inRepo?: boolean;
  text: string;
  doc: MetadataDocument;
}

export interface ProgramCheckReport {
  id: string;
  name: string;
  file: string;
  expressions: ExpressionVerdict[];
  references: ReferenceProblem[];
  tests: TestResult[];
}

/** A problem to annotate: level, one-line message, where. */
export interface CheckProblem {
  level: 'error' | 'warning';
  message: string;
  location: SourceLocation;
}

export interface CheckResult {
  programs: ProgramCheckReport[];
  problems: CheckProblem[];
  /** Invalid expressions (severity error) and broken references. */
  errors: number;
  warnings: number;
  testsPassed: number;
  testsFailed: number;
  /** Milliseconds spent in the engines (validation and tests), without loading them. */
  engineMs: number;
  markdown: string;
}

const TYPE_LABEL: Record<ExpressionVerdict['type'], string> = {
  programRuleCondition: 'condition',
  programRuleActionData: 'action data',
  programIndicatorExpression: 'indicator expression',
  programIndicatorFilter: 'indicator filter',
};

const TYPE_KEY: Record<ExpressionVerdict['type'], string> = {
  programRuleCondition: 'condition',
  programRuleActionData: 'data',
  programIndicatorExpression: 'expression',
  programIndicatorFilter: 'filter',
};

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Checks the given programs and runs the test files that name them. `tests` are the parsed test files (a file
 * for a program not among `inputs` is skipped by the caller or reported by it).
 */
export async function runChecks(inputs: CheckInput[], tests: RuleTestFile[]): Promise<CheckResult> {
  const engines = await loadEngines();
  const started = performance.now();
  const programs: ProgramCheckReport[] = [];
  const problems: CheckProblem[] = [];
  for (const input of inputs) {
    const model = programModel(input.doc, input.id);
    if (!model.program) {
      throw new ConfigError(`program ${input.id} is not in ${input.file} (its programs[] has no object with that id)`, {
        file: input.file,
      });
    }
    const expressions = validateProgramExpressions(engines, model);
    const references = checkReferences(engines, model);
    const results = tests.filter((t) => t.program === input.id).flatMap((t) => runTestFile(engines.rules, model, t));
    programs.push({ id: input.id, name: model.name, file: input.file, expressions, references, tests: results });
    problems.push(...programProblems(input, model, expressions, references, results));
  }
  const engineMs = performance.now() - started;
  const all = (f: (p: ProgramCheckReport) => number) => programs.reduce((n, p) => n + f(p), 0);
  const result: CheckResult = {
    programs,
    problems,
    errors: all((p) => p.expressions.filter((e) => e.severity === 'error').length + p.references.length),
    warnings: all((p) => p.expressions.filter((e) => e.severity === 'warning').length),
    testsPassed: all((p) => p.tests.filter((t) => t.passed).length),
    testsFailed: all((p) => p.tests.filter((t) => !t.passed).length),
    engineMs,
    markdown: '',
  };
  result.markdown = checksMarkdown(result);
  return result;
}

function programProblems(
  input: CheckInput,
  model: ProgramModel,
  expressions: ExpressionVerdict[],
  references: ReferenceProblem[],
  tests: TestResult[],
): CheckProblem[] {
  const locator = new JsonKeyLocator(input.file, input.text);
  const where = (uid: string, key: string): SourceLocation => (input.inRepo === false ? {} : locator.locate(uid, key));
  const rules = new Map(model.rules.map((r) => [String(r.id), r]));
  const indicators = new Map(model.indicators.map((i) => [String(i.id), i]));
  const owner = (v: { type: string; id: string; rule?: string }) =>
    v.rule !== undefined
      ? `rule "${ruleName(rules.get(v.rule))}"`
      : `program indicator "${str(indicators.get(v.id)?.name) ?? v.id}"`;
  const out: CheckProblem[] = [];
  for (const v of expressions) {
    if (v.valid || v.severity === null) continue;
    const what = v.type === 'programRuleActionData' ? `${v.actionType} action data` : TYPE_LABEL[v.type];
    out.push({
      level: v.severity,
      message: `program ${model.id}, ${owner(v)}: ${what} ${JSON.stringify(oneLine(v.expression, 120))} is not valid: ${oneLine(v.message ?? '')}`,
      location: where(v.id, TYPE_KEY[v.type]),
    });
  }
  for (const r of references) {
    const about =
      r.rule !== undefined
        ? `rule "${ruleName(rules.get(r.rule))}"`
        : r.objectType === 'programIndicator'
          ? `program indicator "${str(indicators.get(r.id)?.name) ?? r.id}"`
          : 'rule variable';
    out.push({ level: 'error', message: `program ${model.id}, ${about}: ${r.message}`, location: where(r.id, r.key) });
  }
  for (const t of tests) {
    if (t.passed) continue;
    out.push({
      level: 'error',
      message: `rule test "${t.name}" (program ${t.program}) failed: ${failureLines(t)
        .map((l) => oneLine(l, 400))
        .join('; ')}`,
      location: { file: t.file, line: t.line },
    });
  }
  return out;
}

function describeEffects(t: TestResult): string {
  const seen = new Set<string>();
  for (const e of t.effects) {
    const target = e.field ?? e.section ?? e.option ?? e.optionGroup ?? e.stage ?? e.content ?? '';
    seen.add(`${e.action}${target ? ` ${target}` : ''}${e.action === 'ASSIGN' && e.data ? ` = ${e.data}` : ''}`);
  }
  const list = [...seen];
  return list.length > 12 ? `${list.slice(0, 12).join(', ')} … (${list.length} in all)` : list.join(', ');
}

/** The "Checks" section: per program, counts, the problems, and a table of the rule tests. */
export function checksMarkdown(result: CheckResult): string {
  const lines: string[] = ['### Checks: program rules and indicators', ''];
  for (const p of result.programs) {
    const invalid = p.expressions.filter((e) => e.severity === 'error');
    const warned = p.expressions.filter((e) => e.severity === 'warning');
    lines.push(
      `#### ${cell(programLabel(p.id, p.name))}`,
      '',
      `${p.expressions.length} expressions validated: ${invalid.length} invalid, ${warned.length} with warnings; ` +
        `${p.references.length} broken references; rule tests: ${p.tests.filter((t) => t.passed).length} passed, ` +
        `${p.tests.filter((t) => !t.passed).length} failed.`,
      '',
    );
    const rows = [
      ...invalid.map((e) => [
        'error',
        TYPE_LABEL[e.type],
        e.id,
        oneLine(e.expression, 80),
        oneLine(e.message ?? '', 160),
      ]),
      ...warned.map((e) => [
        'warning',
        TYPE_LABEL[e.type],
        e.id,
        oneLine(e.expression, 80),
        oneLine(e.message ?? '', 160),
      ]),
      ...p.references.map((r) => ['error', 'reference', r.id, r.key, r.message]),
    ];
    if (rows.length > 0) {
      const shown = rows.slice(0, 50);
      lines.push(table(['', 'what', 'uid', 'expression or key', 'problem'], shown), '');
      if (rows.length > shown.length) lines.push(`… and ${rows.length - shown.length} more (see the report file).`, '');
    }
    if (p.tests.length > 0) {
      lines.push(
        table(
          ['rule test', 'result', 'missing or unexpected', 'effects that happened'],
          p.tests.map((t) => [
            `${t.name} (${t.file}${t.line ? `:${t.line}` : ''})`,
            t.passed ? 'passed' : 'FAILED',
            failureLines(t)
              .map((l) => oneLine(l, 200))
              .join('; '),
            describeEffects(t),
          ]),
        ),
        '',
      );
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
