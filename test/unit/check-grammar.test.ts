import { beforeAll, describe, expect, it } from 'vitest';
import { loadEngines } from '../../src/check/engines.ts';
import { programModel } from '../../src/check/program-model.ts';
import { validateProgramExpressions, type ExpressionVerdict } from '../../src/check/validate-expressions.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';

/**
 * Every item and function of the program indicator grammar, and of the rule engine's, in a synthetic program,
 * judged as DHIS2 judges it. The tables and the verdicts come from DHIS2's source (see docs/dhis2-expression-rules.md
 * for the full citations); short names below:
 *   core  = dhis2/dhis2-core
 *   antlr = dhis2/dhis2-antlr-expression-parser
 *   ep    = dhis2/expression-parser (node_modules/@dhis2/expression-parser)
 *   re    = dhis2/dhis2-rule-engine (node_modules/@dhis2/rule-engine)
 *
 * How the server validates an indicator (core dhis-service-core/.../program/DefaultProgramIndicatorService.java):
 * `/expression/description` runs `validate(expr, Double.class)`, `/filter/description` `validate(expr, Boolean.class)`;
 * both walk the expression with ITEM_GET_DESCRIPTIONS, each item returning a substitute value of its type, and then
 * `AntlrParserUtils.castClass(clazz, result)` (antlr .../AntlrParserUtils.java): a Double or numeric String casts to
 * Double; a Boolean, an integer-valued Double or "true"/"false" to Boolean; anything else throws
 * "Could not cast <Type> '<value>' to Double|Boolean".
 */

// ---------------------------------------------------------------------------------------------------------------
// The synthetic program: a tracker program with two stages (the first repeatable), data elements and attributes of
// every kind the grammar treats differently, a constant, and rule variables of every source type.
// ---------------------------------------------------------------------------------------------------------------

const PROGRAM = 'PrGrammar01';
const OTHER_PROGRAM = 'PrOther0001';
const S1 = 'StageOne001'; // repeatable
const S2 = 'StageTwo002';
const OTHER_STAGE = 'StageOther1'; // a stage of another program in the same file
const MISSING_STAGE = 'StageNone01'; // in no program of the file
const CONSTANT = 'Constant001';

/** value type -> [data element uid, attribute uid] */
const FIELDS = {
  NUMBER: ['DeNumber001', 'AtNumber001'],
  INTEGER: ['DeInteger01', 'AtInteger01'],
  TEXT: ['DeText00001', 'AtText00001'],
  DATE: ['DeDate00001', 'AtDate00001'],
  BOOLEAN: ['DeBoolean01', 'AtBoolean01'],
  TRUE_ONLY: ['DeTrueOnly1', 'AtTrueOnly1'],
  OPTION: ['DeOption001', 'AtOption001'], // TEXT with an option set
} as const;
const OPTION_SET = 'OptionSet01';

const de = (k: keyof typeof FIELDS) => FIELDS[k][0];
const at = (k: keyof typeof FIELDS) => FIELDS[k][1];
/** `#{stage.de}` on the first stage. */
const item = (k: keyof typeof FIELDS, stage = S1) => `#{${stage}.${de(k)}}`;

/** Rule variables: one per source type (re / core ProgramRuleVariableSourceType), named by what they read. */
const VARIABLES: { name: string; source: string; field?: MetadataObject; valueType?: string }[] = [
  {
    name: 'v_newest_stage',
    source: 'DATAELEMENT_NEWEST_EVENT_PROGRAM_STAGE',
    field: { dataElement: { id: de('NUMBER') }, programStage: { id: S1 } },
  },
  { name: 'v_newest_program', source: 'DATAELEMENT_NEWEST_EVENT_PROGRAM', field: { dataElement: { id: de('TEXT') } } },
  { name: 'v_current', source: 'DATAELEMENT_CURRENT_EVENT', field: { dataElement: { id: de('DATE') } } },
  { name: 'v_previous', source: 'DATAELEMENT_PREVIOUS_EVENT', field: { dataElement: { id: de('BOOLEAN') } } },
  { name: 'v_attribute', source: 'TEI_ATTRIBUTE', field: { trackedEntityAttribute: { id: at('INTEGER') } } },
  { name: 'v_calculated', source: 'CALCULATED_VALUE', valueType: 'TEXT' },
  { name: 'v_option', source: 'DATAELEMENT_CURRENT_EVENT', field: { dataElement: { id: de('OPTION') } } },
  { name: 'v_true_only', source: 'TEI_ATTRIBUTE', field: { trackedEntityAttribute: { id: at('TRUE_ONLY') } } },
];

type Kind = 'programIndicatorExpression' | 'programIndicatorFilter' | 'programRuleCondition' | 'programRuleActionData';
interface Case {
  kind: Kind;
  expression: string;
  id: string;
}

const cases: Case[] = [];
let counter = 0;
/** Registers an expression of a kind and returns its object's uid (11 characters, a letter first). */
function register(kind: Kind, expression: string): Case {
  const prefix = {
    programIndicatorExpression: 'Pe',
    programIndicatorFilter: 'Pf',
    programRuleCondition: 'Rc',
    programRuleActionData: 'Ad',
  }[kind];
  const c = { kind, expression, id: `${prefix}${String(++counter).padStart(9, '0')}` };
  cases.push(c);
  return c;
}

function buildDocument(): MetadataDocument {
  const valueType = (k: keyof typeof FIELDS) => (k === 'OPTION' ? 'TEXT' : k);
  const keys = Object.keys(FIELDS) as (keyof typeof FIELDS)[];
  const dataElements = keys.map((k) => ({
    id: de(k),
    name: `DE ${k}`,
    valueType: valueType(k),
    domainType: 'TRACKER',
    ...(k === 'OPTION' ? { optionSet: { id: OPTION_SET } } : {}),
  }));
  const attributes = keys.map((k) => ({
    id: at(k),
    name: `Attribute ${k}`,
    valueType: valueType(k),
    ...(k === 'OPTION' ? { optionSet: { id: OPTION_SET } } : {}),
  }));
  const psdes = dataElements.map((d) => ({ dataElement: { id: d.id } }));
  const programStages = [
    { id: S1, name: 'Stage one', program: { id: PROGRAM }, repeatable: true, programStageDataElements: psdes },
    { id: S2, name: 'Stage two', program: { id: PROGRAM }, repeatable: false, programStageDataElements: psdes },
    { id: OTHER_STAGE, name: 'Other stage', program: { id: OTHER_PROGRAM }, programStageDataElements: psdes },
  ];
  const rules: MetadataObject[] = [];
  const actions: MetadataObject[] = [];
  const indicators: MetadataObject[] = [];
  for (const c of cases) {
    if (c.kind === 'programRuleCondition') {
      rules.push({
        id: c.id,
        name: `Rule ${c.id}`,
        program: { id: PROGRAM },
        condition: c.expression,
        programRuleActions: [],
      });
    } else if (c.kind === 'programRuleActionData') {
      const rule = `Ru${c.id.slice(2)}`;
      rules.push({
        id: rule,
        name: `Rule ${rule}`,
        program: { id: PROGRAM },
        condition: 'true',
        programRuleActions: [{ id: c.id }],
      });
      actions.push({
        id: c.id,
        programRule: { id: rule },
        programRuleActionType: 'ASSIGN',
        dataElement: { id: de('TEXT') },
        data: c.expression,
      });
    } else {
      const key = c.kind === 'programIndicatorExpression' ? 'expression' : 'filter';
      indicators.push({
        id: c.id,
        name: `Indicator ${c.id}`,
        shortName: c.id,
        program: { id: PROGRAM },
        [key]: c.expression,
      });
    }
  }
  return {
    programs: [
      {
        id: PROGRAM,
        name: 'Grammar program',
        programType: 'WITH_REGISTRATION',
        programStages: [{ id: S1 }, { id: S2 }],
        programTrackedEntityAttributes: attributes.map((a) => ({ trackedEntityAttribute: { id: a.id } })),
      },
      {
        id: OTHER_PROGRAM,
        name: 'Other program',
        programType: 'WITH_REGISTRATION',
        programStages: [{ id: OTHER_STAGE }],
      },
    ],
    programStages,
    dataElements,
    trackedEntityAttributes: attributes,
    optionSets: [{ id: OPTION_SET, name: 'Options', valueType: 'TEXT', options: [{ id: 'OptionAaa01' }] }],
    options: [{ id: 'OptionAaa01', code: 'A', name: 'A', optionSet: { id: OPTION_SET } }],
    constants: [{ id: CONSTANT, name: 'The constant', value: 2 }],
    programRuleVariables: VARIABLES.map((v, i) => ({
      id: `Va${String(i).padStart(9, '0')}`,
      name: v.name,
      program: { id: PROGRAM },
      programRuleVariableSourceType: v.source,
      ...(v.valueType ? { valueType: v.valueType } : {}),
      ...v.field,
    })),
    programRules: rules,
    programRuleActions: actions,
    programIndicators: indicators,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Program indicator expressions: items and functions that the server accepts (core
// dhis-service-core/.../program/ExpressionMapBuilder.java: COMMON_EXPRESSION_ITEMS + the d2 functions + the
// aggregations + #{} A{} PS_EVENTDATE V{} .stageOffset), each where it yields a number.
// ---------------------------------------------------------------------------------------------------------------

/** Program variables the server knows (core .../program/variable/ProgramVariableItem.java PROGRAM_VARIABLES). */
// ProgramDoubleVariable: defaultVariableValue() = 1d (core .../variable/ProgramDoubleVariable.java).
const NUMERIC_VARIABLES = [
  'enrollment_count',
  'event_count',
  'org_unit_count',
  'tei_count',
  'value_count',
  'zero_pos_value_count',
];
// ProgramDateVariable: defaultVariableValue() = "2017-07-08" (core .../variable/ProgramDateVariable.java).
const DATE_VARIABLES = [
  'analytics_period_end',
  'analytics_period_start',
  'completed_date',
  'creation_date',
  'current_date',
  'due_date',
  'enrollment_date',
  'event_date',
  'execution_date',
  'incident_date',
  'sync_date',
];
// vEnrollmentStatus etc. return Strings (core .../variable/vEnrollmentStatus.java).
const TEXT_VARIABLES = ['enrollment_status', 'event_status', 'program_stage_id', 'program_stage_name'];

const PI_EXPRESSIONS: [string, string][] = [
  // Data items: getNullReplacementValue (core ProgramExpressionItem.java): numeric and BOOLEAN -> 0d.
  ['#{stage.de} NUMBER', item('NUMBER')],
  ['#{stage.de} INTEGER', item('INTEGER')],
  ['#{stage.de} BOOLEAN (a number for indicators)', item('BOOLEAN')],
  ['#{stage.de} of the second stage', item('NUMBER', S2)],
  ['A{attr} NUMBER', `A{${at('NUMBER')}}`],
  ['A{attr} INTEGER', `A{${at('INTEGER')}}`],
  ['A{attr} BOOLEAN', `A{${at('BOOLEAN')}}`],
  // ItemConstant.getDescription returns DOUBLE_VALUE_IF_NULL (core dhis-support-expression-parser .../ItemConstant.java).
  ['C{constant}', `C{${CONSTANT}}`],
  // RepeatableProgramStageOffset; the stage must be repeatable (ProgramItemStageElement, E2039).
  ['#{stage.de}.stageOffset(-1) on a repeatable stage', `${item('NUMBER')}.stageOffset(-1)`],
  ...NUMERIC_VARIABLES.map((v): [string, string] => [`V{${v}}`, `V{${v}}`]),
  // Operators (core dhis-support-expression-parser .../operator/OperatorMath*.java: castDouble on each operand).
  ['+', `${item('NUMBER')} + 1`],
  ['-', `${item('NUMBER')} - 1`],
  ['*', `${item('NUMBER')} * 2`],
  ['/', `${item('NUMBER')} / 2`],
  ['%', `${item('NUMBER')} % 2`],
  ['^', `${item('NUMBER')} ^ 2`],
  ['unary -', `-${item('NUMBER')}`],
  ['unary +', `+${item('NUMBER')}`],
  ['( )', `(${item('NUMBER')} + 1) * 2`],
  // Common functions (core ParserUtils.COMMON_EXPRESSION_ITEMS).
  ['firstNonNull', `firstNonNull(${item('NUMBER')}, 0)`],
  ['greatest', `greatest(${item('NUMBER')}, ${item('INTEGER')}, 1)`],
  ['least', `least(${item('NUMBER')}, ${item('INTEGER')}, 1)`],
  ['if', `if(${item('NUMBER')} > 1, 1, 0)`],
  ['log', `log(${item('NUMBER')} + 1)`],
  ['log with a base', `log(${item('NUMBER')} + 1, 2)`],
  ['log10', `log10(${item('NUMBER')} + 1)`],
  // d2 functions (core .../program/function/D2*.java).
  ['d2:condition (numbers)', `d2:condition('${item('NUMBER')} > 1', 1, 0)`],
  ['d2:condition with a text test', `d2:condition("${item('TEXT')} == 'a'", 10, 20)`],
  ['d2:count', `d2:count(${item('NUMBER')})`],
  ['d2:count of a text element', `d2:count(${item('TEXT')})`],
  ['d2:countIfCondition', `d2:countIfCondition(${item('NUMBER')}, '> 1')`],
  ['d2:countIfValue (number)', `d2:countIfValue(${item('NUMBER')}, 1)`],
  ['d2:countIfValue (text)', `d2:countIfValue(${item('OPTION')}, 'A')`],
  ['d2:daysBetween', `d2:daysBetween(${item('DATE')}, V{event_date})`],
  ['d2:daysBetween of attributes', `d2:daysBetween(A{${at('DATE')}}, V{enrollment_date})`],
  ['d2:minutesBetween', `d2:minutesBetween(V{event_date}, V{current_date})`],
  ['d2:monthsBetween', `d2:monthsBetween(V{enrollment_date}, V{analytics_period_end})`],
  ['d2:weeksBetween', `d2:weeksBetween(V{incident_date}, V{analytics_period_end})`],
  ['d2:yearsBetween', `d2:yearsBetween(A{${at('DATE')}}, V{current_date})`],
  ['d2:maxValue', `d2:maxValue(${item('NUMBER')})`],
  ['d2:minValue', `d2:minValue(${item('NUMBER')})`],
  ['d2:oizp', `d2:oizp(${item('NUMBER')})`],
  ['d2:relationshipCount()', 'd2:relationshipCount()'],
  ['d2:zing', `d2:zing(${item('NUMBER')})`],
  ['d2:zpvc', `d2:zpvc(${item('NUMBER')}, ${item('INTEGER')})`],
  // Aggregations for custom aggregation (ExpressionMapBuilder: VectorAvg ... VectorSum).
  ['avg', `avg(${item('NUMBER')})`],
  ['count', `count(${item('NUMBER')})`],
  ['max', `max(${item('NUMBER')})`],
  ['min', `min(${item('NUMBER')})`],
  ['stddev', `stddev(${item('NUMBER')})`],
  ['sum', `sum(${item('NUMBER')})`],
  // Every date variable, where it yields a number.
  ...DATE_VARIABLES.map((v): [string, string] => [
    `V{${v}} in d2:daysBetween`,
    `d2:daysBetween(V{${v}}, V{analytics_period_end})`,
  ]),
];

// Filters: the result must cast to Boolean.
const PI_FILTERS: [string, string][] = [
  ['== on a number', `${item('NUMBER')} == 1`],
  ['!=', `${item('INTEGER')} != 1`],
  ['<', `${item('NUMBER')} < 1`],
  ['<=', `${item('NUMBER')} <= 1`],
  ['>', `${item('NUMBER')} > 1`],
  ['>=', `${item('NUMBER')} >= 1`],
  ['== on text', `${item('TEXT')} == 'a'`],
  ['== on an option set element', `${item('OPTION')} == 'A'`],
  ['== on a text attribute', `A{${at('TEXT')}} == 'a'`],
  ['a BOOLEAN element compared with 1', `${item('BOOLEAN')} == 1`],
  // AntlrOperatorCompare (the version of the "Could not cast" casts): as booleans when one side is a Boolean
  // and both read as booleans (0.0 does), as strings when one side is a String.
  ['a BOOLEAN element compared with true', `${item('BOOLEAN')} == true`],
  ['a TRUE_ONLY element compared with 1', `${item('TRUE_ONLY')} == 1`],
  ['a text element compared with a number', `${item('TEXT')} == 1`],
  ['a date element compared with a date variable', `${item('DATE')} >= V{enrollment_date}`],
  ['a TRUE_ONLY element alone', item('TRUE_ONLY')],
  ['a TRUE_ONLY attribute alone', `A{${at('TRUE_ONLY')}}`],
  ['a number alone (0.0 casts to false)', item('NUMBER')],
  ['&&', `${item('NUMBER')} > 1 && ${item('TEXT')} == 'a'`],
  ['and', `${item('NUMBER')} > 1 and ${item('TEXT')} == 'a'`],
  ['||', `${item('NUMBER')} > 1 || ${item('TEXT')} == 'a'`],
  ['or', `${item('NUMBER')} > 1 or ${item('TEXT')} == 'a'`],
  ['!', `!(${item('NUMBER')} > 1)`],
  ['not', `not (${item('NUMBER')} > 1)`],
  ['true', 'true'],
  ['isNull', `isNull(${item('NUMBER')})`],
  ['isNotNull', `isNotNull(${item('TEXT')})`],
  ['d2:hasValue of a data element', `d2:hasValue(${item('TEXT')})`],
  ['d2:hasValue of an attribute', `d2:hasValue(A{${at('DATE')}})`],
  ['d2:hasValue == false', `d2:hasValue(${item('NUMBER')}) == false`],
  ['d2:condition (booleans)', `d2:condition('${item('NUMBER')} > 1', true, false)`],
  ['d2:count > 0', `d2:count(${item('NUMBER')}) > 0`],
  ['d2:countIfValue > 0', `d2:countIfValue(${item('OPTION')}, 'A') > 0`],
  ['d2:yearsBetween compared', `d2:yearsBetween(A{${at('DATE')}}, V{analytics_period_start}) <= 59`],
  ['C{constant} compared', `${item('NUMBER')} > C{${CONSTANT}}`],
  ...TEXT_VARIABLES.map((v): [string, string] => [`V{${v}}`, `V{${v}} == 'x'`]),
  ...NUMERIC_VARIABLES.map((v): [string, string] => [`V{${v}} compared`, `V{${v}} > 0`]),
  // A string on the left compares as a string (antlr AntlrOperatorCompare: String -> castString of the other side).
  ['V{event_date} compared with a date string', "V{event_date} >= '2020-01-01'"],
];

// ---------------------------------------------------------------------------------------------------------------
// The rule engine: every function of RULE_ENGINE_CONDITION / RULE_ENGINE_ACTION (node_modules/@dhis2/rule-engine
// expression-parser.js, ExpressionGrammar `h13_1` = CommonConstants + CommonD2Functions + RuleEngineD2Functions +
// #{} A{} C{} V{}; ep src/commonMain/kotlin/org/hisp/dhis/lib/expression/syntax/ExpressionGrammar.kt RuleEngineMode),
// and every environment variable (re src/commonMain/kotlin/org/hisp/dhis/rules/api/EnvironmentVariables.kt).
// ---------------------------------------------------------------------------------------------------------------

const RULE_FUNCTIONS: [string, string, string][] = [
  // name, condition (a boolean), ASSIGN data (any value)
  ['d2:addDays', 'd2:addDays(#{v_current}, 1) == V{current_date}', 'd2:addDays(#{v_current}, 7)'],
  ['d2:ceil', 'd2:ceil(#{v_newest_stage}) > 1', 'd2:ceil(#{v_newest_stage})'],
  [
    'd2:concatenate',
    "d2:concatenate(#{v_newest_program}, 'a') == 'xa'",
    "d2:concatenate(#{v_newest_program}, '-', #{v_calculated})",
  ],
  [
    'd2:condition',
    "d2:condition('#{v_newest_stage} > 1', true, false)",
    "d2:condition('#{v_newest_stage} > 1', 'big', 'small')",
  ],
  ['d2:contains', "d2:contains(#{v_newest_program}, 'a')", "d2:contains(#{v_newest_program}, 'a', 'b')"],
  ['d2:containsItems', "d2:containsItems(#{v_option}, 'A')", "d2:containsItems(#{v_option}, 'A', 'B')"],
  ['d2:count', "d2:count('v_newest_stage') > 0", "d2:count('v_newest_stage')"],
  ['d2:countIfValue', "d2:countIfValue('v_option', 'A') > 0", "d2:countIfValue('v_option', 'A')"],
  ['d2:countIfZeroPos', "d2:countIfZeroPos('v_newest_stage') > 0", "d2:countIfZeroPos('v_newest_stage')"],
  [
    'd2:daysBetween',
    'd2:daysBetween(#{v_current}, V{current_date}) > 0',
    'd2:daysBetween(#{v_current}, V{current_date})',
  ],
  [
    'd2:extractDataMatrixValue',
    "d2:extractDataMatrixValue('gtin', #{v_newest_program}) == 'x'",
    "d2:extractDataMatrixValue('gtin', #{v_newest_program})",
  ],
  ['d2:floor', 'd2:floor(#{v_newest_stage}) > 1', 'd2:floor(#{v_newest_stage})'],
  ['d2:hasUserRole', "d2:hasUserRole('UserRole01')", "d2:hasUserRole('UserRole01')"],
  ['d2:hasValue', "d2:hasValue('v_newest_stage')", 'd2:hasValue(#{v_newest_stage})'],
  ['d2:inOrgUnitGroup', "d2:inOrgUnitGroup('OuGroup0001')", "d2:inOrgUnitGroup('OuGroup0001')"],
  ['d2:lastEventDate', "d2:lastEventDate('v_current') == V{current_date}", "d2:lastEventDate('v_current')"],
  ['d2:left', "d2:left(#{v_newest_program}, 2) == 'ab'", 'd2:left(#{v_newest_program}, 2)'],
  ['d2:length', 'd2:length(#{v_newest_program}) > 2', 'd2:length(#{v_newest_program})'],
  ['d2:maxValue', "d2:maxValue('v_newest_stage') > 0", "d2:maxValue('v_newest_stage')"],
  ['d2:minValue', "d2:minValue('v_newest_stage') > 0", "d2:minValue('v_newest_stage')"],
  ['d2:modulus', 'd2:modulus(#{v_newest_stage}, 2) == 0', 'd2:modulus(#{v_newest_stage}, 2)'],
  [
    'd2:monthsBetween',
    'd2:monthsBetween(#{v_current}, V{current_date}) > 1',
    'd2:monthsBetween(#{v_current}, V{current_date})',
  ],
  ['d2:oizp', 'd2:oizp(#{v_newest_stage}) == 1', 'd2:oizp(#{v_newest_stage})'],
  ['d2:right', "d2:right(#{v_newest_program}, 2) == 'ab'", 'd2:right(#{v_newest_program}, 2)'],
  ['d2:round', 'd2:round(#{v_newest_stage}) == 1', 'd2:round(#{v_newest_stage}, 2)'],
  ['d2:split', "d2:split(#{v_newest_program}, ',', 0) == 'a'", "d2:split(#{v_newest_program}, ',', 1)"],
  ['d2:substring', "d2:substring(#{v_newest_program}, 0, 1) == 'a'", 'd2:substring(#{v_newest_program}, 0, 1)'],
  [
    'd2:validatePattern',
    "d2:validatePattern(#{v_newest_program}, '[0-9]+')",
    "d2:validatePattern(#{v_newest_program}, '[0-9]+')",
  ],
  [
    'd2:weeksBetween',
    'd2:weeksBetween(#{v_current}, V{current_date}) > 1',
    'd2:weeksBetween(#{v_current}, V{current_date})',
  ],
  [
    'd2:yearsBetween',
    'd2:yearsBetween(#{v_current}, V{current_date}) > 1',
    'd2:yearsBetween(#{v_current}, V{current_date})',
  ],
  ['d2:zing', 'd2:zing(#{v_newest_stage}) > 0', 'd2:zing(#{v_newest_stage})'],
  ['d2:zpvc', 'd2:zpvc(#{v_newest_stage}, A{v_attribute}) > 0', 'd2:zpvc(#{v_newest_stage}, A{v_attribute})'],
  ['d2:zScoreHFA', "d2:zScoreHFA(1, 50, 'Male') > 0", "d2:zScoreHFA(1, 50, 'Female')"],
  ['d2:zScoreWFA', "d2:zScoreWFA(1, 5, 'Male') > 0", "d2:zScoreWFA(1, 5, 'Female')"],
  ['d2:zScoreWFH', "d2:zScoreWFH(50, 5, 'Male') > 0", "d2:zScoreWFH(50, 5, 'Female')"],
  // Constants, items and operators.
  ['C{constant}', `C{${CONSTANT}} > 1`, `C{${CONSTANT}} * 2`],
  ['null', '#{v_newest_program} == null', 'null'],
  ['true / false', 'true && !false', 'true'],
  ['arithmetic', '(#{v_newest_stage} + 1) * 2 - 3 / 4 % 5 >= 0', '(#{v_newest_stage} + 1) * 2 - 3 / 4 % 5'],
  [
    '|| and !=',
    "#{v_newest_program} != 'a' || #{v_newest_stage} < 2",
    "#{v_newest_program} != 'a' || #{v_newest_stage} < 2",
  ],
];

/** EnvironmentVariables.ENV_VARIABLES with its ItemValueType. */
const ENV: [string, 'DATE' | 'NUMBER' | 'TEXT'][] = [
  ['completed_date', 'DATE'],
  ['current_date', 'DATE'],
  ['event_date', 'DATE'],
  ['incident_date', 'DATE'],
  ['enrollment_date', 'DATE'],
  ['due_date', 'DATE'],
  ['event_count', 'NUMBER'],
  ['tei_count', 'NUMBER'],
  ['enrollment_count', 'NUMBER'],
  ['event_id', 'NUMBER'],
  ['program_stage_id', 'NUMBER'],
  ['enrollment_id', 'NUMBER'],
  ['enrollment_status', 'TEXT'],
  ['event_status', 'TEXT'],
  ['org_unit', 'TEXT'],
  ['orgunit_code', 'TEXT'],
  ['environment', 'TEXT'],
  ['program_name', 'TEXT'],
  ['program_stage_name', 'TEXT'],
];
const envCondition = (name: string, type: string) =>
  type === 'DATE'
    ? `d2:daysBetween(V{${name}}, V{current_date}) >= 0`
    : type === 'NUMBER'
      ? `V{${name}} > 0`
      : `V{${name}} == 'x'`;

/** Rule variables of every source type, in a condition of their type and as ASSIGN data. */
const VARIABLE_CONDITIONS: [string, string][] = [
  ['v_newest_stage', '#{v_newest_stage} > 1'],
  ['v_newest_program', "#{v_newest_program} == 'a'"],
  ['v_current', 'd2:daysBetween(#{v_current}, V{current_date}) > 0'],
  ['v_previous', '#{v_previous}'],
  ['v_attribute', 'A{v_attribute} > 1'],
  ['v_calculated', "#{v_calculated} == 'a'"],
  ['v_option', "#{v_option} == 'A'"],
  ['v_true_only', 'A{v_true_only}'],
];

// ---------------------------------------------------------------------------------------------------------------
// Expressions DHIS2 rejects (or accepts) where today's verdict may differ: the stricter rules.
// ---------------------------------------------------------------------------------------------------------------

interface Strict {
  name: string;
  kind: Kind;
  expression: string;
  /** DHIS2's verdict: valid, or the message of the exception (null: invalid, message not pinned down). */
  expected: { valid: true } | { valid: false; message: string | null };
}

const STRICT: Strict[] = [
  // AntlrParserUtils.castClass: the result of d2:condition is its value-if-true (core D2Condition.java).
  {
    name: 'an expression yielding text (d2:condition with text values)',
    kind: 'programIndicatorExpression',
    expression: `d2:condition('${item('NUMBER')} == 1', 'Given', 'Not Given')`,
    expected: { valid: false, message: "Could not cast String 'Given' to Double" },
  },
  {
    name: 'a filter yielding text (d2:condition with text values)',
    kind: 'programIndicatorFilter',
    expression: `d2:condition('${item('NUMBER')} == 1', 'a', 'b')`,
    expected: { valid: false, message: "Could not cast String 'a' to Boolean" },
  },
  // D2Condition: castClass(valueIfTrue.getClass(), valueIfFalse).
  {
    name: 'd2:condition whose value-if-false does not cast to the type of its value-if-true',
    kind: 'programIndicatorExpression',
    expression: `d2:condition('${item('NUMBER')} == 1', 1, 'none')`,
    expected: { valid: false, message: "Could not cast String 'none' to Double" },
  },
  // D2Condition validates the test as a Boolean: a text element substitutes "" (ValidationUtils.getNullReplacementValue).
  {
    name: 'd2:condition whose test is not a boolean',
    kind: 'programIndicatorExpression',
    expression: `d2:condition('${item('TEXT')}', 1, 0)`,
    expected: { valid: false, message: "Could not cast String '' to Boolean" },
  },
  // ProgramItemStageElement.getDescription: the stage is looked up by uid (programStageService.getProgramStage).
  {
    name: '#{stage.de} whose stage is in no program of the file',
    kind: 'programIndicatorExpression',
    expression: `#{${MISSING_STAGE}.${de('NUMBER')}}`,
    expected: { valid: false, message: `Program stage ${MISSING_STAGE} not found` },
  },
  {
    name: '#{stage.de} whose data element is not in the file',
    kind: 'programIndicatorExpression',
    expression: `#{${S1}.DeNowhere01}`,
    expected: { valid: false, message: 'Data element DeNowhere01 not found' },
  },
  // The server does not compare the stage with the indicator's program (validate() passes no program indicator):
  // a stage of another program is valid for the endpoint.
  {
    name: "#{stage.de} of another program's stage (the endpoint accepts it)",
    kind: 'programIndicatorExpression',
    expression: `#{${OTHER_STAGE}.${de('NUMBER')}}`,
    expected: { valid: true },
  },
  // ProgramItemAttribute.getDescription.
  {
    name: 'A{attr} not in the file',
    kind: 'programIndicatorExpression',
    expression: 'A{AtNowhere01}',
    expected: { valid: false, message: 'Tracked entity attribute AtNowhere01 not found.' },
  },
  // ItemConstant.getDescription.
  {
    name: 'C{constant} not in the file',
    kind: 'programIndicatorExpression',
    expression: 'C{CoNowhere01}',
    expected: { valid: false, message: 'No constant defined for CoNowhere01' },
  },
  // ParserUtils.assumeStageElementSyntax.
  {
    name: '#{de} without a stage',
    kind: 'programIndicatorExpression',
    expression: `#{${de('NUMBER')}}`,
    expected: { valid: false, message: `Invalid Program Stage / DataElement syntax: #{${de('NUMBER')}}` },
  },
  // Substitute values that do not cast to Double.
  {
    name: 'an expression that is a text element',
    kind: 'programIndicatorExpression',
    expression: item('TEXT'),
    expected: { valid: false, message: "Could not cast String '' to Double" },
  },
  {
    name: 'an expression that is a TRUE_ONLY element (a Boolean)',
    kind: 'programIndicatorExpression',
    expression: item('TRUE_ONLY'),
    expected: { valid: false, message: "Could not cast Boolean 'false' to Double" },
  },
  {
    name: 'an expression that is a date variable',
    kind: 'programIndicatorExpression',
    expression: 'V{event_date}',
    expected: { valid: false, message: "Could not cast String '2017-07-08' to Double" },
  },
  {
    name: 'an expression that is d2:hasValue (a Boolean)',
    kind: 'programIndicatorExpression',
    expression: `d2:hasValue(${item('NUMBER')})`,
    expected: { valid: false, message: "Could not cast Boolean 'false' to Double" },
  },
  {
    name: 'an expression that is a comparison (a Boolean)',
    kind: 'programIndicatorExpression',
    expression: `${item('NUMBER')} > 1`,
    expected: { valid: false, message: "Could not cast Boolean 'false' to Double" },
  },
  // ... and do not cast to Boolean.
  {
    name: 'a filter that is a text element',
    kind: 'programIndicatorFilter',
    expression: item('TEXT'),
    expected: { valid: false, message: "Could not cast String '' to Boolean" },
  },
  {
    name: 'a filter that is a date variable',
    kind: 'programIndicatorFilter',
    expression: 'V{enrollment_date}',
    expected: { valid: false, message: "Could not cast String '2017-07-08' to Boolean" },
  },
  // D2CountIfValue: castClass(<the element's substitute>.getClass(), value).
  {
    name: 'd2:countIfValue of a number with a text value',
    kind: 'programIndicatorExpression',
    expression: `d2:countIfValue(${item('NUMBER')}, 'abc')`,
    expected: { valid: false, message: "Could not cast String 'abc' to Double" },
  },
  // Not in ExpressionMapBuilder: CommonExpressionVisitor "Item … not supported for this type of expression" (or a
  // syntax error where the server's grammar has no such token). The JS parser's PI mode accepts them.
  {
    name: 'removeZeros (not a PI function)',
    kind: 'programIndicatorExpression',
    expression: `removeZeros(${item('NUMBER')})`,
    expected: { valid: false, message: null },
  },
  {
    name: 'contains (not a PI function)',
    kind: 'programIndicatorFilter',
    expression: `contains(${item('TEXT')}, 'a')`,
    expected: { valid: false, message: null },
  },
  {
    name: 'containsItems (not a PI function)',
    kind: 'programIndicatorFilter',
    expression: `containsItems(${item('TEXT')}, 'a')`,
    expected: { valid: false, message: null },
  },
  {
    name: 'normDistCum (not a PI function)',
    kind: 'programIndicatorExpression',
    expression: `normDistCum(${item('NUMBER')})`,
    expected: { valid: false, message: null },
  },
  {
    name: '[days] (not a PI item)',
    kind: 'programIndicatorExpression',
    expression: '[days]',
    expected: { valid: false, message: null },
  },
  // ProgramVariableItem.getProgramVariable: "Can't find program variable <name>" for names the grammar lexes but the
  // PI variables map lacks.
  ...['program_name', 'org_unit', 'orgunit_code', 'environment', 'event_id', 'enrollment_id'].map((v): Strict => ({
    name: `V{${v}} (a rule-engine variable, not a PI variable)`,
    kind: 'programIndicatorFilter',
    expression: `V{${v}} == 'x'`,
    expected: { valid: false, message: `Can't find program variable ${v}` },
  })),
  // Accepted by the server, rejected by the JS parser: variance is in ExpressionMapBuilder (VectorVariance)...
  {
    name: 'variance (a PI aggregation)',
    kind: 'programIndicatorExpression',
    expression: `variance(${item('NUMBER')})`,
    expected: { valid: true },
  },
  // ... and PS_EVENTDATE:stage is an item (ProgramItemPsEventdate), a date for the d2:*Between functions.
  {
    name: 'PS_EVENTDATE:stage in d2:daysBetween',
    kind: 'programIndicatorExpression',
    expression: `d2:daysBetween(PS_EVENTDATE:${S1}, V{analytics_period_end})`,
    expected: { valid: true },
  },
  {
    name: 'PS_EVENTDATE of a stage in no program of the file',
    kind: 'programIndicatorExpression',
    expression: `d2:daysBetween(PS_EVENTDATE:${MISSING_STAGE}, V{analytics_period_end})`,
    expected: { valid: false, message: `Program stage ${MISSING_STAGE} not found` },
  },
  // The rule engine's grammar has no program-indicator-only functions (RuleEngineMode has no ProgramIndicatorD2Functions).
  {
    name: 'd2:countIfCondition in a rule condition',
    kind: 'programRuleCondition',
    expression: "d2:countIfCondition('v_newest_stage', '> 1') > 0",
    expected: { valid: false, message: null },
  },
  {
    name: 'd2:minutesBetween in a rule condition',
    kind: 'programRuleCondition',
    expression: 'd2:minutesBetween(V{event_date}, V{current_date}) > 0',
    expected: { valid: false, message: null },
  },
  {
    name: 'd2:relationshipCount in ASSIGN data',
    kind: 'programRuleActionData',
    expression: 'd2:relationshipCount()',
    expected: { valid: false, message: null },
  },
];

// ---------------------------------------------------------------------------------------------------------------

const piExpressions = PI_EXPRESSIONS.map(([name, e]) => [name, register('programIndicatorExpression', e)] as const);
const piFilters = PI_FILTERS.map(([name, e]) => [name, register('programIndicatorFilter', e)] as const);
const ruleFunctions = RULE_FUNCTIONS.map(
  ([name, c, d]) => [name, register('programRuleCondition', c), register('programRuleActionData', d)] as const,
);
const envCases = ENV.map(
  ([name, type]) =>
    [
      name,
      register('programRuleCondition', envCondition(name, type)),
      register('programRuleActionData', `V{${name}}`),
    ] as const,
);
const variableCases = VARIABLE_CONDITIONS.map(([name, c]) => {
  const ref = name === 'v_attribute' || name === 'v_true_only' ? `A{${name}}` : `#{${name}}`;
  return [name, register('programRuleCondition', c), register('programRuleActionData', ref)] as const;
});
const strictCases = STRICT.map((s) => [s.name, register(s.kind, s.expression), s.expected] as const);

const verdicts = new Map<string, ExpressionVerdict>();

beforeAll(async () => {
  const engines = await loadEngines();
  for (const v of validateProgramExpressions(engines, programModel(buildDocument(), PROGRAM))) {
    verdicts.set(`${v.type}/${v.id}`, v);
  }
}, 60_000);

function verdictOf(c: Case): ExpressionVerdict {
  const v = verdicts.get(`${c.kind}/${c.id}`);
  expect(v, `no verdict for ${c.kind} ${c.expression}`).toBeDefined();
  expect(v!.expression).toBe(c.expression);
  return v!;
}

/** Valid, with no message: what DHIS2 answers (status OK). */
function expectAccepted(c: Case): void {
  const v = verdictOf(c);
  expect({ valid: v.valid, severity: v.severity, message: v.message }, c.expression).toEqual({
    valid: true,
    severity: null,
    message: null,
  });
}

describe('program indicator grammar (what DHIS2 accepts)', () => {
  it('judges every registered expression', () => {
    expect(cases.filter((c) => !verdicts.has(`${c.kind}/${c.id}`)).map((c) => c.expression)).toEqual([]);
  });

  describe('in an expression (a number)', () => {
    it.each(piExpressions)('%s', (_name, c) => expectAccepted(c));
  });

  describe('in a filter (a boolean)', () => {
    it.each(piFilters)('%s', (_name, c) => expectAccepted(c));
  });
});

describe('rule engine grammar (what DHIS2 accepts)', () => {
  describe('functions in a condition', () => {
    it.each(ruleFunctions)('%s', (_name, condition) => expectAccepted(condition));
  });

  describe('functions in ASSIGN data', () => {
    it.each(ruleFunctions)('%s', (_name, _condition, data) => expectAccepted(data));
  });

  describe('environment variables in a condition', () => {
    it.each(envCases)('V{%s}', (_name, condition) => expectAccepted(condition));
  });

  describe('environment variables in ASSIGN data', () => {
    it.each(envCases)('V{%s}', (_name, _condition, data) => expectAccepted(data));
  });

  describe('rule variables of every source type in a condition', () => {
    it.each(variableCases)('%s', (_name, condition) => expectAccepted(condition));
  });

  describe('rule variables of every source type in ASSIGN data', () => {
    it.each(variableCases)('%s', (_name, _condition, data) => expectAccepted(data));
  });
});

describe('stricter rules: what DHIS2 refuses beyond the syntax', () => {
  it.each(strictCases)('%s', (_name, c, expected) => {
    const v = verdictOf(c);
    if (expected.valid) {
      expect({ valid: v.valid, severity: v.severity }, c.expression).toEqual({ valid: true, severity: null });
    } else {
      expect({ valid: v.valid, severity: v.severity }, c.expression).toEqual({ valid: false, severity: 'error' });
      if (expected.message !== null) expect(v.message, c.expression).toBe(expected.message);
    }
  });
});
