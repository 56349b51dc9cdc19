/**
 * What DHIS2 checks in a program indicator expression or filter beyond its syntax, in the way its validation
 * endpoints do it (`POST /api/programIndicators/expression/description` and `/filter/description`):
 *
 * dhis2-core DefaultProgramIndicatorService.validate(expression, Double.class | Boolean.class) visits the
 * expression with ITEM_GET_DESCRIPTIONS and no program (DEFAULT_PROGRAM_EXPRESSION_PARAMS), then
 * `AntlrParserUtils.castClass(clazz, result)`: an expression must evaluate to a number, a filter to a boolean,
 * else "Could not cast String 'Given' to Double" (the answer a real 2.43.1 gave for
 * `d2:condition('#{s.d} == 1', 'Given', 'Not Given')`, issue 15). In that visit every item stands for a
 * substitute value (ProgramItemStageElement / ProgramItemAttribute -> ProgramExpressionItem
 * getNullReplacementValue -> ValidationUtils: numeric and BOOLEAN 0.0, TRUE_ONLY false, dates a Date, any other
 * type ""; ItemConstant 0.0; ProgramDateVariable "2017-07-08"; ProgramDoubleVariable 1.0), functions return
 * theirs (D2HasValue false; the d2:count*, d2:*Between and d2:relationshipCount functions 1.0; D2Condition
 * its value-if-true, after validating its test as a Boolean and casting its value-if-false to the class of
 * the value-if-true), and operators cast their operands (OperatorMath* castDouble, OperatorLogical*
 * castBoolean, AntlrOperatorCompare by the left operand's class). Each item also looks its object up by uid
 * (programStageService, idObjectManager): "Program stage X not found", "Data element X not found",
 * "Tracked entity attribute X not found.", "No constant defined for X"; here the file is the server.
 *
 * This runs only on expressions @dhis2/expression-parser has already parsed. It has its own small parser of
 * the same grammar (dhis2-antlr-expression-parser Expression.g4) because the JS parser exposes no tree; what it
 * cannot read, or any value it cannot know, it accepts: a valid expression called invalid fails a good pull
 * request, which is worse than a miss.
 */

import { DATE_TYPES, NUMERIC_TYPES } from './item-store.ts';
import { keyTable } from '../util/own-keys.ts';

export interface IndicatorUniverse {
  /** Every program stage of the file (the server resolves a stage by uid alone, whatever its program). */
  stages: ReadonlySet<string>;
  /** Value type of each data element and tracked entity attribute of the file. */
  dataElements: ReadonlyMap<string, unknown>;
  attributes: ReadonlyMap<string, unknown>;
  constants: ReadonlySet<string>;
}

/** An expression as our parser read it (opaque outside this file). */
export type IndicatorTree = Node;

/** The expression read by our parser, or undefined when it cannot read it (the JS parser then decides alone). */
export function readIndicator(expression: string): IndicatorTree | undefined {
  try {
    return parse(expression);
  } catch (e) {
    if (e instanceof Unreadable) return undefined;
    throw e;
  }
}

/** The expression's problem as DHIS2 words it, or undefined when DHIS2 accepts it (or we cannot tell). */
export function indicatorProblem(
  tree: IndicatorTree,
  kind: 'expression' | 'filter',
  universe: IndicatorUniverse,
): string | undefined {
  try {
    const value = new Evaluator(universe).eval(tree);
    if (kind === 'expression') castDouble(value);
    else castBoolean(value);
    return undefined;
  } catch (e) {
    if (e instanceof Rejected) return e.message;
    if (e instanceof Unreadable) return undefined;
    throw e;
  }
}

/** DHIS2 rejects the expression (the message is the server's). */
class Rejected extends Error {}
/** Our parser cannot read it: the verdict is the JS parser's alone. */
class Unreadable extends Error {}

// --- values -------------------------------------------------------------------------------------------

/** A value of the visit, by its Java class; `Unknown` passes every cast. */
type Value =
  | { t: 'Double'; v: number }
  | { t: 'String'; v?: string }
  | { t: 'Boolean'; v: boolean }
  | { t: 'Date' }
  | { t: 'Null' }
  | { t: 'Unknown' };

const UNKNOWN: Value = { t: 'Unknown' };
const dbl = (v: number): Value => ({ t: 'Double', v });
const bool = (v: boolean): Value => ({ t: 'Boolean', v });

/** Java's Double.toString for the values met here (0.0, 1.0, 12.5). */
function javaDouble(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e7 ? n.toFixed(1) : String(n);
}

function shown(value: Value): string {
  switch (value.t) {
    case 'Double':
      return `Double '${javaDouble(value.v)}'`;
    case 'String':
      return value.v === undefined ? 'String' : `String '${value.v}'`;
    case 'Boolean':
      return `Boolean '${value.v}'`;
    case 'Date':
      return 'Date';
    default:
      return value.t;
  }
}

/** Double.parseDouble after String.trim(): decimal, exponent, NaN, Infinity, a trailing d/f, hexadecimal. */
const JAVA_DOUBLE =
  /^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+)[fFdD]?)$/;

/** AntlrParserUtils.castDouble: a Double, or a String Double.parseDouble reads; null passes. */
function castDouble(value: Value): void {
  if (value.t === 'Double' || value.t === 'Null' || value.t === 'Unknown') return;
  if (value.t === 'String' && (value.v === undefined || JAVA_DOUBLE.test(value.v.trim()))) return;
  throw new Rejected(`Could not cast ${shown(value)} to Double`);
}

/** AntlrParserUtils.castBoolean: a Boolean, a whole Double (0 is false), "true"/"false" in any case. */
function castBoolean(value: Value): void {
  if (value.t === 'Boolean' || value.t === 'Null' || value.t === 'Unknown') return;
  if (value.t === 'Double' && Number.isInteger(value.v)) return;
  if (value.t === 'String' && (value.v === undefined || /^(true|false)$/i.test(value.v))) return;
  throw new Rejected(`Could not cast ${shown(value)} to Boolean`);
}

/** AntlrParserUtils.makeDouble / makeBoolean: the value as that type, or undefined when it is none. */
const asDouble = (v: Value) =>
  v.t === 'Double' || (v.t === 'String' && (v.v === undefined || JAVA_DOUBLE.test(v.v.trim())));
const asBoolean = (v: Value) =>
  v.t === 'Boolean' ||
  (v.t === 'Double' && Number.isInteger(v.v)) ||
  (v.t === 'String' && (v.v === undefined || /^(true|false)$/i.test(v.v)));

/**
 * AntlrOperatorCompare.compare (dhis2-antlr-expression-parser, the version whose casts say "Could not cast ..."
 * as the 2.43.1 server did): as numbers when one side is a Double and both read as numbers, else as booleans
 * when one is a Boolean and both read as booleans, else as strings when one is a String; only then "Could not
 * compare". A null side makes the comparison null (invalidArg), not an error.
 */
function compare(l: Value, r: Value): void {
  if (l.t === 'Unknown' || r.t === 'Unknown' || l.t === 'Null' || r.t === 'Null') return;
  // Two dates: the source says "Could not compare", but what a date item stands for in the visit is not
  // verified on a server (ValidationUtils' substitute may be a string in some versions): no verdict.
  if (l.t === 'Date' || r.t === 'Date') return;
  if ((l.t === 'Double' || r.t === 'Double') && asDouble(l) && asDouble(r)) return;
  if ((l.t === 'Boolean' || r.t === 'Boolean') && asBoolean(l) && asBoolean(r)) return;
  if (l.t === 'String' || r.t === 'String') return;
  throw new Rejected(`Could not compare ${shown(l)} to ${shown(r)}`);
}

/** castClass(classOf(like), value): what D2Condition and D2CountIfValue ask of their second value. */
function castLike(like: Value, value: Value): void {
  if (like.t === 'Double') castDouble(value);
  else if (like.t === 'Boolean') castBoolean(value);
}

// --- substitute values ---------------------------------------------------------------------------------

/** ProgramExpressionItem.getNullReplacementValue(valueType), with BOOLEAN read as a number. */
function substitute(valueType: unknown): Value {
  if (typeof valueType !== 'string' || valueType === '') return UNKNOWN;
  if (NUMERIC_TYPES.has(valueType) || valueType === 'BOOLEAN') return dbl(0);
  if (valueType === 'TRUE_ONLY') return bool(false);
  if (DATE_TYPES.has(valueType)) return { t: 'Date' };
  return { t: 'String', v: '' };
}

/** dhis2-core ProgramVariableItem: the variables of program indicators (ProgramDateVariable, ProgramDoubleVariable). */
const DATE_VARIABLES = new Set([
  'analytics_period_end',
  'analytics_period_start',
  'creation_date',
  'current_date',
  'completed_date',
  'due_date',
  'enrollment_date',
  'execution_date',
  'event_date',
  'incident_date',
  'sync_date',
]);
const COUNT_VARIABLES = new Set([
  'enrollment_count',
  'event_count',
  'org_unit_count',
  'tei_count',
  'value_count',
  'zero_pos_value_count',
]);
const TEXT_VARIABLES = new Set(['enrollment_status', 'event_status', 'program_stage_id', 'program_stage_name']);
/** Names the shared grammar lexes (rule engine variables) for which ProgramVariableItem has no variable. */
const NOT_PROGRAM_VARIABLES = new Set([
  'enrollment_id',
  'environment',
  'event_id',
  'org_unit',
  'orgunit_code',
  'program_name',
]);
/** ProgramDateVariable.DEFAULT_DATE_VALUE (ParserUtils). */
const DEFAULT_DATE = '2017-07-08';

// --- the grammar ------------------------------------------------------------------------------------------

type Node =
  | { k: 'num'; v: number; raw: string }
  | { k: 'str'; v: string; raw: string }
  | { k: 'paren'; e: Node }
  | { k: 'bool'; v: boolean }
  | { k: 'null' }
  | { k: 'item'; sigil: string; body: string; text: string }
  | { k: 'call'; name: string; args: Node[]; text: string }
  | { k: 'unary'; op: string; e: Node; raw: string }
  | { k: 'binary'; op: string; l: Node; r: Node; raw: string }
  | { k: 'offset'; e: Node; name: string; raw: string };

type Token = { t: 'num' | 'str' | 'item' | 'name' | 'op'; v: string; at: number; end: number; sigil?: string };

const UID = '[A-Za-z][A-Za-z0-9]{10}';
const NUMBER = /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/y;
const STRING = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/y;
const EVENT_DATE = new RegExp(`PS_EVENTDATE:\\s*(${UID})`, 'y');
const TWO_CHAR_OPS = new Set(['&&', '||', '==', '!=', '<=', '>=']);
const ONE_CHAR_OPS = new Set(['-', '+', '*', '/', '%', '^', '!', '<', '>', '(', ')', ',', '.']);

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isWordStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isWord = (c: number) => isWordStart(c) || isDigit(c);
const ITEM_SIGILS = new Set(['#', 'A', 'C', 'V', 'I', 'D', 'R', 'N', 'OUG']);

/** The tokens of the text: one scan, by each token's first character. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const length = text.length;
  let at = 0;
  while (at < length) {
    const c = text.charCodeAt(at);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      at++;
      continue;
    }
    const start = at;
    const ch = text[at] as string;
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(at + 1)))) {
      NUMBER.lastIndex = at;
      const m = NUMBER.exec(text) as RegExpExecArray;
      at += m[0].length;
      out.push({ t: 'num', v: m[0], at: start, end: at });
    } else if (c === 39 || c === 34) {
      STRING.lastIndex = at;
      const m = STRING.exec(text);
      if (!m) throw new Unreadable(`unclosed string at ${at}`);
      at += m[0].length;
      out.push({ t: 'str', v: unescape(m[1] ?? m[2] ?? ''), at: start, end: at });
    } else if (isWordStart(c) || c === 35) {
      let end = at + 1;
      while (end < length && isWord(text.charCodeAt(end))) end++;
      const word = text.slice(at, end);
      if (text.charCodeAt(end) === 123 && ITEM_SIGILS.has(word)) {
        // #{...}, A{...}, C{...}, V{...} and the items other expressions have (I{...}, OUG{...}, ...)
        const close = text.indexOf('}', end);
        if (close < 0) throw new Unreadable(`unclosed item at ${at}`);
        at = close + 1;
        out.push({ t: 'item', v: text.slice(end + 1, close).trim(), sigil: word, at: start, end: at });
      } else if (word === 'PS_EVENTDATE' && text[end] === ':') {
        EVENT_DATE.lastIndex = at;
        const m = EVENT_DATE.exec(text);
        if (!m) throw new Unreadable(`PS_EVENTDATE without a stage at ${at}`);
        at += m[0].length;
        out.push({ t: 'item', v: m[1] ?? '', sigil: 'PS_EVENTDATE', at: start, end: at });
      } else if (c === 35) {
        throw new Unreadable(`# without an item at ${at}`);
      } else if (word === 'd2' && text[end] === ':') {
        let stop = end + 1;
        while (stop < length && isWordStart(text.charCodeAt(stop))) stop++;
        at = stop;
        out.push({ t: 'name', v: text.slice(start, stop), at: start, end: at });
      } else {
        at = end;
        out.push({ t: 'name', v: word, at: start, end: at });
      }
    } else if (ch === '[' && text.startsWith('[days]', at)) {
      at += 6;
      out.push({ t: 'item', v: 'days', sigil: '[', at: start, end: at });
    } else if ('&|=!<>'.includes(ch) && TWO_CHAR_OPS.has(text.slice(at, at + 2))) {
      at += 2;
      out.push({ t: 'op', v: text.slice(start, at), at: start, end: at });
    } else if (ONE_CHAR_OPS.has(ch)) {
      at++;
      out.push({ t: 'op', v: ch, at: start, end: at });
    } else throw new Unreadable(`no token at ${at}`);
  }
  return out;
}

/** Recursive descent with Expression.g4's precedence: ^, unary, * / %, + -, < > <= >=, == !=, &&, ||. */
function parse(text: string): Node {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const isOp = (...ops: string[]) => {
    const t = tokens[i];
    return t !== undefined && (t.t === 'op' || t.t === 'name') && ops.includes(t.v);
  };
  const expect = (op: string) => {
    if (!isOp(op)) throw new Unreadable(`expected ${op}`);
    i++;
  };
  const binary =
    (next: () => Node, ops: string[], as: (op: string) => string = (o) => o) =>
    (): Node => {
      let l = next();
      while (isOp(...ops)) {
        const raw = (tokens[i++] as Token).v;
        l = { k: 'binary', op: as(raw), l, r: next(), raw };
      }
      return l;
    };
  const word = (o: string) => ({ and: '&&', or: '||' })[o] ?? o;
  const primary = (): Node => {
    const t = tokens[i++];
    if (!t) throw new Unreadable('end of expression');
    if (t.t === 'num') return { k: 'num', v: Number(t.v), raw: t.v };
    if (t.t === 'str') return { k: 'str', v: t.v, raw: text.slice(t.at, t.end) };
    if (t.t === 'item') return { k: 'item', sigil: t.sigil ?? '', body: t.v, text: text.slice(t.at, t.end) };
    if (t.t === 'op' && t.v === '(') {
      const e = or();
      expect(')');
      return { k: 'paren', e };
    }
    if (t.t === 'name') {
      if (t.v === 'true' || t.v === 'false') return { k: 'bool', v: t.v === 'true' };
      if (t.v === 'null') return { k: 'null' };
      expect('(');
      const args: Node[] = [];
      if (!isOp(')')) {
        args.push(or());
        while (isOp(',')) {
          i++;
          args.push(or());
        }
      }
      expect(')');
      return { k: 'call', name: t.v, args, text: text.slice(t.at, (tokens[i - 1] as Token).end) };
    }
    throw new Unreadable(`unexpected ${t.v}`);
  };
  const postfix = (): Node => {
    let e = primary();
    while (isOp('.')) {
      i++;
      const name = tokens[i++];
      if (name?.t !== 'name') throw new Unreadable('expected a modifier');
      expect('(');
      const from = i;
      while (!isOp(')')) {
        if (!peek()) throw new Unreadable('unclosed modifier');
        i++;
      }
      const raw = tokens
        .slice(from, i)
        .map((t) => text.slice(t.at, t.end))
        .join('');
      expect(')');
      e = { k: 'offset', e, name: name.v, raw };
    }
    return e;
  };
  const power = (): Node => {
    const l = postfix();
    if (isOp('^')) {
      i++;
      return { k: 'binary', op: '^', l, r: unary(), raw: '^' };
    }
    return l;
  };
  const unary = (): Node => {
    if (isOp('-', '+', '!', 'not')) {
      const raw = (tokens[i++] as Token).v;
      return { k: 'unary', op: raw === 'not' ? '!' : raw, e: unary(), raw };
    }
    return power();
  };
  const multiplicative = binary(unary, ['*', '/', '%']);
  const additive = binary(multiplicative, ['+', '-']);
  const relational = binary(additive, ['<', '>', '<=', '>=']);
  const equality = binary(relational, ['==', '!=']);
  const and = binary(equality, ['&&', 'and'], word);
  const or = binary(and, ['||', 'or'], word);
  const tree = or();
  if (i !== tokens.length) throw new Unreadable('trailing input');
  return tree;
}

// --- the visit ----------------------------------------------------------------------------------------------

/** ExpressionMapBuilder's program indicator functions that return a count (DEFAULT_DOUBLE_VALUE). */
const COUNT_FUNCTIONS = new Set([
  'd2:count',
  'd2:countIfCondition',
  'd2:countIfValue',
  'd2:daysBetween',
  'd2:minutesBetween',
  'd2:monthsBetween',
  'd2:weeksBetween',
  'd2:yearsBetween',
  'd2:relationshipCount',
  'd2:zpvc',
]);
const AGGREGATIONS = new Set(['avg', 'count', 'max', 'min', 'stddev', 'sum', 'variance']);
/**
 * Functions @dhis2/expression-parser's PROGRAM_INDICATOR_EXPRESSION mode accepts (its CommonFunctions) that
 * dhis2-core's ExpressionMapBuilder does not map for program indicators.
 */
const NOT_INDICATOR_FUNCTIONS = new Set(['removeZeros', 'contains', 'containsItems', 'normDistCum', 'normDistDen']);

class Evaluator {
  constructor(private readonly u: IndicatorUniverse) {}

  eval(node: Node): Value {
    switch (node.k) {
      case 'num':
        return dbl(node.v);
      case 'str':
        return { t: 'String', v: node.v };
      case 'bool':
        return bool(node.v);
      case 'null':
        return { t: 'Null' };
      case 'offset':
      case 'paren':
        return this.eval(node.e);
      case 'item':
        return this.item(node);
      case 'call':
        return this.call(node);
      case 'unary': {
        const v = this.eval(node.e);
        if (node.op === '!') {
          castBoolean(v);
          return bool(false);
        }
        castDouble(v);
        return dbl(0);
      }
      case 'binary':
        return this.binary(node.op, this.eval(node.l), this.eval(node.r));
    }
  }

  private binary(op: string, l: Value, r: Value): Value {
    if (op === '&&' || op === '||') {
      castBoolean(l);
      castBoolean(r);
      return bool(false);
    }
    if (['==', '!=', '<', '>', '<=', '>='].includes(op)) {
      compare(l, r);
      return bool(false);
    }
    castDouble(l);
    castDouble(r);
    return dbl(0);
  }

  private item(node: Extract<Node, { k: 'item' }>): Value {
    const { sigil, body } = node;
    switch (sigil) {
      case '#': {
        const parts = body.split('.').map((p) => p.trim());
        // ParserUtils.assumeStageElementSyntax: a program indicator names the stage and the data element.
        if (parts.length !== 2) throw new Rejected(`Invalid Program Stage / DataElement syntax: ${node.text}`);
        const [stage, de] = parts as [string, string];
        if (stage === '*' || de === '*') return UNKNOWN;
        if (!this.u.stages.has(stage)) throw new Rejected(`Program stage ${stage} not found`);
        if (!this.u.dataElements.has(de)) throw new Rejected(`Data element ${de} not found`);
        return substitute(this.u.dataElements.get(de));
      }
      case 'A': {
        if (body.includes('.')) return UNKNOWN;
        if (!this.u.attributes.has(body)) throw new Rejected(`Tracked entity attribute ${body} not found.`);
        return substitute(this.u.attributes.get(body));
      }
      case 'C':
        if (!this.u.constants.has(body)) throw new Rejected(`No constant defined for ${body}`);
        return dbl(0);
      case 'V':
        if (DATE_VARIABLES.has(body)) return { t: 'String', v: DEFAULT_DATE };
        if (COUNT_VARIABLES.has(body)) return dbl(1);
        if (TEXT_VARIABLES.has(body)) return { t: 'String' };
        if (NOT_PROGRAM_VARIABLES.has(body)) throw new Rejected(`Can't find program variable ${body}`);
        return UNKNOWN;
      case 'PS_EVENTDATE':
        if (!this.u.stages.has(body)) throw new Rejected(`Program stage ${body} not found`);
        return { t: 'Date' };
      default:
        // CommonExpressionVisitor.visitExpr: an item the program indicator item map lacks ([days], I{}, ...).
        throw new Rejected(`Item ${node.text} not supported for this type of expression`);
    }
  }

  private call(node: Extract<Node, { k: 'call' }>): Value {
    const { name, args } = node;
    if (NOT_INDICATOR_FUNCTIONS.has(name)) {
      throw new Rejected(`Item ${node.text} not supported for this type of expression`);
    }
    if (name === 'd2:condition') {
      // D2Condition: the test (a string holding an expression) is validated as a Boolean; the result is the
      // value-if-true; the value-if-false must cast to its class.
      const [test, ifTrue, ifFalse] = args;
      if (test?.k === 'str') {
        let sub: Node | undefined;
        try {
          sub = parse(test.v);
        } catch (e) {
          if (!(e instanceof Unreadable)) throw e;
        }
        if (sub) castBoolean(this.eval(sub));
      } else if (test) this.eval(test);
      const a = ifTrue ? this.eval(ifTrue) : UNKNOWN;
      if (ifFalse) castLike(a, this.eval(ifFalse));
      return a;
    }
    const values = args.map((a) => (name === 'd2:countIfCondition' && a.k === 'str' ? UNKNOWN : this.eval(a)));
    if (name === 'd2:countIfValue' && values.length === 2) castLike(values[0] as Value, values[1] as Value);
    if (COUNT_FUNCTIONS.has(name)) return dbl(1);
    if (name === 'd2:hasValue') return bool(false);
    if (name === 'd2:minValue' || name === 'd2:maxValue') return values[0] ?? UNKNOWN;
    if (name === 'd2:zing' || name === 'd2:oizp' || name === 'log' || name === 'log10') {
      values.forEach(castDouble);
      return dbl(0);
    }
    if (AGGREGATIONS.has(name)) return dbl(0);
    if (name === 'isNull' || name === 'isNotNull') return bool(false);
    if (name === 'firstNonNull') return values.find((v) => v.t !== 'Null') ?? { t: 'Null' };
    if (name === 'greatest' || name === 'least') return values.every((v) => v.t === 'Double') ? dbl(0) : UNKNOWN;
    if (name === 'if') {
      const [c, a, b] = values;
      if (c) castBoolean(c);
      return a && b && a.t === b.t ? a : UNKNOWN;
    }
    return UNKNOWN;
  }
}

// --- what the JS parser surely accepts, and its description -------------------------------------------------

/**
 * @dhis2/expression-parser 1.1.0's PROGRAM_INDICATOR_EXPRESSION mode (ExpressionGrammar.kt
 * ProgramIndicatorExpressionMode: CommonFunctions, CommonD2, the aggregations, the PI-only d2 functions, the
 * items #{} A{} C{} V{} and stageOffset): the functions a tree may call, with the shape of their arguments,
 * for the tree to be one the JS parser surely accepts. The JS parser costs about 1 ms per kilobyte of
 * expression (the WHO TB package has 209 distinct indicator texts of 1 KB on average); a tree of this subset is
 * judged without it. Anything else (PS_EVENTDATE, variance, [days], other functions and shapes) still goes
 * through it: test/unit/check-indicator-fast-path.test.ts holds the two to the same verdict.
 */
type Shape = (args: Node[]) => boolean;
const n =
  (min: number, max = min): Shape =>
  (a) =>
    a.length >= min && a.length <= max;
const isItem = (node: Node | undefined, ...sigils: string[]) => node?.k === 'item' && sigils.includes(node.sigil);
const isStr = (node: Node | undefined) => node?.k === 'str';
const JS_FUNCTIONS: Readonly<Record<string, Shape>> = keyTable({
  firstNonNull: n(1, 99),
  greatest: n(1, 99),
  least: n(1, 99),
  if: n(3),
  isNull: n(1),
  isNotNull: n(1),
  log: n(1, 2),
  log10: n(1),
  'd2:condition': (a) => a.length === 3 && isStr(a[0]),
  'd2:count': (a) => a.length === 1 && isItem(a[0], '#'),
  'd2:countIfValue': (a) => a.length === 2 && isItem(a[0], '#'),
  'd2:countIfCondition': (a) => a.length === 2 && isItem(a[0], '#') && isStr(a[1]),
  'd2:daysBetween': n(2),
  'd2:minutesBetween': n(2),
  'd2:monthsBetween': n(2),
  'd2:weeksBetween': n(2),
  'd2:yearsBetween': n(2),
  'd2:hasValue': (a) => a.length === 1 && isItem(a[0], '#', 'A', 'V'),
  'd2:minValue': (a) => a.length === 1 && isItem(a[0], '#', 'A', 'V'),
  'd2:maxValue': (a) => a.length === 1 && isItem(a[0], '#', 'A', 'V'),
  'd2:oizp': n(1),
  'd2:zing': n(1),
  'd2:zpvc': n(1, 99),
  'd2:relationshipCount': (a) => a.length === 0 || (a.length === 1 && a[0]?.k === 'str' && UID_ONLY.test(a[0].v)),
  avg: n(1),
  count: n(1),
  max: n(1),
  min: n(1),
  stddev: n(1),
  sum: n(1),
});
const UID_ONLY = new RegExp(`^${UID}$`);
const STAGE_ELEMENT = new RegExp(`^${UID}\\.${UID}$`);
/** The JS parser's ProgramVariable entries. */
const JS_VARIABLES = new Set([
  ...DATE_VARIABLES,
  ...COUNT_VARIABLES,
  ...TEXT_VARIABLES,
  ...NOT_PROGRAM_VARIABLES,
  'scheduled_event_count',
  'scheduled_date',
]);

const sure = new WeakMap<Node, boolean>();

/** The JS parser accepts this tree (a conservative subset of its grammar: see JS_FUNCTIONS). */
export function surelyParses(tree: IndicatorTree): boolean {
  let known = sure.get(tree);
  if (known === undefined) sure.set(tree, (known = inSubset(tree)));
  return known;
}

function inSubset(tree: Node): boolean {
  const ok = (node: Node): boolean => {
    switch (node.k) {
      case 'num':
      case 'bool':
      case 'null':
        return true;
      case 'str':
        return node.raw.startsWith("'"); // the JS parser's describe() writes "x" as 'x'
      case 'paren':
        return ok(node.e);
      case 'offset':
        return node.name === 'stageOffset' && /^-?\d+$/.test(node.raw) && isItem(node.e, '#');
      // The word operators (and, or, not) are described in another form.
      case 'unary':
        return node.raw !== 'not' && ok(node.e);
      case 'binary':
        return node.raw !== 'and' && node.raw !== 'or' && ok(node.l) && ok(node.r);
      case 'item':
        if (node.sigil === '#') return STAGE_ELEMENT.test(node.body);
        if (node.sigil === 'A' || node.sigil === 'C') return UID_ONLY.test(node.body);
        if (node.sigil === 'V') return JS_VARIABLES.has(node.body);
        return false;
      case 'call': {
        const shape = JS_FUNCTIONS[node.name];
        return shape !== undefined && shape(node.args) && node.args.every(ok);
      }
    }
  };
  return ok(tree);
}

/**
 * The description @dhis2/expression-parser's describe() gives: the expression rewritten with single spaces
 * around binary operators, arguments joined by commas, items named (`#{Stage.Element}`, `A{Attribute}`,
 * `C{Constant}`), literals and variables as written. `names` maps uids to display names.
 */
export function describeIndicator(tree: IndicatorTree, names: ReadonlyMap<string, string>): string {
  const name = (uid: string) => names.get(uid) ?? uid;
  const out = (node: Node): string => {
    switch (node.k) {
      case 'num':
      case 'str':
        return node.raw;
      case 'bool':
        return String(node.v);
      case 'null':
        return 'null';
      case 'paren':
        return `(${out(node.e)})`;
      case 'offset':
        return `${out(node.e)}.${node.name}(${node.raw})`;
      case 'unary':
        return `${node.op}${out(node.e)}`;
      case 'binary':
        return `${out(node.l)} ${node.op} ${out(node.r)}`;
      case 'item':
        if (node.sigil === '#') return `#{${node.body.split('.').map(name).join('.')}}`;
        if (node.sigil === 'A' || node.sigil === 'C') return `${node.sigil}{${name(node.body)}}`;
        return node.text;
      case 'call':
        // d2:relationshipCount's argument is a relationship type's uid: described by its name, unquoted.
        if (node.name === 'd2:relationshipCount' && node.args[0]?.k === 'str')
          return `${node.name}(${name(node.args[0].v)})`;
        return `${node.name}(${node.args.map(out).join(',')})`;
    }
  };
  return out(tree);
}

/** The `#{stage.element}` items of a tree, as [stage, element]. */
export function stageElements(tree: IndicatorTree): [string, string][] {
  const found: [string, string][] = [];
  const walk = (node: Node): void => {
    if (node.k === 'item' && node.sigil === '#') {
      const [stage, de] = node.body.split('.');
      if (stage !== undefined && de !== undefined) found.push([stage.trim(), de.trim()]);
    } else if (node.k === 'paren' || node.k === 'offset' || node.k === 'unary') walk(node.e);
    else if (node.k === 'binary') {
      walk(node.l);
      walk(node.r);
    } else if (node.k === 'call') node.args.forEach(walk);
  };
  walk(tree);
  return found;
}
