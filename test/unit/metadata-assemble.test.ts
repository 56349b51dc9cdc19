import { describe, expect, it } from 'vitest';
import { assembleExport, referencedLegendSetIds } from '../../src/metadata/assemble.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

const TB = 'who_TB-REG_TRACKER_V1_DHIS2.33.json';
const COVAC = 'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json';
const CORE = 'core_metadata_with_program_and_programrules.json';

const objects = (value: unknown): MetadataObject[] => value as MetadataObject[];
const ids = (value: unknown): string[] => objects(value).map((o) => o.id!);

/** The HNQIS package's legend sets (real ones), plus two more nobody references. */
function candidateLegendSets(): MetadataObject[] {
  const real = objects(fixture('psi_HNQIS2_Metadata_Package.json').legendSets);
  expect(real.length).toBeGreaterThanOrEqual(3);
  return [...real, { ...real[0]!, id: 'UnusedLgSt1' }, { ...real[1]!, id: 'UnusedLgSt2' }];
}

describe('assembleExport: legend sets', () => {
  it('keeps the legend sets referenced by data elements, program indicators and attributes', () => {
    const doc = fixture(TB);
    const candidates = candidateLegendSets();
    const [forDe, forPi, forTea] = candidates.map((ls) => ls.id!);
    // The package references no legend set: point one of each kind of object at one.
    objects(doc.dataElements)[3]!.legendSets = [{ id: forDe }];
    objects(doc.programIndicators)[7]!.legendSets = [{ id: forPi }];
    objects(doc.trackedEntityAttributes)[2]!.legendSets = [{ id: forTea }, { id: forDe }];
    const before = JSON.stringify(doc);

    const referenced = [forDe!, forPi!, forTea!].sort();
    expect(referencedLegendSetIds(doc)).toEqual(referenced);
    const out = assembleExport({ dependencyExport: doc, legendSets: candidates });
    expect(ids(out.legendSets).sort()).toEqual(referenced);
    // Whole legend sets, as fetched.
    expect(objects(out.legendSets).find((ls) => ls.id === forPi)).toEqual(candidates.find((ls) => ls.id === forPi));
    expect(JSON.stringify(doc)).toBe(before);
  });

  it('finds references at any depth and in the other shapes DHIS2 uses', () => {
    const doc: MetadataDocument = {
      programStages: [
        {
          id: 's',
          programStageDataElements: [{ id: 'psde', dataElement: { id: 'de', legendSets: [{ id: 'Nested00001' }] } }],
        },
      ],
      dataElements: [{ id: 'old', legendSet: { id: 'Single00001' } }],
      visualizations: [{ id: 'v', legend: { set: { id: 'VizLegend01' }, strategy: 'FIXED' } }],
      // A legend set never counts as referenced by itself.
      legendSets: [{ id: 'OwnOnly0001', legendSets: [{ id: 'SelfRef0001' }] }],
    };
    expect(referencedLegendSetIds(doc)).toEqual(['Nested00001', 'Single00001', 'VizLegend01']);
  });

  it('keeps what the export already had and adds only referenced, missing ones', () => {
    const candidates = candidateLegendSets();
    const [a, b] = candidates;
    const doc: MetadataDocument = {
      dataElements: [{ id: 'de', legendSets: [{ id: a!.id }, { id: b!.id }] }],
      legendSets: [
        { id: a!.id, name: 'the export’s own copy' },
        { id: 'NotRefd0001', name: 'kept: the server sent it' },
      ],
    };
    const out = assembleExport({ dependencyExport: doc, legendSets: candidates });
    expect(out.legendSets).toEqual([...objects(doc.legendSets), b]);
  });

  it('adds legendSets only when asked to, and then even empty', () => {
    const doc = fixture(CORE);
    expect(assembleExport({ dependencyExport: doc })).not.toHaveProperty('legendSets');
    expect(assembleExport({ dependencyExport: doc, legendSets: candidateLegendSets() }).legendSets).toEqual([]);
  });
});

describe('assembleExport: program rule actions', () => {
  it.each([TB, COVAC, CORE])('links every action to the rule that lists it (%s)', (name) => {
    const original = fixture(name);
    const ruleOf = new Map(
      objects(original.programRuleActions).map((a) => [a.id!, (a.programRule as MetadataObject).id]),
    );
    expect(ruleOf.size).toBeGreaterThan(0);
    // The server's export leaves the link out (that is why the reference app adds it).
    const doc = fixture(name);
    for (const action of objects(doc.programRuleActions)) delete action.programRule;
    const before = JSON.stringify(doc);

    const out = assembleExport({ dependencyExport: doc });
    const actions = objects(out.programRuleActions);
    expect(actions).toHaveLength(ruleOf.size);
    for (const action of actions) expect(action.programRule, action.id).toEqual({ id: ruleOf.get(action.id!) });
    expect(JSON.stringify(doc)).toBe(before);
  });

  it('keeps an existing link and writes no empty one', () => {
    const doc: MetadataDocument = {
      programRules: [{ id: 'rule1', programRuleActions: [{ id: 'act1' }, { id: 'act2' }] }],
      programRuleActions: [{ id: 'act1', programRule: { id: 'ruleElsewhere' } }, { id: 'act2' }, { id: 'orphan' }],
    };
    expect(assembleExport({ dependencyExport: doc }).programRuleActions).toEqual([
      { id: 'act1', programRule: { id: 'ruleElsewhere' } },
      { id: 'act2', programRule: { id: 'rule1' } },
      { id: 'orphan' },
    ]);
  });
});

describe('assembleExport: program sections and option arrays', () => {
  it('adds the fetched program sections the export lacks, without duplicates', () => {
    const doc = fixture(COVAC);
    const own = { id: 'PrgSect0001', name: 'from the dependency export', program: { id: 'p' } };
    doc.programSections = [own];
    const fetched = [
      { id: 'PrgSect0001', name: 'fetched copy', program: { id: 'p' } },
      { id: 'PrgSect0002', name: 'fetched only', program: { id: 'p' } },
      { id: 'PrgSect0002', name: 'fetched twice', program: { id: 'p' } },
    ];
    const out = assembleExport({ dependencyExport: doc, programSections: fetched });
    expect(out.programSections).toEqual([own, fetched[1]]);
  });

  it('takes the fetched sections when the export has none', () => {
    const doc = fixture(CORE);
    expect(doc).not.toHaveProperty('programSections');
    const fetched = [{ id: 'PrgSect0001', name: 'a' }];
    expect(assembleExport({ dependencyExport: doc, programSections: fetched }).programSections).toEqual(fetched);
    expect(assembleExport({ dependencyExport: doc })).not.toHaveProperty('programSections');
  });

  it('makes sure optionSets and options exist, and keeps them when present', () => {
    const core = fixture(CORE);
    expect(core).not.toHaveProperty('optionSets');
    expect(core).not.toHaveProperty('options');
    const out = assembleExport({ dependencyExport: core });
    expect(out.optionSets).toEqual([]);
    expect(out.options).toEqual([]);
    // Everything else is carried over as is.
    for (const key of Object.keys(core).filter((k) => k !== 'programRuleActions'))
      expect(out[key], key).toEqual(core[key]);

    const tb = fixture(TB);
    const outTb = assembleExport({ dependencyExport: tb });
    expect(outTb.optionSets).toEqual(tb.optionSets);
    expect(outTb.options).toEqual(tb.options);
  });
});

describe('assembleExport keeps program stage data elements and program TEAs once, embedded', () => {
  it('folds top-level copies into their owners, and moves the ones the owner lacks', () => {
    const doc = assembleExport({
      dependencyExport: {
        programs: [{ id: 'Prg00000001', programTrackedEntityAttributes: [{ id: 'Ptea0000001' }] }],
        programStages: [
          {
            id: 'Stage000001',
            program: { id: 'Prg00000001' },
            programStageDataElements: [{ id: 'Psde0000001', compulsory: true, programStage: { id: 'Stage000001' } }],
          },
        ],
        programStageDataElements: [
          { id: 'Psde0000001', compulsory: true, programStage: { id: 'Stage000001' } },
          { id: 'Psde0000002', compulsory: false, programStage: { id: 'Stage000001' } },
          { id: 'Psde0000003', programStage: { id: 'OtherStage1' } },
        ],
        programTrackedEntityAttributes: [{ id: 'Ptea0000001', program: { id: 'Prg00000001' }, mandatory: true }],
      },
    });
    const stage = (doc.programStages as { programStageDataElements: { id: string }[] }[])[0]!;
    expect(stage.programStageDataElements.map((p) => p.id)).toEqual(['Psde0000001', 'Psde0000002']);
    // Only the one whose stage is not in the document stays at the top level.
    expect((doc.programStageDataElements as { id: string }[]).map((p) => p.id)).toEqual(['Psde0000003']);
    // A bare embedded reference is replaced by the full object; the top-level collection disappears.
    const program = (doc.programs as { programTrackedEntityAttributes: unknown[] }[])[0]!;
    expect(program.programTrackedEntityAttributes).toEqual([
      { id: 'Ptea0000001', program: { id: 'Prg00000001' }, mandatory: true },
    ]);
    expect(doc.programTrackedEntityAttributes).toBeUndefined();
  });
});
