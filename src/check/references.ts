/**
 * References among the file's objects that the rules and indicators depend on: a rule variable's data element,
 * attribute and stage; an action's field, section, stage, option, option group and notification template; an
 * indicator's `#{stage.de}`, `A{attr}`, `C{const}` (and `V{var}`, which the expression parser already checks).
 * A reference to an object that is not in the file is an error: the import would fail (E5002) or the rule
 * would silently do nothing.
 */
import type { MetadataObject } from '../metadata/types.ts';
import type { Engines } from './engines.ts';
import { isDataElementSource } from './item-store.ts';
import { stageElements, surelyParses } from './indicator-semantics.ts';
import { indicatorTree, parseIndicatorExpression } from './validate-expressions.ts';
import { type ProgramModel, refId, sourceType, str } from './program-model.ts';

export interface ReferenceProblem {
  objectType: 'programRule' | 'programRuleAction' | 'programRuleVariable' | 'programIndicator';
  /** uid of the object holding the reference. */
  id: string;
  /** The key holding the reference (annotated). */
  key: string;
  message: string;
  /** The rule concerned (rules and actions). */
  rule?: string;
  /** Already broken before the change (check/baseline.ts); set when judged. */
  existing?: boolean;
}

function label(o: MetadataObject | undefined): string {
  return `"${str(o?.name) ?? str(o?.displayName) ?? String(o?.id ?? '?')}"`;
}

export function checkReferences(engines: Engines, model: ProgramModel): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const stageIds = new Set(model.stages.map((s) => String(s.id)));

  for (const v of model.variables) {
    const id = String(v.id);
    const type = sourceType(v);
    const where = `rule variable ${label(v)}`;
    if (isDataElementSource(type)) {
      const de = refId(v.dataElement);
      if (!de) {
        problems.push({
          objectType: 'programRuleVariable',
          id,
          key: 'programRuleVariableSourceType',
          message: `${where} (${type}) has no data element`,
        });
      } else if (!model.dataElements.has(de)) {
        problems.push({
          objectType: 'programRuleVariable',
          id,
          key: 'dataElement',
          message: `${where} reads data element ${de}, which is not in the file`,
        });
      }
    }
    if (type === 'TEI_ATTRIBUTE') {
      const a = refId(v.trackedEntityAttribute);
      if (!a) {
        problems.push({
          objectType: 'programRuleVariable',
          id,
          key: 'programRuleVariableSourceType',
          message: `${where} (TEI_ATTRIBUTE) has no tracked entity attribute`,
        });
      } else if (!model.attributes.has(a)) {
        problems.push({
          objectType: 'programRuleVariable',
          id,
          key: 'trackedEntityAttribute',
          message: `${where} reads tracked entity attribute ${a}, which is not in the file`,
        });
      }
    }
    const stage = refId(v.programStage);
    if (type === 'DATAELEMENT_NEWEST_EVENT_PROGRAM_STAGE' && !stage) {
      problems.push({
        objectType: 'programRuleVariable',
        id,
        key: 'programRuleVariableSourceType',
        message: `${where} (${type}) has no program stage`,
      });
    } else if (stage && !stageIds.has(stage)) {
      problems.push({
        objectType: 'programRuleVariable',
        id,
        key: 'programStage',
        message: `${where} names program stage ${stage}, which is not a stage of the program in the file`,
      });
    }
  }

  for (const rule of model.rules) {
    const id = String(rule.id);
    const stage = refId(rule.programStage);
    if (stage && !stageIds.has(stage)) {
      problems.push({
        objectType: 'programRule',
        id,
        key: 'programStage',
        rule: id,
        message: `program stage ${stage} is not a stage of the program in the file`,
      });
    }
    for (const action of model.actionsByRule.get(id) ?? []) checkAction(model, rule, action, stageIds, problems);
  }
  for (const { rule, id } of model.missingActions) {
    problems.push({
      objectType: 'programRule',
      id: String(rule.id),
      key: 'programRuleActions',
      rule: String(rule.id),
      message: `action ${id} is not in the file`,
    });
  }

  for (const indicator of model.indicators) {
    const id = String(indicator.id);
    for (const key of ['expression', 'filter'] as const) {
      const text = str(indicator[key]);
      if (!text?.trim()) continue;
      // #{stage.de} items. A stage, data element, attribute or constant missing from the file makes the
      // expression itself invalid, as DHIS2 says ("Program stage X not found": indicator-semantics.ts). What
      // the server accepts but cannot count is a stage of another program: the indicator is computed over this
      // program's events only.
      const pairs = stageElementsOf(engines, text);
      for (const [stageId, deId] of pairs ?? []) {
        if (stageId !== '*' && model.fileStages.has(stageId) && !stageIds.has(stageId)) {
          problems.push({
            objectType: 'programIndicator',
            id,
            key,
            message: `#{${stageId}.${deId}}: program stage ${stageId} is not a stage of the program in the file`,
          });
        }
      }
    }
  }
  return problems;
}

/** The [stage, data element] items of an indicator text; undefined when it does not parse (its verdict says so). */
function stageElementsOf(engines: Engines, text: string): [string, string][] | undefined {
  const tree = indicatorTree(text);
  if (tree !== undefined && surelyParses(tree)) return stageElements(tree);
  try {
    const { DataItemType } = engines.expressions;
    return parseIndicatorExpression(engines, text)
      .collectDataItems()
      .filter((item) => item.type === DataItemType.DATA_ELEMENT && item.uid1[0] !== undefined)
      .map((item) => [item.uid0.value, (item.uid1[0] as { value: string }).value]);
  } catch {
    return undefined; // a syntax error is reported as the expression's verdict
  }
}

function checkAction(
  model: ProgramModel,
  rule: MetadataObject,
  action: MetadataObject,
  stageIds: Set<string>,
  problems: ReferenceProblem[],
): void {
  const id = String(action.id);
  const ruleId = String(rule.id);
  const type = str(action.programRuleActionType) ?? '?';
  const push = (key: string, message: string) =>
    problems.push({ objectType: 'programRuleAction', id, key, rule: ruleId, message: `${type} action: ${message}` });
  const de = refId(action.dataElement);
  if (de && !model.dataElements.has(de)) push('dataElement', `data element ${de} is not in the file`);
  const attr = refId(action.trackedEntityAttribute);
  if (attr && !model.attributes.has(attr))
    push('trackedEntityAttribute', `tracked entity attribute ${attr} is not in the file`);
  const section = refId(action.programStageSection);
  if (section && !model.sections.has(section))
    push('programStageSection', `program stage section ${section} is not in the file`);
  const stage = refId(action.programStage);
  if (stage && !stageIds.has(stage))
    push('programStage', `program stage ${stage} is not a stage of the program in the file`);
  const option = refId(action.option);
  if (option && !model.options.has(option)) push('option', `option ${option} is not in the file`);
  const group = refId(action.optionGroup);
  if (group && !model.optionGroups.has(group)) push('optionGroup', `option group ${group} is not in the file`);
  const templateKey = action.templateUid !== undefined ? 'templateUid' : 'programNotificationTemplate';
  const template = str(action.templateUid) ?? refId(action.programNotificationTemplate);
  if (template && !model.notificationTemplates.has(template))
    push(templateKey, `notification template ${template} is not in the file`);

  const legendSet = refId(action.legendSet);
  if (legendSet && !model.legendSets.has(legendSet)) push('legendSet', `legend set ${legendSet} is not in the file`);

  // What each action type needs, as the import validates it: dhis2-core's programRuleActionValidatorMap
  // (dhis-service-program-rule ServiceConfig) names one validator per type, in programrule/action/validation/.
  // BaseProgramRuleActionValidator (HIDEFIELD, SETMANDATORYFIELD, CREATEEVENT; the option group validators call
  // it first): a data element or attribute (E4044), the data element on a stage of the program (E4047), the
  // attribute one of the program's (E4048). AssignProgramRuleActionValidator: a data element, attribute or
  // content (E4050). The Capture app skips an action without what it needs, too.
  const needsField = [
    'ASSIGN',
    'HIDEFIELD',
    'SETMANDATORYFIELD',
    'CREATEEVENT',
    'HIDEOPTION',
    'HIDEOPTIONGROUP',
    'SHOWOPTIONGROUP',
  ];
  if (needsField.includes(type) && !de && !attr && !(type === 'ASSIGN' && str(action.content))) {
    push('programRuleActionType', 'names no data element or attribute');
  }
  const base = ['HIDEFIELD', 'SETMANDATORYFIELD', 'CREATEEVENT', 'HIDEOPTIONGROUP', 'SHOWOPTIONGROUP'];
  if (base.includes(type) && de && model.dataElements.has(de) && !model.stageDataElements.has(de)) {
    push('dataElement', `data element ${de} is on no stage of the program (the import refuses it: E4047)`);
  } else if (base.includes(type) && !de && attr && model.attributes.has(attr) && !model.programAttributes.has(attr)) {
    push(
      'trackedEntityAttribute',
      `tracked entity attribute ${attr} is not an attribute of the program (the import refuses it: E4048)`,
    );
  }
  if (type === 'HIDESECTION' && !section) push('programRuleActionType', 'names no program stage section');
  if (type === 'HIDEOPTION' && !option) push('programRuleActionType', 'names no option');
  if ((type === 'HIDEOPTIONGROUP' || type === 'SHOWOPTIONGROUP') && !group)
    push('programRuleActionType', 'names no option group');
  if ((type === 'SENDMESSAGE' || type === 'SCHEDULEMESSAGE') && !template)
    push('programRuleActionType', 'names no notification template');
  if (type === 'HIDEPROGRAMSTAGE' && !stage) push('programRuleActionType', 'names no program stage');
  // ScheduleEventProgramRuleActionValidator (2.43): a stage (E4038) of this program (E4084, reported above as
  // a stage not of the program), in a program with registration (E4083).
  if (type === 'SCHEDULEEVENT') {
    if (!stage) push('programRuleActionType', 'names no program stage to schedule (the import refuses it: E4038)');
    if (!model.withRegistration)
      push(
        'programRuleActionType',
        'schedules an event in a program without registration (the import refuses it: E4083)',
      );
  }
}
