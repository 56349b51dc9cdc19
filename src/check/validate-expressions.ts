/**
 * Every program rule condition, rule action `data`, program indicator expression and filter of a program,
 * validated with DHIS2's own engines and judged as the server's validation endpoints judge them:
 *   - conditions: ProgramRuleController `POST /api/programRules/condition/description` ->
 *     DefaultProgramRuleEngine.getDescription -> RuleEngine.validate(condition, itemStore);
 *   - action data: ProgramRuleActionController `POST /api/programRuleActions/data/expression/description` ->
 *     getDataExpressionDescription -> RuleEngine.validateDataFieldExpression(data, itemStore);
 *   - indicators: ProgramIndicatorController `/expression/description` and `/filter/description`, here
 *     with @dhis2/expression-parser (ExpressionMode.PROGRAM_INDICATOR_EXPRESSION).
 * The controllers answer status OK with the engine's description when `valid`, else ERROR with the error message
 * (or the exception's message). The engine reports "N error(s), M warning(s)" for type problems: with no
 * errors that is a warning here (it does not fail the gate); DHIS2 still calls it not valid.
 */
import { TurnCache } from '../util/turn-cache.ts';
import type { MetadataObject } from '../metadata/types.ts';
import type { Engines } from './engines.ts';
import { engineItemStore, itemStore, type EngineDataItem } from './item-store.ts';
import {
  describeIndicator,
  indicatorProblem,
  readIndicator,
  surelyParses,
  type IndicatorTree,
  type IndicatorUniverse,
} from './indicator-semantics.ts';
import { type ProgramModel, str } from './program-model.ts';

export type ExpressionType =
  'programRuleCondition' | 'programRuleActionData' | 'programIndicatorExpression' | 'programIndicatorFilter';

/** One expression's verdict, in the report's shape (interface.md, `check`). */
export interface ExpressionVerdict {
  type: ExpressionType;
  /** uid of the rule, action or indicator. */
  id: string;
  expression: string;
  valid: boolean;
  severity: 'error' | 'warning' | null;
  message: string | null;
  description: string | null;
  /** The action's type (programRuleActionData). */
  actionType?: string;
  /** The rule the condition or action belongs to (its uid). */
  rule?: string;
  /** An invalid expression that was already there before the change (check/baseline.ts); set when judged. */
  existing?: boolean;
}

const WARNINGS_ONLY = /^0 error\(s\), \d+ warning\(s\)$/;

function verdictOf(result: {
  valid: boolean;
  errorMessage?: string | null;
  exception?: Error | null;
  description?: string | null;
}): Pick<ExpressionVerdict, 'valid' | 'severity' | 'message' | 'description'> {
  if (result.valid) return { valid: true, severity: null, message: null, description: result.description ?? null };
  const message = result.errorMessage ?? result.exception?.message ?? 'Expression is not valid';
  return { valid: false, severity: WARNINGS_ONLY.test(message) ? 'warning' : 'error', message, description: null };
}

/** A ParseException's first line (the rest is a caret picture of the position). */
export function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

type Verdict = ReturnType<typeof verdictOf>;

/**
 * One verdict per distinct question, across programs and across the file's and the server's copy of a program
 * (the dry run judges both, and they are mostly the same text): the rule engine's verdict on a text depends on
 * the text and on the item store entries it names, nothing else. Keyed by both. Small values, so kept across
 * programs (copies of one program, or programs built alike, ask the same questions), turned only when full:
 * at most twice 5,000.
 */
const ruleVerdicts = new TurnCache<string, Verdict>(5_000);

/**
 * A program's checks begin: the caches of parsed expressions (the large values) keep what this program and the
 * one before used (its file's serve its server copy, checked next), nothing older.
 */
export function newChecksTurn(): void {
  parsedIndicators.turn();
  trees.turn();
}

export function validateProgramExpressions(engines: Engines, model: ProgramModel): ExpressionVerdict[] {
  const { rules: re } = engines;
  const engine = new re.RuleEngineJs(false);
  const plain = itemStore(model);
  const keys = [...plain.keys()];
  let engineStore: Map<string, EngineDataItem> | undefined; // converted on the first question not cached
  // The engine copies the whole store into a Kotlin map on every call; an expression can only name keys that
  // appear in its text, so it gets just those (the same verdict, a third of the time on a large program).
  const ask = (kind: 'condition' | 'data', text: string): Verdict => {
    const named = keys.filter((k) => text.includes(k)).sort(); // in one order: the copies list variables differently
    const key = `${kind}\u0000${text}\u0000${named.map((k) => `${k}\u0001${plain.get(k)?.label}\u0001${plain.get(k)?.type}`).join('\u0002')}`;
    let verdict = ruleVerdicts.get(key);
    if (verdict === undefined) {
      engineStore ??= engineItemStore(re, plain);
      const store = new Map(named.map((k) => [k, engineStore!.get(k)!]));
      verdict = verdictOf(
        kind === 'condition' ? engine.validate(text, store) : engine.validateDataFieldExpression(text, store),
      );
      ruleVerdicts.set(key, verdict);
    }
    return verdict;
  };
  const verdicts: ExpressionVerdict[] = [];

  for (const rule of model.rules) {
    const id = String(rule.id);
    const condition = str(rule.condition) ?? '';
    verdicts.push({
      type: 'programRuleCondition',
      id,
      expression: condition,
      ...ask('condition', condition),
      rule: id,
    });
    for (const action of model.actionsByRule.get(id) ?? []) {
      const type = str(action.programRuleActionType) ?? '';
      const text = str(action.data);
      // Every action type's data, SENDMESSAGE, SCHEDULEMESSAGE and 2.43's SCHEDULEEVENT included (often
      // V{current_date}): the endpoint takes only the program and the text, no action type
      // (DefaultProgramRuleEngine.getDataExpressionDescription), and the server validates each the same way.
      if (text === undefined || text.trim() === '') continue;
      verdicts.push({
        type: 'programRuleActionData',
        id: String(action.id),
        expression: text,
        ...ask('data', text),
        actionType: type,
        rule: id,
      });
    }
  }

  for (const indicator of model.indicators) {
    for (const [key, type] of [
      ['expression', 'programIndicatorExpression'],
      ['filter', 'programIndicatorFilter'],
    ] as const) {
      const expression = str(indicator[key]);
      // An empty filter is no filter; the server answers an empty body with a plain message, not a verdict.
      if (expression === undefined || expression.trim() === '') continue;
      verdicts.push({
        type,
        id: String(indicator.id),
        expression,
        ...indicatorVerdict(engines, model, expression, key),
      });
    }
  }
  return verdicts;
}

/** Display names of the items an indicator can name: `#{stage.de}`, `A{attr}`, `C{const}` by uid, `V{var}`. */
function indicatorNames(model: ProgramModel): Map<string, string> {
  const names = new Map<string, string>();
  const name = (o: MetadataObject | undefined) => str(o?.displayName) ?? str(o?.name);
  for (const s of model.stages) names.set(String(s.id), name(s) ?? String(s.id));
  for (const [id, de] of model.dataElements) names.set(id, name(de) ?? id);
  for (const [id, a] of model.attributes) names.set(id, name(a) ?? id);
  for (const c of model.constants) names.set(String(c.id), name(c) ?? String(c.id));
  return names;
}

const namesCache = new WeakMap<ProgramModel, Map<string, string>>();

type ParsedIndicator = InstanceType<Engines['expressions']['ExpressionJs']>;
const parsedIndicators = new TurnCache<string, ParsedIndicator | Error>(5_000);

/**
 * Two things dhis2-core's program indicator grammar has that @dhis2/expression-parser 1.1.0 lacks, written as
 * what the JS parser knows, for its parse only (the semantics run on the text as written,
 * indicator-semantics.ts): the `variance` aggregation (ExpressionMapBuilder maps it beside stddev), and
 * `PS_EVENTDATE:<stage>` outside d2:minValue/d2:maxValue (ProgramBetweenFunction takes it as a date: a real
 * 2.43.1 accepted `d2:daysBetween(PS_EVENTDATE:<stage>, V{event_date})`-style dates, expression-verdicts.json).
 */
function asJsGrammar(expression: string): string {
  if (!expression.includes('variance') && !expression.includes('PS_EVENTDATE')) return expression;
  return expression
    .replace(/(?<![A-Za-z0-9_:])variance(\s*\()/g, 'stddev$1')
    .replace(/(?<!d2:(?:minValue|maxValue)\(\s*)PS_EVENTDATE:\s*[A-Za-z][A-Za-z0-9]{10}/g, 'V{event_date}');
}

/**
 * An indicator expression or filter parsed by the expression parser (PROGRAM_INDICATOR_EXPRESSION mode), once
 * per distinct text (packages repeat many: `V{enrollment_count}`); throws the parser's error.
 */
export function parseIndicatorExpression(engines: Engines, expression: string): ParsedIndicator {
  let parsed = parsedIndicators.get(expression);
  if (parsed === undefined) {
    const { ExpressionJs, ExpressionMode } = engines.expressions;
    try {
      parsed = new ExpressionJs(asJsGrammar(expression), ExpressionMode.PROGRAM_INDICATOR_EXPRESSION);
    } catch (e) {
      parsed = e as Error;
    }
    parsedIndicators.set(expression, parsed);
  }
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

const universes = new WeakMap<ProgramModel, IndicatorUniverse>();

/** What an indicator's items can name: the file's objects (the file stands for the server). */
function universeOf(model: ProgramModel): IndicatorUniverse {
  let u = universes.get(model);
  if (!u) {
    const types = (m: Map<string, MetadataObject>) => new Map([...m].map(([id, o]) => [id, o.valueType]));
    u = {
      stages: model.fileStages,
      dataElements: types(model.dataElements),
      attributes: types(model.attributes),
      constants: new Set(model.constants.map((c) => String(c.id))),
    };
    universes.set(model, u);
  }
  return u;
}

const trees = new TurnCache<string, IndicatorTree | null>(20_000);

/** Some indicator text of these programs needs the JS expression parser (outside the fast path). */
export function indicatorsNeedParser(models: readonly ProgramModel[]): boolean {
  return models.some((model) =>
    model.indicators.some((indicator) =>
      [indicator.expression, indicator.filter].some((text) => {
        if (typeof text !== 'string' || text.trim() === '') return false;
        const tree = indicatorTree(text);
        return tree === undefined || !surelyParses(tree);
      }),
    ),
  );
}

/** Our parser's tree of an indicator text, once per distinct text; undefined when it cannot read it. */
export function indicatorTree(expression: string): IndicatorTree | undefined {
  let tree = trees.get(expression);
  if (tree === undefined) {
    tree = readIndicator(expression) ?? null;
    trees.set(expression, tree);
  }
  return tree ?? undefined;
}

function indicatorVerdict(
  engines: Engines,
  model: ProgramModel,
  expression: string,
  kind: 'expression' | 'filter',
): Pick<ExpressionVerdict, 'valid' | 'severity' | 'message' | 'description'> {
  try {
    const tree = indicatorTree(expression);
    // The JS parser's verdict, without it when the text is one it surely accepts (indicator-semantics.ts).
    const parsed = tree !== undefined && surelyParses(tree) ? undefined : parseIndicatorExpression(engines, expression);
    const problem = tree ? indicatorProblem(tree, kind, universeOf(model)) : undefined;
    if (problem !== undefined) return { valid: false, severity: 'error', message: problem, description: null };
    let names = namesCache.get(model);
    if (!names) namesCache.set(model, (names = indicatorNames(model)));
    const description = parsed ? parsed.describe(names) : describeIndicator(tree as IndicatorTree, names);
    return { valid: true, severity: null, message: null, description };
  } catch (e) {
    return { valid: false, severity: 'error', message: (e as Error).message, description: null };
  }
}
