/**
 * Which changes of a plan touch collected data (src/data-impact/changes.ts), on the reconstruction of the WHO EPI
 * program the tracker data was recorded on (test/fixtures/made/epi_registry_program.json) with the COVAC
 * package's Sex attribute and option set.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataImpactItems, queryKey, type ImpactInputs } from '../../src/data-impact/changes.ts';
import { diffMetadata } from '../../src/metadata/diff.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';

const read = (p: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8')) as MetadataDocument;
const EPI = read('made/epi_registry_program.json');
const COVAC = read('dhis2/who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json');
const pick = (key: string, ids: string[]) =>
  (COVAC[key] as MetadataObject[]).filter((o) => ids.includes(o.id as string));

/** The program's dependency export as the server holds it. */
function serverExport(): MetadataDocument {
  const doc = structuredClone(EPI);
  doc.trackedEntityAttributes = [
    ...(doc.trackedEntityAttributes as MetadataObject[]),
    ...pick('trackedEntityAttributes', ['oindugucx72', 'NI0QRzJvQ0k', 'sB1IHYu2xQT']),
  ];
  doc.optionSets = [...(doc.optionSets as MetadataObject[]), ...pick('optionSets', ['WDUwjiW2rGH'])];
  doc.options = [...(doc.options as MetadataObject[]), ...pick('options', ['FKKrOBBFgs1', 'Ii4IxCLWEFn'])];
  return doc;
}

function inputs(edit: (doc: MetadataDocument) => void): ImpactInputs {
  const before = serverExport();
  const after = structuredClone(before);
  edit(after);
  const serverObjects = new Map<string, MetadataObject>();
  for (const v of Object.values(before)) {
    if (Array.isArray(v)) for (const o of v as MetadataObject[]) serverObjects.set(o.id as string, o);
  }
  return { programId: 'SSLpOM0r1U7', before, serverObjects, after, diff: diffMetadata(after, serverObjects, []) };
}

const byId = (doc: MetadataDocument, key: string, id: string) =>
  (doc[key] as MetadataObject[]).find((o) => o.id === id) as MetadataObject;

describe('dataImpactItems', () => {
  it('a change that touches no collected data asks nothing', () => {
    expect(dataImpactItems(inputs((d) => (byId(d, 'dataElements', 'LtlzGAPWWo8').formName = 'Type of birth')))).toEqual(
      [],
    );
    expect(dataImpactItems(inputs(() => {}))).toEqual([]);
  });

  it('an option removed from its set: events of each stage holding a data element using the set, with its code', () => {
    const items = dataImpactItems(
      inputs((d) => {
        const set = byId(d, 'optionSets', 'jumQ0TEDlf4');
        set.options = (set.options as { id: string }[]).filter((o) => o.id !== 'FjhEVKfGdT2');
      }),
    );
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      change: 'option-removed',
      object: { id: 'jumQ0TEDlf4', name: 'GEN - Birth type', collection: 'optionSets' },
      field: 'options',
      query: {
        kind: 'events',
        program: 'SSLpOM0r1U7',
        programStage: { id: 'RcbCl5ww8XY', name: 'Birth details' },
        element: { id: 'LtlzGAPWWo8', collection: 'dataElements' },
        codes: ['TWIN'],
      },
      at: { uid: 'jumQ0TEDlf4', property: 'options' },
    });
  });

  it("an option's code changed: the old code, annotated on the option's code", () => {
    const items = dataImpactItems(inputs((d) => (byId(d, 'options', 'FjhEVKfGdT2').code = 'TWINS')));
    expect(items.map((i) => [i.change, i.query.codes, i.detail.newCodes, i.at])).toEqual([
      ['option-code-changed', ['TWIN'], ['TWINS'], { uid: 'FjhEVKfGdT2', property: 'code' }],
    ]);
  });

  it('two codes swapped lose nothing; a code moved to a new option loses nothing', () => {
    expect(
      dataImpactItems(
        inputs((d) => {
          byId(d, 'options', 'FjhEVKfGdT2').code = 'SINGLETON';
          byId(d, 'options', 'b5jZMQObDDM').code = 'TWIN';
        }),
      ),
    ).toEqual([]);
  });

  it("the Sex attribute's option FEMALE recoded: tracked entities of the program", () => {
    const items = dataImpactItems(inputs((d) => (byId(d, 'options', 'FKKrOBBFgs1').code = 'F')));
    expect(items.map((i) => [i.query.kind, i.query.element.id, i.query.codes])).toEqual([
      ['trackedEntities', 'oindugucx72', ['FEMALE']],
    ]);
  });

  it("a data element's valueType or option set: every event with a value, per stage", () => {
    const vt = dataImpactItems(
      inputs((d) => {
        const de = byId(d, 'dataElements', 'LtlzGAPWWo8');
        de.valueType = 'NUMBER';
        delete de.optionSet;
      }),
    );
    expect(vt.map((i) => [i.change, i.field, i.query.codes, i.detail])).toEqual([
      [
        'value-type-changed',
        'valueType, optionSet',
        undefined,
        { oldValueType: 'TEXT', newValueType: 'NUMBER', oldOptionSet: { id: 'jumQ0TEDlf4', name: 'GEN - Birth type' } },
      ],
    ]);
    const os = dataImpactItems(
      inputs((d) => (byId(d, 'dataElements', 'TqpOoast0vQ').optionSet = { id: 'jumQ0TEDlf4' })),
    );
    expect(os.map((i) => [i.change, i.query.element.id, i.detail.newOptionSet?.id])).toEqual([
      ['option-set-changed', 'TqpOoast0vQ', 'jumQ0TEDlf4'],
    ]);
  });

  it('a valueType that keeps every value valid (INTEGER_POSITIVE to NUMBER, TEXT to LONG_TEXT) asks nothing', () => {
    const widen = (to: string) => (d: MetadataDocument) => (byId(d, 'dataElements', 'TqpOoast0vQ').valueType = to);
    expect(dataImpactItems(inputs(widen('NUMBER')))).toEqual([]);
    expect(dataImpactItems(inputs(widen('INTEGER')))).toEqual([]);
    expect(dataImpactItems(inputs(widen('TEXT'))).map((i) => i.change)).toEqual(['value-type-changed']);
    expect(dataImpactItems(inputs((d) => (byId(d, 'dataElements', 'j8VMtbYo9Mq').valueType = 'LONG_TEXT')))).toEqual(
      [],
    );
  });

  it('stage data elements given as bare references are read from the top-level copies', () => {
    const i = inputs((d) => {
      const s = byId(d, 'programStages', 'RcbCl5ww8XY');
      s.programStageDataElements = (s.programStageDataElements as MetadataObject[]).filter(
        (p) => (p.dataElement as { id: string }).id !== 'LtlzGAPWWo8',
      );
    });
    // The server's stage embeds bare {id}s; its stage data elements are listed at the top level (2.41 exports).
    const stage = byId(i.before!, 'programStages', 'RcbCl5ww8XY');
    i.before!.programStageDataElements = stage.programStageDataElements;
    stage.programStageDataElements = (stage.programStageDataElements as MetadataObject[]).map((p) => ({ id: p.id }));
    expect(dataImpactItems(i).map((x) => [x.change, x.query.element.id])).toEqual([
      ['removed-from-stage', 'LtlzGAPWWo8'],
    ]);
  });

  it('a data element removed from its stage; an attribute removed from the program', () => {
    const stage = dataImpactItems(
      inputs((d) => {
        const s = byId(d, 'programStages', 'RcbCl5ww8XY');
        s.programStageDataElements = (s.programStageDataElements as MetadataObject[]).filter(
          (p) => (p.dataElement as { id: string }).id !== 'LtlzGAPWWo8',
        );
      }),
    );
    expect(
      stage.map((i) => [i.change, i.object.id, i.query.programStage?.id, i.query.element.id, i.query.codes]),
    ).toEqual([['removed-from-stage', 'RcbCl5ww8XY', 'RcbCl5ww8XY', 'LtlzGAPWWo8', undefined]]);
    const program = dataImpactItems(
      inputs((d) => {
        const p = byId(d, 'programs', 'SSLpOM0r1U7');
        p.programTrackedEntityAttributes = (p.programTrackedEntityAttributes as MetadataObject[]).filter(
          (a) => (a.trackedEntityAttribute as { id: string }).id !== 'oindugucx72',
        );
      }),
    );
    expect(program.map((i) => [i.change, i.query.kind, i.query.element.id])).toEqual([
      ['removed-from-program', 'trackedEntities', 'oindugucx72'],
    ]);
  });

  it('an event program asks no tracked entity question; a new program none at all', () => {
    const i = inputs((d) => {
      byId(d, 'options', 'FKKrOBBFgs1').code = 'F';
    });
    const program = byId(i.before!, 'programs', 'SSLpOM0r1U7');
    program.programType = 'WITHOUT_REGISTRATION';
    delete program.trackedEntityType;
    expect(dataImpactItems(i)).toEqual([]);
    expect(
      dataImpactItems({ ...inputs((d) => (byId(d, 'options', 'FjhEVKfGdT2').code = 'X')), before: undefined }),
    ).toEqual([]);
  });

  it('the same question from two changes has one key', () => {
    const items = dataImpactItems(
      inputs((d) => {
        byId(d, 'dataElements', 'LtlzGAPWWo8').valueType = 'NUMBER';
        const s = byId(d, 'programStages', 'RcbCl5ww8XY');
        s.programStageDataElements = (s.programStageDataElements as MetadataObject[]).filter(
          (p) => (p.dataElement as { id: string }).id !== 'LtlzGAPWWo8',
        );
      }),
    );
    expect(items).toHaveLength(2);
    expect(new Set(items.map((x) => queryKey(x.query))).size).toBe(1);
  });
});

describe('a value type that names an Object.prototype member', () => {
  // A file (or a server) can carry any text as a valueType; the widening table must read it as unknown.
  it('is an unknown type: the change is counted, nothing crashes', () => {
    const before = serverExport();
    byId(before, 'dataElements', 'LtlzGAPWWo8').valueType = 'constructor';
    const after = structuredClone(before);
    byId(after, 'dataElements', 'LtlzGAPWWo8').valueType = 'NUMBER';
    const serverObjects = new Map<string, MetadataObject>();
    for (const v of Object.values(before)) {
      if (Array.isArray(v)) for (const o of v as MetadataObject[]) serverObjects.set(o.id as string, o);
    }
    const items = dataImpactItems({
      programId: 'SSLpOM0r1U7',
      before,
      serverObjects,
      after,
      diff: diffMetadata(after, serverObjects, []),
    });
    expect(items.map((i) => [i.change, i.detail])).toContainEqual([
      'value-type-changed',
      { oldValueType: 'constructor', newValueType: 'NUMBER' },
    ]);
  });
});
