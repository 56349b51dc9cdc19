import { beforeAll, describe, expect, it } from 'vitest';
import { loadEngines, type Engines } from '../../src/check/engines.ts';
import { programModel } from '../../src/check/program-model.ts';
import { checkReferences } from '../../src/check/references.ts';
import { validateProgramExpressions } from '../../src/check/validate-expressions.ts';
import { diffMetadata } from '../../src/metadata/diff.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';

/**
 * Program rule actions as DHIS2 2.43 validates them on import (dhis2-core dhis-service-program-rule ServiceConfig
 * programRuleActionValidatorMap and the validators in programrule/action/validation/): SCHEDULEEVENT
 * (ScheduleEventProgramRuleActionValidator: E4038, E4083, E4084), the data element or attribute of HIDEFIELD-like
 * actions (BaseProgramRuleActionValidator: E4047, E4048); the action's `legendSet`; every action type's data
 * validated as an expression; and the diff showing 2.43's action fields `priority` and `legendSet`.
 */
let engines: Engines;
beforeAll(async () => {
  engines = await loadEngines();
}, 60_000);

const PROGRAM = 'PrgTracker1';
const STAGE = 'StageOne001';
const OTHER_STAGE = 'StageOther1';

function doc(actions: MetadataObject[], programType = 'WITH_REGISTRATION'): MetadataDocument {
  return {
    programs: [
      {
        id: PROGRAM,
        name: 'Tracker',
        programType,
        programStages: [{ id: STAGE }],
        programTrackedEntityAttributes: [{ trackedEntityAttribute: { id: 'AttrInProg1' } }],
      },
      { id: 'PrgOther001', name: 'Other', programType, programStages: [{ id: OTHER_STAGE }] },
    ],
    programStages: [
      {
        id: STAGE,
        name: 'One',
        program: { id: PROGRAM },
        programStageDataElements: [{ dataElement: { id: 'DeOnStage01' } }],
      },
      { id: OTHER_STAGE, name: 'Other', program: { id: 'PrgOther001' }, programStageDataElements: [] },
    ],
    dataElements: [
      { id: 'DeOnStage01', name: 'On stage', valueType: 'TEXT' },
      { id: 'DeNoStage01', name: 'On no stage', valueType: 'TEXT' },
    ],
    trackedEntityAttributes: [
      { id: 'AttrInProg1', name: 'In program', valueType: 'TEXT' },
      { id: 'AttrNotIn01', name: 'Not in program', valueType: 'TEXT' },
    ],
    legendSets: [{ id: 'LegendSet01', name: 'Legend' }],
    programRules: [
      {
        id: 'RuleOne0001',
        name: 'Rule',
        program: { id: PROGRAM },
        condition: 'true',
        programRuleActions: actions.map((a) => ({ id: a.id })),
      },
    ],
    programRuleActions: actions.map((a) => ({ programRule: { id: 'RuleOne0001' }, ...a })),
  };
}

const problems = (d: MetadataDocument) => checkReferences(engines, programModel(d, PROGRAM)).map((p) => p.message);

describe('rule actions as the 2.43 import validates them', () => {
  it('SCHEDULEEVENT needs a stage of this program, in a program with registration', () => {
    expect(
      problems(
        doc([
          {
            id: 'ActSched001',
            programRuleActionType: 'SCHEDULEEVENT',
            programStage: { id: STAGE },
            data: 'V{current_date}',
          },
        ]),
      ),
    ).toEqual([]);
    expect(
      problems(doc([{ id: 'ActSched001', programRuleActionType: 'SCHEDULEEVENT', data: 'V{current_date}' }])),
    ).toEqual(['SCHEDULEEVENT action: names no program stage to schedule (the import refuses it: E4038)']);
    expect(
      problems(doc([{ id: 'ActSched001', programRuleActionType: 'SCHEDULEEVENT', programStage: { id: OTHER_STAGE } }])),
    ).toEqual([`SCHEDULEEVENT action: program stage ${OTHER_STAGE} is not a stage of the program in the file`]);
    expect(
      problems(
        doc(
          [{ id: 'ActSched001', programRuleActionType: 'SCHEDULEEVENT', programStage: { id: STAGE } }],
          'WITHOUT_REGISTRATION',
        ),
      ),
    ).toEqual([
      'SCHEDULEEVENT action: schedules an event in a program without registration (the import refuses it: E4083)',
    ]);
  });

  it('HIDEFIELD of a data element on no stage of the program (E4047), of an attribute not of the program (E4048)', () => {
    expect(
      problems(doc([{ id: 'ActHide0001', programRuleActionType: 'HIDEFIELD', dataElement: { id: 'DeOnStage01' } }])),
    ).toEqual([]);
    expect(
      problems(doc([{ id: 'ActHide0001', programRuleActionType: 'HIDEFIELD', dataElement: { id: 'DeNoStage01' } }])),
    ).toEqual([
      'HIDEFIELD action: data element DeNoStage01 is on no stage of the program (the import refuses it: E4047)',
    ]);
    expect(
      problems(
        doc([
          {
            id: 'ActHide0001',
            programRuleActionType: 'SETMANDATORYFIELD',
            trackedEntityAttribute: { id: 'AttrNotIn01' },
          },
        ]),
      ),
    ).toEqual([
      'SETMANDATORYFIELD action: tracked entity attribute AttrNotIn01 is not an attribute of the program (the import refuses it: E4048)',
    ]);
    // DISPLAYTEXT is AlwaysValidProgramRuleActionValidator: no field needed.
    expect(problems(doc([{ id: 'ActText0001', programRuleActionType: 'DISPLAYTEXT', content: 'x' }]))).toEqual([]);
  });

  it("an action's legendSet (2.43) must be in the file", () => {
    expect(
      problems(doc([{ id: 'ActText0001', programRuleActionType: 'DISPLAYTEXT', legendSet: { id: 'LegendSet01' } }])),
    ).toEqual([]);
    expect(
      problems(doc([{ id: 'ActText0001', programRuleActionType: 'DISPLAYTEXT', legendSet: { id: 'LegendNone1' } }])),
    ).toEqual(['DISPLAYTEXT action: legend set LegendNone1 is not in the file']);
  });

  it('the data of every action type is validated: SENDMESSAGE, SCHEDULEMESSAGE, SCHEDULEEVENT, HIDEFIELD', () => {
    const types = ['SENDMESSAGE', 'SCHEDULEMESSAGE', 'SCHEDULEEVENT', 'HIDEFIELD'];
    const d = doc(
      types.map((t, i) => ({
        id: `ActData000${i}`,
        programRuleActionType: t,
        data: i % 2 ? 'V{current_date}' : 'd2:addDays(V{current_date}',
      })),
    );
    const verdicts = validateProgramExpressions(engines, programModel(d, PROGRAM)).filter(
      (v) => v.type === 'programRuleActionData',
    );
    expect(verdicts.map((v) => [v.actionType, v.valid])).toEqual([
      ['SENDMESSAGE', false],
      ['SCHEDULEMESSAGE', true],
      ['SCHEDULEEVENT', false],
      ['HIDEFIELD', true],
    ]);
  });
});

describe("the diff knows 2.43's action fields", () => {
  it('a changed priority and legendSet are shown as changes of the action', () => {
    const server = {
      id: 'ActText0001',
      programRuleActionType: 'DISPLAYTEXT',
      priority: 1,
      legendSet: { id: 'LegendSet01' },
    };
    const payload = { programRuleActions: [{ ...server, priority: 2, legendSet: { id: 'LegendSet02' } }] };
    const diff = diffMetadata(payload, new Map([[server.id, server]]), []);
    const fields = diff.collections.flatMap((c) => c.changed).flatMap((o) => o.fields.map((f) => f.path));
    expect(fields.sort()).toEqual(['legendSet.id', 'priority']);
  });
});
