/**
 * The parts of a metadata file that program rules and indicators use, for one program: its rules, their
 * actions, its rule variables, indicators, stages, sections, and the data elements, attributes, options,
 * option groups, notification templates and constants they may point at. Plain lookups, no engine.
 */
import { collection, type MetadataDocument, type MetadataObject } from '../metadata/types.ts';

export type Ref = { id?: string } | undefined;

export function refId(value: unknown): string | undefined {
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface ProgramModel {
  id: string;
  program?: MetadataObject;
  name: string;
  /** WITH_REGISTRATION (tracker) or WITHOUT_REGISTRATION (event program). */
  withRegistration: boolean;
  rules: MetadataObject[];
  /** Actions of each rule, by rule uid, in the rule's order. */
  actionsByRule: Map<string, MetadataObject[]>;
  /** Actions a rule lists but the file does not hold (uid only). */
  missingActions: { rule: MetadataObject; id: string }[];
  variables: MetadataObject[];
  indicators: MetadataObject[];
  stages: MetadataObject[];
  /** Every program stage of the file, whatever its program (the server looks a stage up by uid alone). */
  fileStages: Set<string>;
  stageById: Map<string, MetadataObject>;
  /** Data elements of the program's stages (programStageDataElements), by uid. */
  stageDataElements: Set<string>;
  dataElements: Map<string, MetadataObject>;
  /** Tracked entity attributes of the file, by uid; `programAttributes` are the program's own. */
  attributes: Map<string, MetadataObject>;
  programAttributes: Set<string>;
  sections: Map<string, MetadataObject>;
  options: Map<string, MetadataObject>;
  optionSets: Map<string, MetadataObject>;
  optionGroups: Map<string, MetadataObject>;
  notificationTemplates: Map<string, MetadataObject>;
  legendSets: Map<string, MetadataObject>;
  constants: MetadataObject[];
}

function byId(objects: MetadataObject[]): Map<string, MetadataObject> {
  const map = new Map<string, MetadataObject>();
  for (const o of objects) if (typeof o.id === 'string') map.set(o.id, o);
  return map;
}

/** Objects of `key` that belong to the program (their `program` reference), or all of them when none says. */
function ofProgram(doc: MetadataDocument, key: string, programId: string): MetadataObject[] {
  return collection(doc, key).filter((o) => {
    const p = refId(o.program);
    return p === undefined || p === programId;
  });
}

/** Reads one program's rule-related objects out of a metadata document. */
export function programModel(doc: MetadataDocument, programId: string): ProgramModel {
  const program = collection(doc, 'programs').find((p) => p.id === programId);
  const stages = collection(doc, 'programStages').filter((s) => {
    const p = refId(s.program);
    if (p !== undefined) return p === programId;
    const listed = Array.isArray(program?.programStages) ? (program.programStages as unknown[]) : [];
    return listed.some((r) => refId(r) === s.id);
  });
  const stageDataElements = new Set<string>();
  for (const s of stages) {
    const psdes = Array.isArray(s.programStageDataElements) ? (s.programStageDataElements as unknown[]) : [];
    for (const psde of psdes) {
      const de = refId((psde as { dataElement?: unknown }).dataElement);
      if (de) stageDataElements.add(de);
    }
  }
  const programAttributes = new Set<string>();
  const ptas = Array.isArray(program?.programTrackedEntityAttributes)
    ? (program.programTrackedEntityAttributes as unknown[])
    : [];
  for (const pta of ptas) {
    const a = refId((pta as { trackedEntityAttribute?: unknown }).trackedEntityAttribute);
    if (a) programAttributes.add(a);
  }

  // Actions are top-level objects in an export; older files embed them whole in their rule.
  const actionById = byId(collection(doc, 'programRuleActions'));
  const rules = ofProgram(doc, 'programRules', programId);
  for (const rule of rules) {
    for (const a of Array.isArray(rule.programRuleActions) ? (rule.programRuleActions as MetadataObject[]) : []) {
      if (a && typeof a.id === 'string' && Object.keys(a).length > 1 && !actionById.has(a.id)) actionById.set(a.id, a);
    }
  }
  const actionsByRule = new Map<string, MetadataObject[]>();
  const missingActions: { rule: MetadataObject; id: string }[] = [];
  const claimed = new Set<string>();
  for (const rule of rules) {
    const list: MetadataObject[] = [];
    for (const r of Array.isArray(rule.programRuleActions) ? (rule.programRuleActions as unknown[]) : []) {
      const id = refId(r);
      if (!id) continue;
      const action = actionById.get(id);
      if (action) {
        list.push(action);
        claimed.add(id);
      } else missingActions.push({ rule, id });
    }
    actionsByRule.set(String(rule.id), list);
  }
  // Actions that point at a rule of this program without being listed by it still belong to it.
  for (const action of actionById.values()) {
    const ruleId = refId(action.programRule);
    if (!ruleId || claimed.has(String(action.id))) continue;
    actionsByRule.get(ruleId)?.push(action);
  }

  const templates = byId(collection(doc, 'programNotificationTemplates'));
  return {
    id: programId,
    program,
    name: str(program?.name) ?? programId,
    withRegistration: program?.programType !== 'WITHOUT_REGISTRATION',
    rules,
    actionsByRule,
    missingActions,
    variables: ofProgram(doc, 'programRuleVariables', programId),
    indicators: ofProgram(doc, 'programIndicators', programId),
    stages,
    fileStages: new Set(collection(doc, 'programStages').map((s) => String(s.id))),
    stageById: byId(stages),
    stageDataElements,
    dataElements: byId(collection(doc, 'dataElements')),
    attributes: byId(collection(doc, 'trackedEntityAttributes')),
    programAttributes,
    sections: byId([
      ...collection(doc, 'programStageSections'),
      ...stages.flatMap((s) =>
        (Array.isArray(s.programStageSections) ? (s.programStageSections as MetadataObject[]) : []).filter(
          (x) => x && Object.keys(x).length > 1,
        ),
      ),
    ]),
    options: byId(collection(doc, 'options')),
    optionSets: byId(collection(doc, 'optionSets')),
    optionGroups: byId(collection(doc, 'optionGroups')),
    notificationTemplates: templates,
    legendSets: byId(collection(doc, 'legendSets')),
    constants: collection(doc, 'constants'),
  };
}

/** The source type of a rule variable (`programRuleVariableSourceType` in the API, `sourceType` in Java). */
export function sourceType(variable: MetadataObject): string {
  return str(variable.programRuleVariableSourceType) ?? str(variable.sourceType) ?? 'DATAELEMENT_CURRENT_EVENT';
}

export function ruleName(rule: MetadataObject | undefined): string {
  return str(rule?.name) ?? str(rule?.displayName) ?? String(rule?.id ?? '?');
}
