/**
 * The rule engine's item store, built as the server builds it for its validation endpoints:
 * dhis2-core dhis-2/dhis-tracker/src/main/java/org/hisp/dhis/tracker/imports/programrule/engine/
 * DefaultProgramRuleEntityMapperService.java, `getItemStore(programRuleVariables, constants)`:
 *   - each program rule variable, keyed by its name, described by its data element's form name (else name),
 *     its attribute's name, or (a calculated value) its own name, typed by the value type (getItemValueType);
 *   - each constant, keyed by uid, typed NUMBER;
 *   - the environment variables (org.hisp.dhis.rules.api.EnvironmentVariables.ENV_VARIABLES of
 *     dhis2-rule-engine), keyed by name, described by the server's i18n label.
 * DefaultProgramRuleEngine.getDescription / getDataExpressionDescription pass it to RuleEngine.validate and
 * validateDataFieldExpression; ProgramRuleController and ProgramRuleActionController (`/condition/description`,
 * `/data/expression/description`) turn the result into the web message this product mirrors.
 */
import type { MetadataObject } from '../metadata/types.ts';
import type { RuleEngineModule } from './engines.ts';
import { type ProgramModel, refId, sourceType, str } from './program-model.ts';
import { keyTable } from '../util/own-keys.ts';

export type ItemType = 'NUMBER' | 'DATE' | 'TEXT' | 'BOOLEAN';

/** dhis2-core ValueType: DATE_TYPES, the numeric (integer and decimal) types, BOOLEAN_TYPES. */
export const DATE_TYPES: ReadonlySet<string> = new Set(['DATE', 'DATETIME', 'AGE']);
export const NUMERIC_TYPES: ReadonlySet<string> = new Set([
  'INTEGER',
  'INTEGER_POSITIVE',
  'INTEGER_NEGATIVE',
  'INTEGER_ZERO_OR_POSITIVE',
  'NUMBER',
  'UNIT_INTERVAL',
  'PERCENTAGE',
]);
const BOOLEAN_TYPES = new Set(['BOOLEAN', 'TRUE_ONLY']);

/** getItemValueType: date first, then numeric, then boolean, else text. */
export function itemValueType(valueType: unknown): ItemType {
  const v = String(valueType ?? '');
  if (DATE_TYPES.has(v)) return 'DATE';
  if (NUMERIC_TYPES.has(v)) return 'NUMBER';
  if (BOOLEAN_TYPES.has(v)) return 'BOOLEAN';
  return 'TEXT';
}

/** toMappedValueType: the RuleValueType of a variable (boolean, numeric, date, else text). */
export function ruleValueType(valueType: unknown): 'BOOLEAN' | 'NUMERIC' | 'DATE' | 'TEXT' {
  const v = String(valueType ?? '');
  if (BOOLEAN_TYPES.has(v)) return 'BOOLEAN';
  if (NUMERIC_TYPES.has(v)) return 'NUMERIC';
  if (DATE_TYPES.has(v)) return 'DATE';
  return 'TEXT';
}

/** EnvironmentVariables.ENV_VARIABLES (dhis2-rule-engine src/commonMain/.../rules/api/EnvironmentVariables.kt). */
export const ENV_VARIABLES: Readonly<Record<string, ItemType>> = keyTable({
  completed_date: 'DATE',
  current_date: 'DATE',
  event_date: 'DATE',
  incident_date: 'DATE',
  enrollment_date: 'DATE',
  due_date: 'DATE',
  event_count: 'NUMBER',
  tei_count: 'NUMBER',
  enrollment_count: 'NUMBER',
  event_id: 'NUMBER',
  program_stage_id: 'NUMBER',
  enrollment_id: 'NUMBER',
  enrollment_status: 'TEXT',
  event_status: 'TEXT',
  org_unit: 'TEXT',
  orgunit_code: 'TEXT',
  environment: 'TEXT',
  program_name: 'TEXT',
  program_stage_name: 'TEXT',
});

/**
 * The server describes environment variables with `i18n.getString(key)` (i18n_global.properties), which for
 * these keys is the key in sentence case ("event_date" -> "Event date", "program_stage_id" -> "Program stage
 * id", as the recorded 2.43.1 answers show).
 */
export function environmentLabel(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const DATA_ELEMENT_SOURCES = new Set([
  'DATAELEMENT_NEWEST_EVENT_PROGRAM_STAGE',
  'DATAELEMENT_NEWEST_EVENT_PROGRAM',
  'DATAELEMENT_CURRENT_EVENT',
  'DATAELEMENT_PREVIOUS_EVENT',
]);

export function isDataElementSource(type: string): boolean {
  return DATA_ELEMENT_SOURCES.has(type);
}

/** The data element or attribute a variable reads, when the file holds it. */
export function variableField(model: ProgramModel, variable: MetadataObject): MetadataObject | undefined {
  const type = sourceType(variable);
  if (isDataElementSource(type)) return model.dataElements.get(refId(variable.dataElement) ?? '');
  if (type === 'TEI_ATTRIBUTE') return model.attributes.get(refId(variable.trackedEntityAttribute) ?? '');
  return undefined;
}

/** The value type a variable has for the engine (its field's, or its own for a calculated value). */
export function variableValueType(model: ProgramModel, variable: MetadataObject): unknown {
  if (sourceType(variable) === 'CALCULATED_VALUE') return variable.valueType;
  return variableField(model, variable)?.valueType;
}

/** getDescription(prv): the name the description shows for a variable. */
function variableLabel(model: ProgramModel, variable: MetadataObject): string {
  const type = sourceType(variable);
  const field = variableField(model, variable);
  if (isDataElementSource(type)) {
    return str(field?.formName) || str(field?.name) || str(variable.name) || '';
  }
  if (type === 'TEI_ATTRIBUTE') return str(field?.name) || str(field?.formName) || str(variable.name) || '';
  return str(variable.displayName) ?? str(variable.name) ?? '';
}

export interface StoreItem {
  label: string;
  type: ItemType;
}

/** The item store as plain data (key -> label and type). */
export function itemStore(model: ProgramModel): Map<string, StoreItem> {
  const store = new Map<string, StoreItem>();
  for (const v of model.variables) {
    const key = str(v.name) ?? str(v.displayName);
    if (key === undefined) continue;
    store.set(key, { label: variableLabel(model, v), type: itemValueType(variableValueType(model, v)) });
  }
  for (const c of model.constants) {
    if (typeof c.id !== 'string') continue;
    store.set(c.id, { label: str(c.displayName) ?? str(c.displayFormName) ?? str(c.name) ?? c.id, type: 'NUMBER' });
  }
  for (const [key, type] of Object.entries(ENV_VARIABLES)) store.set(key, { label: environmentLabel(key), type });
  return store;
}

/** The same store as the engine's Map<string, DataItemJs>. */
export function engineItemStore(engine: RuleEngineModule, store: Map<string, StoreItem>): Map<string, EngineDataItem> {
  // rule-engine.d.ts declares DataItemJs twice (the expression parser's and the engine's); this is the engine's.
  const DataItem = engine.DataItemJs as unknown as new (displayName: string, valueType: unknown) => EngineDataItem;
  const map = new Map<string, EngineDataItem>();
  for (const [key, item] of store) map.set(key, new DataItem(item.label, engine.ItemValueType.valueOf(item.type)));
  return map;
}

/** The engine's DataItemJs (display name and value type), as validate() takes it. */
export type EngineDataItem =
  { readonly displayName: string } & Parameters<
    InstanceType<RuleEngineModule['RuleEngineJs']>['validate']
  >[1] extends Map<string, infer V>
    ? V
    : never;
