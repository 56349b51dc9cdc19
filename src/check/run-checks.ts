/**
 * `runChecks`: the whole check of a set of programs, no server needed. For each program, from its file: the
 * expression verdicts (validate-expressions.ts), the broken references (references.ts) and the program rule
 * tests (rule-test-file.ts, run-rule-tests.ts). Reports nothing itself: it returns the report, the problems
 * with their locations (for annotations), counts and the summary Markdown, so that `check` and `dry-run`
 * can both show them.
 */
import type { SourceLocation } from '../errors.ts';
import { ConfigError } from '../errors.ts';
import { blocks, cell, code, type Markup, mdText, programLabel, table } from '../github/markdown.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import { loadEngines } from './engines.ts';
import { JsonKeyLocator } from './json-locator.ts';
import { failureLines } from './junit.ts';
import { programModel, ruleName, str, type ProgramModel } from './program-model.ts';
import { checkReferences, type ReferenceProblem } from './references.ts';
import type { RuleTestFile } from './rule-test-file.ts';
import { runTestFile, type TestResult } from './run-rule-tests.ts';
import { closest } from '../util/closest.ts';
import { ENV_VARIABLES } from './item-store.ts';
import {
  indicatorsNeedParser,
  newChecksTurn,
  validateProgramExpressions,
  type ExpressionVerdict,
} from './validate-expressions.ts';
import { judgeProgram, type Baseline, type FailOn, type ProgramBefore } from './baseline.ts';

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

/**
 * A problem as evaluated, before it is judged: its message and where it is. Judging adds only whether it was
 * already there (the level, and a suffix saying so), so the program's text and metadata need not be kept.
 */
export interface ProblemNote {
  message: string;
  location: SourceLocation;
}

/** One program's checks, evaluated: its report and the notes of its problems, without its text or metadata. */
export interface ProgramChecked {
  report: ProgramCheckReport;
  /** Per expression verdict of report.expressions (same order): undefined when it is no problem. */
  expressionNotes: (ProblemNote | undefined)[];
  /** Per report.references (same order). */
  referenceNotes: ProblemNote[];
  /** The failed rule tests of report.tests, in order. */
  testNotes: ProblemNote[];
  /** Milliseconds spent in the engines on it, without loading them. */
  engineMs: number;
}

/** The checks as evaluated, before they are judged against what was there before the change. */
export interface CheckEvaluation {
  programs: ProgramChecked[];
  /** Milliseconds spent in the engines (validation and tests), without loading them. */
  engineMs: number;
}

export interface CheckResult {
  programs: ProgramCheckReport[];
  problems: CheckProblem[];
  failOn: FailOn;
  /** Invalid expressions (severity error) and broken references that fail the gate. */
  errors: number;
  /** Those already there before the change (reported, not failed on, with fail-on: new). */
  errorsExisting: number;
  warnings: number;
  testsPassed: number;
  testsFailed: number;
  /** "on the server", "at the base commit 1a2b3c4": where the existing problems were. */
  where?: string;
  /** One line: why every problem counts although fail-on is new (no "before" to compare with). */
  strictBecause?: string;
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

/** The program's model, or a ConfigError when its file holds no program with its id. */
function modelOf(input: CheckInput): ProgramModel {
  const model = programModel(input.doc, input.id);
  if (!model.program) {
    throw new ConfigError(`program ${input.id} is not in ${input.file} (its programs[] has no object with that id)`, {
      file: input.file,
    });
  }
  return model;
}

/**
 * Evaluates one program's expressions and references and runs the test files that name it (`tests`: the
 * parsed test files; those for other programs are skipped). What it returns holds no part of the program's
 * text or metadata: a run checks its programs one at a time and keeps only this of each.
 */
export async function checkProgram(input: CheckInput, tests: readonly RuleTestFile[]): Promise<ProgramChecked> {
  newChecksTurn();
  const model = modelOf(input);
  const engines = await loadEngines({ expressionParser: indicatorsNeedParser([model]) });
  const started = performance.now();
  const expressions = validateProgramExpressions(engines, model);
  const references = checkReferences(engines, model);
  const results = tests.filter((t) => t.program === input.id).flatMap((t) => runTestFile(engines.rules, model, t));
  const engineMs = performance.now() - started;
  const report = { id: input.id, name: model.name, file: input.file, expressions, references, tests: results };
  return { report, ...problemNotes(input, model, report), engineMs };
}

/** checkProgram for each program in turn, keeping of each only what judging needs. */
export async function evaluateChecks(
  inputs: readonly CheckInput[],
  tests: readonly RuleTestFile[],
): Promise<CheckEvaluation> {
  const programs: ProgramChecked[] = [];
  for (const input of inputs) programs.push(await checkProgram(input, tests));
  return { programs, engineMs: programs.reduce((ms, p) => ms + p.engineMs, 0) };
}

/**
 * The problems of one program before the change, from its metadata then (a model of it): only the invalid
 * expressions and the broken references, which is all judging compares with (a run keeps this per program).
 */
export async function programBefore(doc: MetadataDocument, id: string): Promise<ProgramBefore | null> {
  const model = programModel(doc, id);
  if (!model.program) return null;
  const engines = await loadEngines({ expressionParser: indicatorsNeedParser([model]) });
  const expressions = validateProgramExpressions(engines, model).filter((v) => v.severity !== null);
  return { expressions, references: checkReferences(engines, model) };
}

/**
 * The problems of each program before the change, from its metadata then: `null` when the program was not
 * there, a string (why its "before" could not be had) passed through. Same engines, same rule verdicts: the
 * conditions and actions that did not change cost nothing more (the indicators' parse trees are kept for the
 * last two programs checked only, validate-expressions.ts newChecksTurn, and are parsed again for the others).
 */
export async function evaluateBefore(
  docs: ReadonlyMap<string, MetadataDocument | null | string>,
): Promise<Map<string, ProgramBefore | null | string>> {
  const out = new Map<string, ProgramBefore | null | string>();
  for (const [id, doc] of docs) out.set(id, doc && typeof doc === 'object' ? await programBefore(doc, id) : doc);
  return out;
}

export interface JudgeOptions {
  failOn: FailOn;
  /** What was there before the change; without one, every problem counts (`strictBecause` says why). */
  baseline?: Baseline;
  strictBecause?: string;
}

/**
 * Judges the evaluated checks: with fail-on new and a baseline, the problems that were already there are
 * reported as such (warnings) and do not fail the gate. Failed rule tests always do.
 */
export function judgeChecks(evaluation: CheckEvaluation, options: JudgeOptions): CheckResult {
  const { failOn, baseline } = options;
  const problems: CheckProblem[] = [];
  const strict: string[] = [];
  let errors = 0;
  let errorsExisting = 0;
  evaluation.programs.forEach(({ report: p, expressionNotes, referenceNotes, testNotes }) => {
    const before = failOn === 'new' ? baseline?.programs.get(p.id) : undefined;
    if (failOn === 'new' && baseline && (before === undefined || typeof before === 'string')) {
      strict.push(`${p.id}: ${before ?? 'no metadata from before the change'}`);
    }
    const judged = judgeProgram(p.expressions, p.references, typeof before === 'string' ? undefined : before);
    p.expressions.forEach((v, k) => {
      if (v.severity === null) return;
      v.existing = judged.expressionExisting[k] ?? false;
      if (v.severity === 'error') {
        if (v.existing) errorsExisting++;
        else errors++;
      }
    });
    p.references.forEach((r, k) => {
      r.existing = judged.referenceExisting[k] ?? false;
      if (r.existing) errorsExisting++;
      else errors++;
    });
    const already = ` (already ${baseline?.where ?? 'there'} before this change: reported, not failed on)`;
    p.expressions.forEach((v, k) => {
      const note = expressionNotes[k];
      if (!note || v.severity === null) return;
      const suffix = v.existing && v.severity === 'error' ? already : '';
      problems.push({
        level: v.existing ? 'warning' : v.severity,
        message: note.message + suffix,
        location: note.location,
      });
    });
    p.references.forEach((r, k) => {
      const note = referenceNotes[k] as ProblemNote;
      problems.push({
        level: r.existing ? 'warning' : 'error',
        message: note.message + (r.existing ? already : ''),
        location: note.location,
      });
    });
    for (const note of testNotes) problems.push({ level: 'error', ...note });
  });
  const reports = evaluation.programs.map((p) => p.report);
  const all = (f: (p: ProgramCheckReport) => number) => reports.reduce((n, p) => n + f(p), 0);
  const strictBecause =
    failOn === 'new'
      ? (options.strictBecause ??
        (strict.length > 0 ? `for some programs there is nothing to compare with (${strict.join('; ')})` : undefined))
      : undefined;
  const result: CheckResult = {
    programs: reports,
    problems,
    failOn,
    errors,
    errorsExisting,
    warnings: all((p) => p.expressions.filter((e) => e.severity === 'warning').length),
    testsPassed: all((p) => p.tests.filter((t) => t.passed).length),
    testsFailed: all((p) => p.tests.filter((t) => !t.passed).length),
    where: baseline?.where,
    strictBecause,
    engineMs: evaluation.engineMs,
    markdown: '',
  };
  result.markdown = checksMarkdown(result);
  return result;
}

/** evaluateChecks then judgeChecks. */
export async function runChecks(
  inputs: CheckInput[],
  tests: RuleTestFile[],
  options: JudgeOptions = { failOn: 'all' },
): Promise<CheckResult> {
  return judgeChecks(await evaluateChecks(inputs, tests), options);
}

/** The gate: problems the change brings (all, with fail-on all) or failed rule tests. */
export function checksFail(result: CheckResult): boolean {
  return result.errors > 0 || result.testsFailed > 0;
}

/** The message and place of each of the program's problems, said as the judge says them but for "already". */
function problemNotes(
  input: CheckInput,
  model: ProgramModel,
  report: ProgramCheckReport,
): Pick<ProgramChecked, 'expressionNotes' | 'referenceNotes' | 'testNotes'> {
  const locator = new JsonKeyLocator(input.file, input.text);
  const at = (uid: string, key: string): SourceLocation => (input.inRepo === false ? {} : locator.locate(uid, key));
  const rules = new Map(model.rules.map((r) => [String(r.id), r]));
  const indicators = new Map(model.indicators.map((i) => [String(i.id), i]));
  const owner = (v: { type: string; id: string; rule?: string }) =>
    v.rule !== undefined
      ? `rule "${ruleName(rules.get(v.rule))}"`
      : `program indicator "${str(indicators.get(v.id)?.name) ?? v.id}"`;
  const hints = unknownNames(model);
  const expressionNotes = report.expressions.map((v): ProblemNote | undefined => {
    if (v.valid || v.severity === null) return undefined;
    const what = v.type === 'programRuleActionData' ? `${v.actionType} action data` : TYPE_LABEL[v.type];
    return {
      message:
        `program ${model.id}, ${owner(v)}: ${what} ${JSON.stringify(oneLine(v.expression, 120))} is not valid: ${oneLine(v.message ?? '')}` +
        (v.type === 'programRuleCondition' || v.type === 'programRuleActionData' ? hints(v.expression) : ''),
      location: at(v.id, TYPE_KEY[v.type]),
    };
  });
  const referenceNotes = report.references.map((r): ProblemNote => {
    const about =
      r.rule !== undefined
        ? `rule "${ruleName(rules.get(r.rule))}"`
        : r.objectType === 'programIndicator'
          ? `program indicator "${str(indicators.get(r.id)?.name) ?? r.id}"`
          : 'rule variable';
    return { message: `program ${model.id}, ${about}: ${r.message}`, location: at(r.id, r.key) };
  });
  const testNotes = report.tests
    .filter((t) => !t.passed)
    .map((t) => ({
      message: `rule test "${t.name}" (program ${t.program}) failed: ${failureLines(t)
        .map((l) => oneLine(l, 400))
        .join('; ')}`,
      location: { file: t.file, line: t.line },
    }));
  return { expressionNotes, referenceNotes, testNotes };
}

/**
 * DHIS2 says only "N error(s)" of an expression naming a variable the program lacks: name it, with the
 * closest variable of the program (a typo is the usual cause).
 */
function unknownNames(model: ProgramModel): (expression: string) => string {
  const variables = model.variables.map((v) => str(v.name) ?? '').filter(Boolean);
  const known = new Set(variables);
  return (expression) => {
    const unknown = new Map<string, string>(); // as written -> the bare name
    for (const m of expression.matchAll(/([#A])\{([^}]+)\}/g))
      if (!known.has(m[2] as string)) unknown.set(m[0], m[2] as string);
    for (const m of expression.matchAll(/V\{([^}]+)\}/g))
      if (!((m[1] as string) in ENV_VARIABLES)) unknown.set(m[0], '');
    if (unknown.size === 0) return '';
    const said = [...unknown].slice(0, 3).map(([written, name]) => {
      if (!name) return `${written} is no variable of the rule engine`;
      const near = closest(name, variables);
      return `no program rule variable is named ${name}${near ? ` (did you mean ${written[0]}{${near}}?)` : ''}`;
    });
    return ` (${said.join('; ')})`;
  };
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

/** "N problems were already on the server: not caused by this change" (the comment's one line). */
export function existingLine(result: CheckResult): string | undefined {
  if (result.errorsExisting === 0) return undefined;
  const n = result.errorsExisting;
  return `${n} problem${n === 1 ? ' was' : 's were'} already ${result.where ?? 'there'}: not caused by this change.`;
}

/** What the gate judged, in one line (what fails it, and why every problem counts when it does). */
export function gateLine(result: CheckResult): string {
  if (result.failOn === 'all') return 'fail-on: all: every invalid expression and broken reference fails the gate.';
  if (result.strictBecause) return `Every problem counts: ${result.strictBecause}.`;
  return `fail-on: new: only the problems this change brings fail the gate (compared with the metadata ${result.where ?? 'before the change'}).`;
}

type Row = (string | Markup)[];

function problemRows(p: ProgramCheckReport, existing: boolean): Row[] {
  const same = (x: { existing?: boolean }) => (x.existing ?? false) === existing;
  const row = (level: string, e: ExpressionVerdict): Row => [
    level,
    TYPE_LABEL[e.type],
    code(e.id),
    oneLine(e.expression, 80),
    oneLine(e.message ?? '', 160),
  ];
  return [
    ...p.expressions.filter((e) => e.severity === 'error' && same(e)).map((e) => row('error', e)),
    ...p.expressions.filter((e) => e.severity === 'warning' && same(e)).map((e) => row('warning', e)),
    ...p.references.filter(same).map((r) => ['error', 'reference', code(r.id), r.key, r.message]),
  ];
}

function problemTable(rows: Row[]): string {
  const shown = rows.slice(0, 50);
  return blocks(
    table(['', 'what', 'uid', 'expression or key', 'problem'], shown),
    rows.length > shown.length ? `… and ${rows.length - shown.length} more (see the report file).` : '',
  );
}

/**
 * The "Checks" section: per program, counts, the problems the change brings, the ones already there (a
 * collapsed list: they do not fail the gate) and a table of the rule tests.
 */
export function checksMarkdown(result: CheckResult): string {
  const parts: string[] = ['### Checks: program rules and indicators', gateLine(result)];
  for (const p of result.programs) {
    const invalid = p.expressions.filter((e) => e.severity === 'error');
    const warned = p.expressions.filter((e) => e.severity === 'warning');
    const existing = invalid.filter((e) => e.existing).length + p.references.filter((r) => r.existing).length;
    const oldWarnings = warned.filter((e) => e.existing).length;
    parts.push(
      `#### ${cell(programLabel(p.id, p.name))}`,
      `${p.expressions.length} expressions validated: ${invalid.length} invalid, ${warned.length} with warnings; ` +
        `${p.references.length} broken references` +
        (existing + oldWarnings > 0
          ? ` (already ${result.where ?? 'there'}: ${existing} of the problems${oldWarnings > 0 ? `, ${oldWarnings} of the warnings` : ''})`
          : '') +
        `; rule tests: ${p.tests.filter((t) => t.passed).length} passed, ${p.tests.filter((t) => !t.passed).length} failed.`,
    );
    const brought = problemRows(p, false);
    if (brought.length > 0) parts.push(problemTable(brought));
    const old = problemRows(p, true);
    if (old.length > 0) {
      const warnings = old.filter((r) => r[0] === 'warning').length;
      const n = old.length - warnings;
      const title =
        `${n} problem${n === 1 ? ' was' : 's were'} already ${mdText(result.where ?? 'there')}` +
        `${warnings > 0 ? ` (and ${warnings} warning${warnings === 1 ? '' : 's'})` : ''}: not caused by this change`;
      parts.push(`<details><summary>${title}</summary>`, problemTable(old), '</details>');
    }
    if (p.tests.length > 0) {
      parts.push(
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
      );
    }
  }
  return `${blocks(...parts)}\n`;
}
