/**
 * The rule engine's execution context for evaluating tests, built as the Capture app builds it
 * (dhis2/capture-app src/core_modules/capture-core/rules/RuleEngine/helpers/InputBuilder.ts,
 * `buildRuleEngineContext`, `convertProgramRule`, `convertProgramRuleAction`, `convertAssignAction`,
 * `convertRuleVariable`, `convertConstants`), not as the server's DefaultProgramRuleEntityMapperService, which
 * keeps only the actions the server acts on (ASSIGN, SHOW*, *ONCOMPLETE, SETMANDATORYFIELD, *MESSAGE) and drops
 * HIDEFIELD, HIDESECTION, HIDEOPTION, SHOWOPTIONGROUP, DISPLAYTEXT and the rest that a user sees in the form:
 *   - every action is kept; its `values` are all its other properties (Capture's `...rest`), with the
 *     references under Capture's names (dataElementId, trackedEntityAttributeId, programStageSectionId,
 *     programStageId, optionId, optionGroupId);
 *   - an ASSIGN becomes one engine action per target: data element, attribute, and content
 *     (`field` + `attributeType`, or `content`);
 *   - a variable's options (name and code) come from its field's option set; `useCodeForOptionSet` as stored;
 *     its value type by Capture's ruleValueTypeMap (boolean, date and numeric types, else TEXT);
 *   - constants by display name and (as the server does) by uid, with their value.
 */
import type { MetadataObject } from '../metadata/types.ts';
import type { RuleEngineModule } from './engines.ts';
import { isDataElementSource, variableField, variableValueType } from './item-store.ts';
import { type ProgramModel, refId, sourceType, str } from './program-model.ts';
import { keyTable } from '../util/own-keys.ts';

/** capture-app InputBuilder.ts ruleValueTypeMap. */
const RULE_VALUE_TYPES: Readonly<Record<string, 'BOOLEAN' | 'DATE' | 'NUMERIC'>> = keyTable({
  BOOLEAN: 'BOOLEAN',
  TRUE_ONLY: 'BOOLEAN',
  DATE: 'DATE',
  DATETIME: 'DATE',
  AGE: 'DATE',
  INTEGER: 'NUMERIC',
  INTEGER_POSITIVE: 'NUMERIC',
  INTEGER_NEGATIVE: 'NUMERIC',
  INTEGER_ZERO_OR_POSITIVE: 'NUMERIC',
  NUMBER: 'NUMERIC',
  PERCENTAGE: 'NUMERIC',
});

/** The references of an action, under the names the Capture app gives them in an effect's values. */
const ACTION_REFERENCES: Record<string, string> = {
  dataElement: 'dataElementId',
  trackedEntityAttribute: 'trackedEntityAttributeId',
  programStageSection: 'programStageSectionId',
  programStage: 'programStageId',
  option: 'optionId',
  optionGroup: 'optionGroupId',
};

/** The scalar properties of an action that Capture passes through as values. */
const ACTION_TEXTS = ['id', 'content', 'displayContent', 'location', 'templateUid'];

type Re = RuleEngineModule;

function actionValues(action: MetadataObject): Map<string, string> {
  const values = new Map<string, string>();
  for (const key of ACTION_TEXTS) {
    const v = str(action[key]);
    if (v !== undefined) values.set(key, v);
  }
  for (const [key, name] of Object.entries(ACTION_REFERENCES)) {
    const id = refId(action[key]);
    if (id) values.set(name, id);
  }
  const template = refId(action.programNotificationTemplate);
  if (template && !values.has('templateUid')) values.set('templateUid', template);
  return values;
}

function convertAction(re: Re, action: MetadataObject): InstanceType<Re['RuleActionJs']>[] {
  const type = str(action.programRuleActionType) ?? '';
  const data = str(action.data) ?? null;
  if (type !== 'ASSIGN') return [new re.RuleActionJs(data, type, actionValues(action))];
  // convertAssignAction: one action per target.
  const out: InstanceType<Re['RuleActionJs']>[] = [];
  const de = refId(action.dataElement);
  const attr = refId(action.trackedEntityAttribute);
  const content = str(action.content);
  const base = actionValues(action);
  if (de)
    out.push(new re.RuleActionJs(data, type, new Map([...base, ['field', de], ['attributeType', 'DATA_ELEMENT']])));
  if (attr) {
    out.push(
      new re.RuleActionJs(
        data,
        type,
        new Map([...base, ['field', attr], ['attributeType', 'TRACKED_ENTITY_ATTRIBUTE']]),
      ),
    );
  }
  if (content)
    out.push(new re.RuleActionJs(data, type, new Map([...base, ['content', content], ['attributeType', 'UNKNOWN']])));
  return out;
}

function optionsOf(re: Re, model: ProgramModel, field: MetadataObject | undefined): InstanceType<Re['Option']>[] {
  const set = model.optionSets.get(refId(field?.optionSet) ?? '');
  const refs = Array.isArray(set?.options) ? (set.options as unknown[]) : [];
  return refs
    .map((r) => model.options.get(refId(r) ?? ''))
    .filter((o): o is MetadataObject => o !== undefined)
    .map((o) => new re.Option(str(o.displayName) ?? str(o.name) ?? '', str(o.code) ?? ''));
}

function convertVariable(re: Re, model: ProgramModel, v: MetadataObject): InstanceType<Re['RuleVariableJs']> {
  const type = sourceType(v);
  const known = isDataElementSource(type) || type === 'TEI_ATTRIBUTE' ? type : 'CALCULATED_VALUE';
  const fieldObject = variableField(model, v);
  const field = isDataElementSource(known)
    ? (refId(v.dataElement) ?? '')
    : known === 'TEI_ATTRIBUTE'
      ? (refId(v.trackedEntityAttribute) ?? '')
      : '';
  const valueType = RULE_VALUE_TYPES[String(variableValueType(model, v) ?? '')] ?? 'TEXT';
  return new re.RuleVariableJs(
    re.RuleVariableType.valueOf(known),
    str(v.name) ?? str(v.displayName) ?? '',
    v.useCodeForOptionSet === true,
    known === 'CALCULATED_VALUE' ? [] : optionsOf(re, model, fieldObject),
    field,
    re.RuleValueType.valueOf(valueType),
    refId(v.programStage) ?? null,
  );
}

/** RuleEngineContextJs for a program: its rules with all their actions, its variables and the constants. */
export function ruleEngineContext(re: Re, model: ProgramModel): InstanceType<Re['RuleEngineContextJs']> {
  const rules = model.rules.map((rule) => {
    const actions = (model.actionsByRule.get(String(rule.id)) ?? []).flatMap((a) => convertAction(re, a));
    const priority = typeof rule.priority === 'number' ? rule.priority : null;
    return new re.RuleJs(
      str(rule.condition) ?? '',
      actions,
      String(rule.id),
      str(rule.displayName) ?? str(rule.name) ?? null,
      refId(rule.programStage) ?? null,
      priority,
    );
  });
  const variables = model.variables.map((v) => convertVariable(re, model, v));
  const constants = new Map<string, string>();
  for (const c of model.constants) {
    const value = c.value === undefined || c.value === null ? undefined : String(c.value);
    if (value === undefined) continue;
    if (typeof c.id === 'string') constants.set(c.id, value);
    const name = str(c.displayName) ?? str(c.name);
    if (name) constants.set(name, value);
  }
  return new re.RuleEngineContextJs(rules, variables, new Map(), constants);
}
