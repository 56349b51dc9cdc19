/**
 * `check --init-tests <program>`: a commented example rule test file for a program, one case per program rule
 * action type the program uses, each taken from a real rule of the file (its condition shown as a comment),
 * for the user to fill in with values that make the condition true.
 */
import type { MetadataObject } from '../metadata/types.ts';
import type { ProgramModel } from './program-model.ts';
import { refId, ruleName, str } from './program-model.ts';

/** A YAML scalar, quoted when plain style would change its meaning. */
function y(value: string): string {
  return /^[A-Za-z][\w .()/-]*$/.test(value) &&
    !/^(true|false|null|yes|no|on|off)$/i.test(value) &&
    !/:\s|\s#/.test(value)
    ? value
    : JSON.stringify(value);
}

function nameOf(o: MetadataObject | undefined, fallback: string | undefined): string {
  return str(o?.name) ?? str(o?.displayName) ?? fallback ?? '?';
}

function target(model: ProgramModel, action: MetadataObject): string {
  const de = refId(action.dataElement);
  const attr = refId(action.trackedEntityAttribute);
  const parts: string[] = [`action: ${str(action.programRuleActionType)}`];
  if (de) parts.push(`field: ${y(nameOf(model.dataElements.get(de), de))}`);
  else if (attr) parts.push(`field: ${y(nameOf(model.attributes.get(attr), attr))}`);
  const section = refId(action.programStageSection);
  if (section) parts.push(`section: ${y(nameOf(model.sections.get(section), section))}`);
  const option = refId(action.option);
  if (option) parts.push(`option: ${y(str(model.options.get(option)?.code) ?? option)}`);
  const group = refId(action.optionGroup);
  if (group) parts.push(`optionGroup: ${y(nameOf(model.optionGroups.get(group), group))}`);
  const content = str(action.content);
  const type = str(action.programRuleActionType);
  if (content && type !== 'ASSIGN') parts.push(`content: ${y(content.slice(0, 40))}`);
  if (type === 'ASSIGN') parts.push('value: TODO');
  return `{${parts.join(', ')}}`;
}

export function exampleTests(model: ProgramModel): string {
  const lines = [
    `# Program rule tests for ${model.name} (${model.id}), run by \`dhis2-metadata check\`.`,
    '# Each case sets up what the user entered and lists the effects the rules must (expect) and must not',
    '# (forbid) have. Fields, stages, sections and options: uid, code or name. Dates: YYYY-MM-DD.',
    '# One example per rule action type this program uses; replace each TODO with values that make the',
    '# condition shown above the case true, and run `npx dhis2-metadata check`.',
    `program: ${model.id}`,
    'cases:',
  ];
  const seen = new Set<string>();
  const firstStage = model.stages[0];
  for (const rule of model.rules) {
    for (const action of model.actionsByRule.get(String(rule.id)) ?? []) {
      const type = str(action.programRuleActionType);
      if (!type || seen.has(type)) continue;
      seen.add(type);
      const stage = model.stageById.get(refId(rule.programStage) ?? '') ?? firstStage;
      lines.push(
        `  # ${type}: rule ${JSON.stringify(ruleName(rule))} (${String(rule.id)})`,
        `  # condition: ${(str(rule.condition) ?? '').replace(/\s*\n\s*/g, ' ')}`,
        `  - name: ${y(`${ruleName(rule)} (${type})`)}`,
      );
      if (stage) lines.push(`    stage: ${y(nameOf(stage, String(stage.id)))}`);
      if (model.withRegistration) {
        lines.push(
          '    enrollment:',
          '      enrollmentDate: 2024-01-10',
          '      incidentDate: 2024-01-10',
          '      attributes: {}            # TODO: attribute: value',
          '    events: []                  # earlier events: {stage: ..., date: ..., values: {...}}',
        );
      }
      lines.push(
        '    event:',
        '      date: 2024-01-10',
        '      values: {}                # TODO: data element: value',
        '    expect:',
        `      - ${target(model, action)}`,
      );
    }
  }
  if (seen.size === 0) lines.push('  # This program has no program rule actions yet.', '  []');
  return `${lines.join('\n')}\n`;
}
