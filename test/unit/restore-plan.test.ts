import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESTORE_ELEMENTS, type RestoreElement, type RestoreOptions } from '../../src/config/types.ts';
import { UserError } from '../../src/errors.ts';
import { idOf, isRecord } from '../../src/metadata/json.ts';
import {
  buildRestorePlan,
  closeElements,
  ELEMENT_PARENTS,
  payloadIds,
  type ServerState,
} from '../../src/metadata/restore-plan.ts';
import { removeKeysDeep } from '../../src/metadata/transform.ts';
import { collection, type MetadataDocument, type MetadataObject } from '../../src/metadata/types.ts';

const FIXTURES = new URL('../fixtures/dhis2/', import.meta.url);
const cache = new Map<string, string>();
/** A fresh parse every time: tests may change their copy. */
const fixture = (name: string): MetadataDocument => {
  if (!cache.has(name)) cache.set(name, readFileSync(new URL(name, FIXTURES), 'utf8'));
  return JSON.parse(cache.get(name) as string) as MetadataDocument;
};

const TB = { file: 'who_TB-REG_TRACKER_V1_DHIS2.33.json', program: 'Lt6P15ps7f6' };
const COVAC = { file: 'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json', program: 'yDuAzyqYABS' };
// Several programs in one file, top-level programStageDataElements/programTrackedEntityAttributes.
const E2E = { file: 'core_e2e_tracker_metadata.json', program: 'f1AyMswryyQ' };
// Four programs; this one has rules, variables and actions.
const RULES = { file: 'core_metadata_with_program_and_programrules.json', program: 'uHi4GZJOD3n' };
const PROGRAMS = [TB, COVAC, E2E, RULES];

// The reference app's tree and payload keys (psi-org/Program-Config-App RestoreOptions.jsx), written out
// here independently of the module under test.
const SPEC_PARENT: Record<RestoreElement, RestoreElement | undefined> = {
  program: undefined,
  options: 'program',
  programIndicators: 'program',
  trackedEntityTypes: 'program',
  trackedEntityAttributes: 'program',
  programTrackedEntityAttributes: 'program',
  programStages: 'program',
  programStageSections: 'programStages',
  programStageDataElements: 'programStages',
  dataElements: 'programStageDataElements',
};
const SPEC_KEYS: Record<RestoreElement, string[]> = {
  program: ['programs', 'attributes'],
  options: ['optionSets', 'options'],
  programIndicators: ['programIndicators'],
  trackedEntityTypes: ['trackedEntityTypes'],
  trackedEntityAttributes: ['trackedEntityAttributes'],
  programTrackedEntityAttributes: ['programTrackedEntityAttributes'],
  programStages: ['programStages'],
  programStageSections: ['programStageSections'],
  programStageDataElements: ['programStageDataElements'],
  dataElements: ['dataElements', 'programRules', 'programRuleActions', 'programRuleVariables'],
};
// RestoreOptions.jsx hnqis_attributes, hnqis_elements, hnqis_tet_exception (Constants.jsx ids).
const SPEC_HNQIS = new Set([
  'nHg1hGgtJwm',
  'Xe5hUu6KkUT',
  'UlUYUyZJ6o9',
  'ulU9KKgSLYe',
  'nswci5V4j0d',
  'DIoqtxbSJIL',
  'F0Qcr8ANr7t',
  'pzWDtDUorBt',
  'VqBfZjZhKkU',
  'NAaHST5ZDTE',
  'oNwpeWkfoWc',
]);

const OPTIONS: RestoreOptions = {
  elements: [...RESTORE_ELEMENTS],
  organisationUnits: 'keep',
  sharing: 'keep',
  payload: 'changed',
};
const NO_SERVER: ServerState = { existing: new Map(), minor: 41 };

const ids = (objects: unknown): string[] =>
  (Array.isArray(objects) ? objects : []).map((o) => idOf(o)).filter((id): id is string => id !== undefined);
const sorted = (values: string[]): string[] => [...values].sort();

function specClosure(chosen: RestoreElement): Set<RestoreElement> {
  const out = new Set<RestoreElement>(['program']);
  for (let e: RestoreElement | undefined = chosen; e; e = SPEC_PARENT[e]) out.add(e);
  return out;
}

/** The ids the payload must hold under `key`, worked out from the file. */
function expectedIds(file: MetadataDocument, programId: string, key: string): string[] {
  const mine = (ref: unknown): boolean => idOf(ref) === undefined || idOf(ref) === programId;
  const stages = collection(file, 'programStages').filter((s) => mine(s.program));
  const stageIds = new Set(ids(stages));
  const rules = collection(file, 'programRules').filter((r) => mine(r.program));
  const ruleIds = new Set(ids(rules));
  const inSet = (set: Set<string>) => (ref: unknown) => idOf(ref) === undefined || set.has(idOf(ref) as string);
  const objects = collection(file, key);
  switch (key) {
    case 'programs':
      return [programId];
    case 'programStages':
      return ids(stages);
    case 'programStageSections':
    case 'programStageDataElements':
      return ids(objects.filter((o) => inSet(stageIds)(o.programStage)));
    case 'programRules':
      return ids(rules);
    case 'programRuleActions':
      return ids(objects.filter((o) => inSet(ruleIds)(o.programRule)));
    case 'programIndicators':
    case 'programRuleVariables':
    case 'programTrackedEntityAttributes':
      return ids(objects.filter((o) => mine(o.program)));
    default: {
      const all = ids(objects).filter((id) => !SPEC_HNQIS.has(id));
      if (collection(file, 'programs').length < 2) return all;
      // A file with several programs: only the shared objects this program reaches.
      const reached = reachable(file, programId, stages);
      return key in reached ? all.filter((id) => reached[key]!.has(id)) : all;
    }
  }
}

/** What one program of a multi-program file reaches, worked out from the file (the spec for keepReachable). */
function reachable(file: MetadataDocument, programId: string, stages: MetadataObject[]): Record<string, Set<string>> {
  const program = collection(file, 'programs').find((p) => idOf(p) === programId)!;
  const stageIds = new Set(ids(stages));
  const psdes = [
    ...stages.flatMap((st) => (st.programStageDataElements as MetadataObject[] | undefined) ?? []),
    ...collection(file, 'programStageDataElements').filter((p) => stageIds.has(idOf(p.programStage) ?? '')),
  ];
  const ptes = [
    ...((program.programTrackedEntityAttributes as MetadataObject[] | undefined) ?? []),
    ...collection(file, 'programTrackedEntityAttributes').filter((p) => idOf(p.program) === programId),
  ];
  const dataElements = new Set(psdes.map((p) => idOf(p.dataElement)).filter((x): x is string => !!x));
  const tet = collection(file, 'trackedEntityTypes').find((t) => idOf(t) === idOf(program.trackedEntityType));
  const tetas = (tet?.trackedEntityTypeAttributes as MetadataObject[] | undefined) ?? [];
  const attributes = new Set(
    [...ptes, ...tetas].map((p) => idOf(p.trackedEntityAttribute)).filter((x): x is string => !!x),
  );
  const users = [
    ...collection(file, 'dataElements').filter((d) => dataElements.has(idOf(d)!)),
    ...collection(file, 'trackedEntityAttributes').filter((a) => attributes.has(idOf(a)!)),
  ];
  const optionSets = new Set(
    users.flatMap((u) => [idOf(u.optionSet), idOf(u.commentOptionSet)]).filter((x): x is string => !!x),
  );
  const options = new Set(
    [
      ...collection(file, 'optionSets')
        .filter((o) => optionSets.has(idOf(o)!))
        .flatMap((o) => ((o.options as MetadataObject[] | undefined) ?? []).map((x) => idOf(x))),
      ...collection(file, 'options')
        .filter((o) => optionSets.has(idOf(o.optionSet) ?? ''))
        .map((o) => idOf(o)),
    ].filter((x): x is string => !!x),
  );
  const types = new Set([idOf(program.trackedEntityType)].filter((x): x is string => !!x));
  return { dataElements, trackedEntityAttributes: attributes, trackedEntityTypes: types, optionSets, options };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** All (collection, object) pairs of a document's top-level arrays. */
function objectsOf(doc: MetadataDocument): [string, MetadataObject][] {
  const out: [string, MetadataObject][] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (Array.isArray(value)) for (const obj of value) if (isRecord(obj)) out.push([key, obj]);
  }
  return out;
}

/** Walks every object at any depth. */
function everyNode(value: unknown, visit: (obj: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) value.forEach((v) => everyNode(v, visit));
  else if (isRecord(value)) {
    visit(value);
    Object.values(value).forEach((v) => everyNode(v, visit));
  }
}

const SHARING_KEYS = ['sharing', 'publicAccess', 'externalAccess', 'userAccesses', 'userGroupAccesses', 'user'];

describe('closeElements', () => {
  it('matches the tree for every single element', () => {
    for (const e of RESTORE_ELEMENTS) {
      const expected = RESTORE_ELEMENTS.filter((x) => specClosure(e).has(x));
      expect(closeElements([e])).toEqual(expected);
      expect(ELEMENT_PARENTS[e]).toBe(SPEC_PARENT[e]);
    }
  });

  it('always has program, keeps RESTORE_ELEMENTS order and no duplicates', () => {
    expect(closeElements([])).toEqual(['program']);
    const closed = closeElements(['dataElements', 'options', 'dataElements', 'programStageSections']);
    expect(closed).toEqual([
      'program',
      'options',
      'programStages',
      'programStageSections',
      'programStageDataElements',
      'dataElements',
    ]);
  });
});

describe('buildRestorePlan: payload per element', () => {
  for (const { file: name, program } of PROGRAMS) {
    it(`${name}: every element sends exactly its closure`, () => {
      const file = fixture(name);
      for (const element of RESTORE_ELEMENTS) {
        const closure = specClosure(element);
        const expectedKeys = RESTORE_ELEMENTS.filter((e) => closure.has(e))
          .flatMap((e) => SPEC_KEYS[e])
          .filter((key) => key === 'programs' || key === 'attributes' || expectedIds(file, program, key).length > 0);
        const plan = buildRestorePlan(file, program, { ...OPTIONS, elements: [element] }, NO_SERVER);
        expect(Object.keys(plan.payload).sort(), `${element}: keys`).toEqual([...expectedKeys].sort());
        for (const key of expectedKeys) {
          expect(sorted(ids(plan.payload[key])), `${element}: ${key}`).toEqual(sorted(expectedIds(file, program, key)));
        }
      }
    });
  }

  it('the fixtures exercise what they should (the test above is not vacuous)', () => {
    const all = (f: { file: string; program: string }) =>
      buildRestorePlan(fixture(f.file), f.program, OPTIONS, NO_SERVER).payload;
    const tb = all(TB);
    expect(ids(tb.programRules).length).toBeGreaterThan(200);
    expect(ids(tb.programStageSections).length).toBeGreaterThan(10);
    expect(ids(tb.optionSets).length).toBeGreaterThan(5);
    const e2e = fixture(E2E.file);
    const e2ePayload = all(E2E);
    // Other programs' stages and top-level PSDEs/PTEAs are in the file but not in the payload.
    expect(ids(e2ePayload.programStages).length).toBeLessThan(collection(e2e, 'programStages').length);
    expect(ids(e2ePayload.programStageDataElements).length).toBeGreaterThan(0);
    expect(ids(e2ePayload.programStageDataElements).length).toBeLessThan(
      collection(e2e, 'programStageDataElements').length,
    );
    expect(ids(e2ePayload.programTrackedEntityAttributes).length).toBeGreaterThan(0);
    const rules = all(RULES);
    expect(ids(rules.programRules)).toHaveLength(3);
    expect(ids(rules.programRuleActions)).toHaveLength(4);
    expect(all(E2E).programs).toHaveLength(1);
  });

  it('notes what belongs to other programs', () => {
    const plan = buildRestorePlan(fixture(E2E.file), E2E.program, OPTIONS, NO_SERVER);
    expect(plan.notes.join('\n')).toMatch(/other programs.*programStages/);
  });

  it('leaves out the HNQIS package objects, as the reference app does', () => {
    const file = fixture(TB.file);
    const hnqisDe = { ...collection(file, 'dataElements')[0], id: 'NAaHST5ZDTE' };
    const hnqisTea = { ...collection(file, 'trackedEntityAttributes')[0], id: 'ulU9KKgSLYe' };
    file.dataElements = [...collection(file, 'dataElements'), hnqisDe];
    file.trackedEntityAttributes = [...collection(file, 'trackedEntityAttributes'), hnqisTea];
    const plan = buildRestorePlan(file, TB.program, OPTIONS, NO_SERVER);
    expect(ids(plan.payload.dataElements)).not.toContain('NAaHST5ZDTE');
    expect(ids(plan.payload.trackedEntityAttributes)).not.toContain('ulU9KKgSLYe');
    expect(ids(plan.payload.dataElements)).toHaveLength(collection(file, 'dataElements').length - 1);
    expect(plan.notes.join('\n')).toMatch(/2 HNQIS package objects/);
  });

  it('a program the file does not have is a UserError naming what it has', () => {
    const run = () => buildRestorePlan(fixture(COVAC.file), 'abcdefghijk', OPTIONS, NO_SERVER);
    expect(run).toThrow(UserError);
    expect(run).toThrow(/abcdefghijk.*yDuAzyqYABS/);
  });

  it('never mutates its inputs', () => {
    const file = deepFreeze(fixture(E2E.file));
    const current = deepFreeze(serverCopy(fixture(E2E.file), E2E.program));
    const existing = new Map(objectsOf(current).map(([, o]) => [idOf(o) as string, o]));
    for (const minor of [40, 41]) {
      for (const organisationUnits of ['keep', 'overwrite'] as const) {
        for (const sharing of ['keep', 'overwrite'] as const) {
          for (const elements of [['program'], ['programStages'], [...RESTORE_ELEMENTS]] as RestoreElement[][]) {
            const plan = buildRestorePlan(
              file,
              E2E.program,
              { elements, organisationUnits, sharing, payload: 'changed' },
              { current, existing, minor },
            );
            // The result shares nothing with the inputs: changing it leaves them intact (they are frozen).
            everyNode(plan.payload, (o) => {
              o.touched = true;
            });
          }
        }
      }
    }
  });
});

/**
 * What the server has: the program's objects from the file with sharing, org units and the stages' and
 * program's lists changed, so that "the server's" is always told apart from "the file's".
 */
function serverCopy(file: MetadataDocument, programId: string): MetadataDocument {
  const payload = buildRestorePlan(file, programId, OPTIONS, { existing: new Map(), minor: 40 }).payload;
  const doc = structuredClone(payload);
  for (const [, obj] of objectsOf(doc)) {
    obj.sharing = {
      owner: 'srvOwner001',
      public: 'r-------',
      external: false,
      users: {},
      userGroups: { srvGroup001: { id: 'srvGroup001', access: 'rw------' } },
    };
  }
  const program = collection(doc, 'programs')[0] as MetadataObject;
  program.organisationUnits = [{ id: 'srvOrgUnit1' }, { id: 'srvOrgUnit2' }];
  return doc;
}

/** `existing` as a caller reads it: id and sharing of every payload object the server has. */
function existingFrom(server: MetadataDocument, wanted: Map<string, string>): Map<string, MetadataObject> {
  const out = new Map<string, MetadataObject>();
  for (const [, obj] of objectsOf(server)) {
    const id = idOf(obj) as string;
    if (wanted.has(id)) out.set(id, { id, sharing: obj.sharing });
  }
  return out;
}

describe('buildRestorePlan: organisation units', () => {
  const withUnits = () => fixture(E2E.file);
  const withoutUnits = () => removeKeysDeep(fixture(E2E.file), ['organisationUnits']);
  const fileUnits = () => ids(collection(withUnits(), 'programs').find((p) => p.id === E2E.program)?.organisationUnits);
  const plan = (file: MetadataDocument, mode: 'keep' | 'overwrite', onServer: boolean) => {
    const current = onServer ? serverCopy(fixture(E2E.file), E2E.program) : undefined;
    const server: ServerState = { current, existing: new Map(), minor: 41 };
    const p = buildRestorePlan(file, E2E.program, { ...OPTIONS, organisationUnits: mode }, server);
    return { units: (collection(p.payload, 'programs')[0] as MetadataObject).organisationUnits, notes: p.notes };
  };

  it('the fixture has units to tell apart', () => {
    expect(fileUnits().length).toBeGreaterThan(0);
    expect(fileUnits()).not.toContain('srvOrgUnit1');
  });

  it("keep: the server's, whether the file has them or not", () => {
    for (const file of [withUnits(), withoutUnits()]) {
      expect(ids(plan(file, 'keep', true).units)).toEqual(['srvOrgUnit1', 'srvOrgUnit2']);
    }
  });

  it('keep, program not on the server: none, with a note', () => {
    for (const file of [withUnits(), withoutUnits()]) {
      const { units, notes } = plan(file, 'keep', false);
      expect(units).toEqual([]);
      expect(notes.join('\n')).toMatch(/not on the server yet/);
    }
  });

  it("overwrite: the file's when it has them", () => {
    expect(ids(plan(withUnits(), 'overwrite', true).units)).toEqual(fileUnits());
    expect(ids(plan(withUnits(), 'overwrite', false).units)).toEqual(fileUnits());
  });

  it("overwrite with a file without units (missing or empty): the server's, with a note", () => {
    const empty = withUnits();
    (collection(empty, 'programs').find((p) => p.id === E2E.program) as MetadataObject).organisationUnits = [];
    for (const file of [withoutUnits(), empty]) {
      const { units, notes } = plan(file, 'overwrite', true);
      expect(ids(units)).toEqual(['srvOrgUnit1', 'srvOrgUnit2']);
      expect(notes.join('\n')).toMatch(/file has none.*unassign/);
    }
    expect(plan(withoutUnits(), 'overwrite', false).units).toEqual([]);
  });
});

describe('buildRestorePlan: sharing', () => {
  const withSharing = () => fixture(COVAC.file);
  const withoutSharing = () => removeKeysDeep(fixture(COVAC.file), SHARING_KEYS);

  /** The server has every other payload object (by position), with its own sharing. */
  function half(file: MetadataDocument, minor: number, elements: RestoreElement[] = [...RESTORE_ELEMENTS]) {
    const draft = buildRestorePlan(file, COVAC.program, { ...OPTIONS, elements }, { existing: new Map(), minor });
    const all = [...payloadIds(draft.payload)];
    const onServer = new Map(all.filter((_, i) => i % 2 === 0));
    const existing = existingFrom(serverCopy(fixture(COVAC.file), COVAC.program), onServer);
    return { existing, onServer, all };
  }

  const sharingById = (payload: MetadataDocument) =>
    new Map(objectsOf(payload).map(([, o]) => [idOf(o) as string, o.sharing]));

  it("keep: existing objects of every type get the server's sharing, new ones keep the file's", () => {
    const file = withSharing();
    const fileSharing = sharingById(file);
    const { existing, all } = half(file, 41);
    const plan = buildRestorePlan(file, COVAC.program, OPTIONS, { existing, minor: 41 });
    const got = sharingById(plan.payload);
    const types = new Set<string>();
    for (const [id, key] of all) {
      if (existing.has(id)) {
        expect(got.get(id), `${key} ${id}`).toEqual(existing.get(id)?.sharing);
        types.add(key);
      } else {
        expect(got.get(id), `${key} ${id}`).toEqual(fileSharing.get(id));
      }
    }
    // Not only the reference app's list: options, rules, sections... too.
    expect(types).toContain('options');
    expect(types).toContain('programRules');
    expect(plan.notes.join('\n')).toMatch(new RegExp(`kept the server's on ${existing.size} existing`));
  });

  it("overwrite with sharing in the file: the file's wherever it has some", () => {
    const file = withSharing();
    const fileSharing = sharingById(file);
    const { existing, all } = half(file, 41);
    const plan = buildRestorePlan(file, COVAC.program, { ...OPTIONS, sharing: 'overwrite' }, { existing, minor: 41 });
    const got = sharingById(plan.payload);
    let fromFile = 0;
    for (const [id, key] of all) {
      const own = fileSharing.get(id);
      if (isRecord(own) && typeof own.public === 'string') {
        fromFile++;
        expect(got.get(id), `${key} ${id}`).toEqual(own);
      } else {
        // Objects without sharing in the file (options, rules...): the server's where it has them.
        expect(got.get(id), `${key} ${id}`).toEqual(existing.get(id)?.sharing);
      }
    }
    expect(fromFile).toBeGreaterThan(50);
  });

  it("overwrite without sharing in the file: existing objects get the server's, new ones none", () => {
    const file = withoutSharing();
    const { existing, all } = half(file, 41);
    const plan = buildRestorePlan(file, COVAC.program, { ...OPTIONS, sharing: 'overwrite' }, { existing, minor: 41 });
    const got = sharingById(plan.payload);
    for (const [id] of all) expect(got.get(id)).toEqual(existing.get(id)?.sharing);
    expect(plan.notes.join('\n')).toMatch(/no sharing in the file and keep the server's.*reset/);
  });

  it('2.41+: no existing object is ever sent without sharing.public', () => {
    for (const file of [
      withSharing(),
      withoutSharing(),
      fixture(TB.file),
      removeKeysDeep(fixture(TB.file), SHARING_KEYS),
    ]) {
      const programId = collection(file, 'programs')[0]?.id as string;
      for (const element of RESTORE_ELEMENTS) {
        const draft = buildRestorePlan(file, programId, { ...OPTIONS, elements: [element] }, NO_SERVER);
        const wanted = payloadIds(draft.payload);
        const server = serverCopy(file, programId);
        const existing = existingFrom(server, wanted);
        for (const sharing of ['keep', 'overwrite'] as const) {
          for (const minor of [41, 42, 43]) {
            const plan = buildRestorePlan(
              file,
              programId,
              { ...OPTIONS, elements: [element], sharing },
              { existing, minor },
            );
            for (const [key, obj] of objectsOf(plan.payload)) {
              if (!existing.has(obj.id as string)) continue;
              expect(isRecord(obj.sharing) && typeof obj.sharing.public, `${key} ${obj.id}`).toBe('string');
            }
          }
        }
      }
    }
  });

  it("2.41+: legacy-only sharing (a 2.33 package) is converted for the objects that take the file's", () => {
    const file = fixture(TB.file);
    const program = collection(file, 'programs')[0] as MetadataObject;
    expect(program.sharing).toBeUndefined();
    expect(typeof program.publicAccess).toBe('string');
    const legacyDe = collection(file, 'dataElements').find(
      (d) => ids(d.userGroupAccesses).length > 0,
    ) as MetadataObject;
    const plan = buildRestorePlan(file, TB.program, { ...OPTIONS, sharing: 'overwrite' }, NO_SERVER);
    const sent = collection(plan.payload, 'programs')[0] as MetadataObject;
    expect(sent.sharing).toMatchObject({ public: program.publicAccess, owner: idOf(program.user) });
    const de = collection(plan.payload, 'dataElements').find((d) => d.id === legacyDe.id) as MetadataObject;
    const groups = (de.sharing as { userGroups: Record<string, { access: string }> }).userGroups;
    expect(Object.keys(groups).sort()).toEqual(ids(legacyDe.userGroupAccesses).sort());
    for (const uga of legacyDe.userGroupAccesses as { id: string; access: string }[]) {
      expect(groups[uga.id]?.access).toBe(uga.access);
    }
    expect(plan.notes.join('\n')).toMatch(/converted the legacy sharing/);
  });

  it('legacy sharing keys: removed at any depth from 2.41, kept before', () => {
    const legacy = (doc: MetadataDocument) => {
      let n = 0;
      everyNode(doc, (o) => {
        n += SHARING_KEYS.slice(1).filter((k) => k in o).length;
      });
      return n;
    };
    for (const name of [TB.file, COVAC.file]) {
      const file = fixture(name);
      const programId = collection(file, 'programs')[0]?.id as string;
      expect(legacy(buildRestorePlan(file, programId, OPTIONS, { existing: new Map(), minor: 41 }).payload)).toBe(0);
      const before = buildRestorePlan(file, programId, OPTIONS, { existing: new Map(), minor: 40 });
      expect(legacy(before.payload)).toBeGreaterThan(0);
    }
    // Before 2.41 a legacy-only file is sent as it is (the server reads the legacy keys).
    const tb = buildRestorePlan(fixture(TB.file), TB.program, OPTIONS, { existing: new Map(), minor: 40 });
    const program = collection(tb.payload, 'programs')[0] as MetadataObject;
    expect(program.sharing).toBeUndefined();
    expect(program.publicAccess).toBe('--------');
  });

  it("keep before 2.41: the file's legacy access keys do not survive next to the server's sharing", () => {
    const file = fixture(TB.file);
    const wanted = payloadIds(buildRestorePlan(file, TB.program, OPTIONS, NO_SERVER).payload);
    const existing = existingFrom(serverCopy(file, TB.program), wanted);
    const plan = buildRestorePlan(file, TB.program, OPTIONS, { existing, minor: 40 });
    let checked = 0;
    for (const [key, obj] of objectsOf(plan.payload)) {
      if (!existing.has(obj.id as string)) continue;
      checked++;
      expect(obj.sharing, `${key} ${obj.id}`).toEqual(existing.get(obj.id as string)?.sharing);
      for (const k of ['publicAccess', 'externalAccess', 'userAccesses', 'userGroupAccesses']) {
        expect(obj, `${key} ${obj.id}`).not.toHaveProperty(k);
      }
    }
    expect(checked).toBe(wanted.size);
  });
});

describe('buildRestorePlan: lists the parents carry', () => {
  const file = () => fixture(TB.file);
  /** The server's stages have one data element fewer; its program one attribute fewer. */
  function server(): MetadataDocument {
    const doc = serverCopy(file(), TB.program);
    for (const stage of collection(doc, 'programStages')) {
      (stage.programStageDataElements as unknown[]).pop();
      stage.programStageSections = [];
    }
    const program = collection(doc, 'programs')[0] as MetadataObject;
    (program.programTrackedEntityAttributes as unknown[]).shift();
    return doc;
  }
  const byId = (doc: MetadataDocument, key: string) => new Map(collection(doc, key).map((o) => [o.id as string, o]));

  it("stages without programStageDataElements and programStageSections keep the server's lists", () => {
    const current = server();
    const plan = buildRestorePlan(
      file(),
      TB.program,
      { ...OPTIONS, elements: ['programStages'] },
      {
        current,
        existing: new Map(),
        minor: 41,
      },
    );
    const serverStages = byId(current, 'programStages');
    const stages = collection(plan.payload, 'programStages');
    expect(stages.length).toBe(4);
    for (const stage of stages) {
      const srv = serverStages.get(stage.id as string) as MetadataObject;
      expect(ids(stage.programStageDataElements)).toEqual(ids(srv.programStageDataElements));
      expect(stage.programStageSections).toEqual([]);
    }
    expect(plan.notes.join('\n')).toMatch(/programStageDataElements not chosen: kept the server's/);
  });

  it("with programStageDataElements chosen the file's data elements go", () => {
    const plan = buildRestorePlan(
      file(),
      TB.program,
      { ...OPTIONS, elements: ['programStageDataElements'] },
      {
        current: server(),
        existing: new Map(),
        minor: 41,
      },
    );
    const fileStages = byId(file(), 'programStages');
    for (const stage of collection(plan.payload, 'programStages')) {
      expect(ids(stage.programStageDataElements)).toEqual(
        ids(fileStages.get(stage.id as string)?.programStageDataElements),
      );
    }
  });

  it("a stage new on the server takes the file's data elements, with a note", () => {
    const current = server();
    current.programStages = collection(current, 'programStages').slice(1);
    const newStage = collection(file(), 'programStages')[0] as MetadataObject;
    const plan = buildRestorePlan(
      file(),
      TB.program,
      { ...OPTIONS, elements: ['programStages'] },
      {
        current,
        existing: new Map(),
        minor: 41,
      },
    );
    const sent = collection(plan.payload, 'programStages').find((s) => s.id === newStage.id) as MetadataObject;
    expect(ids(sent.programStageDataElements)).toEqual(ids(newStage.programStageDataElements));
    expect(plan.notes.join('\n')).toMatch(new RegExp(`${newStage.id}.*not on the server yet`));
  });

  it("program tracked entity attributes and stage list: the server's unless chosen", () => {
    const current = server();
    const srvProgram = collection(current, 'programs')[0] as MetadataObject;
    const fileProgram = collection(file(), 'programs')[0] as MetadataObject;
    const only = buildRestorePlan(
      file(),
      TB.program,
      { ...OPTIONS, elements: ['program'] },
      {
        current,
        existing: new Map(),
        minor: 41,
      },
    );
    const p1 = collection(only.payload, 'programs')[0] as MetadataObject;
    expect(ids(p1.programTrackedEntityAttributes)).toEqual(ids(srvProgram.programTrackedEntityAttributes));
    expect(ids(p1.programTrackedEntityAttributes)).not.toEqual(ids(fileProgram.programTrackedEntityAttributes));
    const chosen = buildRestorePlan(
      file(),
      TB.program,
      { ...OPTIONS, elements: ['programTrackedEntityAttributes'] },
      {
        current,
        existing: new Map(),
        minor: 41,
      },
    );
    const p2 = collection(chosen.payload, 'programs')[0] as MetadataObject;
    expect(ids(p2.programTrackedEntityAttributes)).toEqual(ids(fileProgram.programTrackedEntityAttributes));
  });
});

describe('buildRestorePlan: stale program rules', () => {
  function setup() {
    const file = fixture(RULES.file);
    const current = fixture(RULES.file);
    // The server has one rule (with an action) and one variable more for this program, and rules of
    // another program (which must never be listed).
    current.programRules = [
      ...collection(current, 'programRules'),
      {
        id: 'srvRule0001',
        name: 'only on the server',
        program: { id: RULES.program },
        programRuleActions: [{ id: 'srvAction01' }],
      },
    ];
    current.programRuleActions = [
      ...collection(current, 'programRuleActions'),
      { id: 'srvAction01', programRule: { id: 'srvRule0001' }, programRuleActionType: 'HIDEFIELD' },
    ];
    current.programRuleVariables = [
      ...collection(current, 'programRuleVariables'),
      { id: 'srvVar00001', name: 'v', program: { id: RULES.program } },
    ];
    // The file lost one rule and its actions.
    const dropped = 'R4bFX7Q5oQa';
    const droppedActions = ids(collection(file, 'programRuleActions').filter((a) => idOf(a.programRule) === dropped));
    file.programRules = collection(file, 'programRules').filter((r) => r.id !== dropped);
    file.programRuleActions = collection(file, 'programRuleActions').filter((a) => idOf(a.programRule) !== dropped);
    return { file, current, dropped, droppedActions };
  }

  it('lists what the server has for the program and the payload does not', () => {
    const { file, current, dropped, droppedActions } = setup();
    expect(droppedActions.length).toBe(2);
    const plan = buildRestorePlan(file, RULES.program, OPTIONS, { current, existing: new Map(), minor: 41 });
    expect(plan.stale).toEqual({
      programRules: sorted(['srvRule0001', dropped]),
      programRuleVariables: ['srvVar00001'],
      programRuleActions: sorted(['srvAction01', ...droppedActions]),
    });
    expect(plan.notes.join('\n')).toMatch(/deletes them after a successful import/);
  });

  it('nothing without the dataElements element, or without the program on the server', () => {
    const { file, current } = setup();
    const none = { programRules: [], programRuleVariables: [], programRuleActions: [] };
    for (const element of RESTORE_ELEMENTS.filter((e) => e !== 'dataElements')) {
      const plan = buildRestorePlan(
        file,
        RULES.program,
        { ...OPTIONS, elements: [element] },
        {
          current,
          existing: new Map(),
          minor: 41,
        },
      );
      expect(plan.stale, element).toEqual(none);
    }
    expect(buildRestorePlan(file, RULES.program, OPTIONS, NO_SERVER).stale).toEqual(none);
  });

  it('an unchanged file leaves nothing stale', () => {
    const plan = buildRestorePlan(fixture(RULES.file), RULES.program, OPTIONS, {
      current: fixture(RULES.file),
      existing: new Map(),
      minor: 41,
    });
    expect(plan.stale).toEqual({ programRules: [], programRuleVariables: [], programRuleActions: [] });
  });
});

describe('payloadIds', () => {
  it('maps every top-level payload object to its collection', () => {
    const plan = buildRestorePlan(fixture(COVAC.file), COVAC.program, OPTIONS, NO_SERVER);
    const map = payloadIds(plan.payload);
    const expected = objectsOf(plan.payload).map(([key, o]) => [o.id, key]);
    expect([...map].sort()).toEqual(expected.sort());
    expect(map.get(COVAC.program)).toBe('programs');
  });
});

describe('buildRestorePlan: stale rules only for what the file speaks for', () => {
  it('a file without rule collections marks none of the server rules stale', () => {
    const file = fixture(RULES.file);
    const server = { current: file, existing: new Map(), minor: 41 };
    const withRules = buildRestorePlan(file, RULES.program, OPTIONS, server);
    expect(withRules.stale.programRules).toEqual([]);
    // Exported with `objects: [programs, programStages, dataElements]`: no rules in the file at all.
    const { programRules: _r, programRuleVariables: _v, programRuleActions: _a, ...withoutRules } = file;
    const plan = buildRestorePlan(withoutRules, RULES.program, OPTIONS, server);
    expect(plan.stale).toEqual({ programRules: [], programRuleVariables: [], programRuleActions: [] });
    // An empty collection does speak: every rule of the program on the server goes.
    const emptied = buildRestorePlan({ ...withoutRules, programRules: [] }, RULES.program, OPTIONS, server);
    expect(emptied.stale.programRules.length).toBe(
      collection(file, 'programRules').filter((r) => idOf(r.program) === RULES.program).length,
    );
  });
});

describe('buildRestorePlan: one program of a multi-program file, onto a server that has nothing', () => {
  // Independent of how the plan picks objects: every reference from the payload to an object the file
  // defines must be satisfied by the payload itself, or the import fails with E5002 on an empty server.
  const SHARED = ['dataElements', 'trackedEntityAttributes', 'trackedEntityTypes', 'optionSets', 'options'];
  for (const { file } of [E2E, RULES]) {
    const doc = fixture(file);
    for (const programId of ids(collection(doc, 'programs'))) {
      it(`${file} ${programId}: the payload sends every shared object it references`, () => {
        const plan = buildRestorePlan(doc, programId, OPTIONS, NO_SERVER);
        const defined = new Set(SHARED.flatMap((key) => ids(collection(doc, key))));
        const sent = new Set([...payloadIds(plan.payload).keys()]);
        const missing = new Set<string>();
        everyNode(plan.payload, (obj) => {
          for (const value of Object.values(obj)) {
            const refs = Array.isArray(value) ? value : [value];
            for (const ref of refs) {
              const id = idOf(ref);
              if (id && isRecord(ref) && Object.keys(ref).length === 1 && defined.has(id) && !sent.has(id))
                missing.add(id);
            }
          }
        });
        expect([...missing]).toEqual([]);
      });
    }
  }
});
