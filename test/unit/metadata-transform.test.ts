import { describe, expect, it } from 'vitest';
import {
  REMOVAL_GROUPS,
  type Preset,
  type ProgramKind,
  type Removals,
  type ResolvedTransform,
  type Target,
} from '../../src/config/types.ts';
import { REMOVAL_KEYS } from '../../src/metadata/keys.ts';
import { removalKeys, removeKeysDeep, transformExport } from '../../src/metadata/transform.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

const TB = 'who_TB-REG_TRACKER_V1_DHIS2.33.json';
const COVAC = 'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json';
const PROGRAM_PACKAGES = [
  TB,
  COVAC,
  'core_metadata_with_program_and_programrules.json',
  'core_e2e_tracker_metadata.json',
];

/** What a real dependency export carries on top of the packages' content (they were saved without it). */
function withStamps(doc: MetadataDocument): MetadataDocument {
  return {
    date: '2025-01-02T03:04:05.678',
    system: {
      id: 'eed3d451-4ff5-4193-b951-ffcc68954299',
      rev: 'a1b2c3d',
      version: '2.40.4',
      date: '2025-01-02T03:04:05.678',
    },
    ...doc,
  };
}

// The three presets as the reference app's selectPreset sets them (pca-reference.md), built by hand.
const ALL_OFF: Removals = {
  sharing: false,
  organisationUnits: false,
  userFields: false,
  dates: false,
  categories: false,
  legendSets: false,
};
const H2_ATTRIBUTES_TO_KEEP = ['haUflNqP85K', 'LP171jpctBm', 'yB5tFAAN7bI', 'DVzuBdj9kli', 'yhKEe6BLEer'];
const H2_DROP = [
  'date',
  'categories',
  'categoryCombos',
  'categoryOptionCombos',
  'categoryOptions',
  'trackedEntityTypes',
  'trackedEntityAttributes',
  'system',
];

function preset(kind: ProgramKind, target: Target, remove: Removals, dropObjects: string[], keep?: string[]): Preset {
  return {
    name: `${kind}-${target}`,
    kind,
    target,
    description: 'built by the test',
    remove,
    dropObjects,
    ...(keep ? { hnqis: { keepAttributes: keep } } : {}),
  };
}

function resolve(p: Preset, extra: Partial<Omit<ResolvedTransform, 'preset'>> = {}): ResolvedTransform {
  return {
    preset: p,
    removals: { ...p.remove },
    dropObjects: [...p.dropObjects],
    attributes: {},
    hnqis: p.hnqis,
    ...extra,
  };
}

const currentServer = preset('tracker', 'current-server', ALL_OFF, []);
const anotherServer = preset(
  'tracker',
  'another-server',
  { ...ALL_OFF, sharing: true, organisationUnits: true, dates: true, userFields: true },
  ['system'],
);
const hnqisEnabled = preset(
  'hnqis2',
  'hnqis2-enabled-server',
  { sharing: true, organisationUnits: true, userFields: true, dates: true, categories: true, legendSets: true },
  H2_DROP,
  H2_ATTRIBUTES_TO_KEEP,
);

/** How many times `key` occurs as a property name, at any depth. */
function countKey(value: unknown, key: string): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countKey(v, key), 0);
  if (typeof value !== 'object' || value === null) return 0;
  return Object.entries(value).reduce((n, [k, v]) => n + (k === key ? 1 : 0) + countKey(v, key), 0);
}

/** The reference app's removeKey (src/utils/Utils.jsx), mutating, as an independent oracle. */
function referenceRemoveKey(obj: unknown, key: string): void {
  if (typeof obj !== 'object' || obj === null) return;
  if (Array.isArray(obj)) obj.forEach((item) => referenceRemoveKey(item, key));
  else
    for (const k of Object.keys(obj)) {
      if (k === key) delete (obj as Record<string, unknown>)[k];
      else referenceRemoveKey((obj as Record<string, unknown>)[k], key);
    }
}

/** The reference app's downloadFile for a preset, on a copy (drop objects, HNQIS routine, global removals). */
function referenceExport(doc: MetadataDocument, p: Preset, removals: Removals = p.remove): MetadataDocument {
  const copy = JSON.parse(JSON.stringify(doc)) as MetadataDocument;
  for (const key of p.dropObjects) delete copy[key];
  if (p.hnqis) {
    const keep = p.hnqis.keepAttributes;
    if (Array.isArray(copy.attributes))
      copy.attributes = copy.attributes.filter((a: MetadataObject) => keep.includes(a.id!));
    for (const de of (copy.dataElements ?? []) as MetadataObject[]) {
      if (Array.isArray(de.attributeValues)) {
        de.attributeValues = de.attributeValues.filter((av: { attribute: { id: string } }) =>
          keep.includes(av.attribute.id),
        );
      }
    }
  }
  for (const group of REMOVAL_GROUPS)
    if (removals[group]) for (const key of REMOVAL_KEYS[group]) referenceRemoveKey(copy, key);
  return copy;
}

const keysOf = (removals: Removals): string[] =>
  REMOVAL_GROUPS.filter((g) => removals[g]).flatMap((g) => REMOVAL_KEYS[g]);

describe('transformExport: current-server', () => {
  it.each(PROGRAM_PACKAGES)('changes nothing and does not touch its input (%s)', (name) => {
    const doc = withStamps(fixture(name));
    const before = JSON.stringify(doc);
    const out = transformExport(doc, resolve(currentServer));
    expect(out).toEqual(doc);
    expect(JSON.stringify(doc)).toBe(before);
    // Copy on write: with nothing to change, the objects are the input's own (neither is mutated after; a
    // full copy here cost every rollback point a walk of the whole program).
    expect((out.programs as MetadataObject[])[0]).toBe((doc.programs as MetadataObject[])[0]);
  });
});

describe('transformExport: another-server', () => {
  it.each(PROGRAM_PACKAGES)(
    'removes sharing, org units, dates and user fields everywhere and drops system (%s)',
    (name) => {
      const doc = withStamps(fixture(name));
      const before = JSON.stringify(doc);
      const out = transformExport(doc, resolve(anotherServer));
      const removed = keysOf(anotherServer.remove);

      for (const key of removed) expect(countKey(out, key), key).toBe(0);
      expect(out).not.toHaveProperty('system');
      // Everything else stays: same top-level keys minus dropped and removed ones, same object counts.
      const expectedTop = Object.keys(doc).filter((k) => k !== 'system' && !removed.includes(k));
      expect(Object.keys(out).sort()).toEqual(expectedTop.sort());
      for (const key of expectedTop) {
        if (Array.isArray(doc[key])) expect((out[key] as unknown[]).length, key).toBe((doc[key] as unknown[]).length);
      }
      // Categories and legends are off in this preset.
      for (const key of [...REMOVAL_KEYS.categories, ...REMOVAL_KEYS.legendSets]) {
        expect(countKey(out, key), key).toBe(countKey(doc, key));
      }
      expect(out).toEqual(referenceExport(doc, anotherServer));
      expect(JSON.stringify(doc)).toBe(before);
    },
  );

  it('removes the legacy sharing keys the reference app leaves behind (TB package, DHIS2 2.33)', () => {
    const doc = fixture(TB);
    const legacy = ['publicAccess', 'externalAccess', 'userAccesses', 'userGroupAccesses'];
    for (const key of legacy) expect(countKey(doc, key), key).toBeGreaterThan(0);
    const out = transformExport(doc, resolve(anotherServer));
    for (const key of legacy) expect(countKey(out, key), key).toBe(0);
  });
});

describe('transformExport: hnqis2-enabled-server', () => {
  /** The HNQIS2 package as a program export: a program typed HNQIS2, and HNQIS 1.x attributes to cut. */
  function hnqisExport(): MetadataDocument {
    const pkg = fixture('psi_HNQIS2_Metadata_Package.json');
    const legacyAttributes = fixture(TB).attributes as MetadataObject[]; // not in H2_ATTRIBUTES_TO_KEEP
    const attributes = [...(pkg.attributes as MetadataObject[]), ...legacyAttributes];
    // Every data element gets a value of every attribute, but one has none (which the reference app chokes on).
    const dataElements = (pkg.dataElements as MetadataObject[]).map((de, i) => {
      const copy: MetadataObject = { ...de };
      if (i === 1) delete copy.attributeValues;
      else copy.attributeValues = attributes.map((a) => ({ attribute: { id: a.id }, value: `v-${a.id}` }));
      return copy;
    });
    return withStamps({
      ...pkg,
      attributes,
      dataElements,
      programs: [
        {
          id: 'Hq2PrgUid01',
          name: 'HNQIS2 checklist',
          categoryCombo: { id: 'bjDvmb4bfuf' },
          organisationUnits: [{ id: 'ImspTQPwCqd' }],
          sharing: { owner: 'M5zQapPyTZI', public: 'rw------', users: {}, userGroups: {} },
          attributeValues: [
            { attribute: { id: 'yB5tFAAN7bI' }, value: 'HNQIS2' },
            { attribute: { id: legacyAttributes[0]!.id }, value: 'kept: not a data element' },
          ],
        },
      ],
      categoryCombos: [{ id: 'bjDvmb4bfuf', name: 'default' }],
    });
  }

  it('drops the preset objects, cuts attributes, removes all six groups', () => {
    const doc = hnqisExport();
    const before = JSON.stringify(doc);
    const t = resolve(hnqisEnabled);
    const out = transformExport(doc, t);

    for (const key of H2_DROP) expect(out, key).not.toHaveProperty(key);
    for (const key of keysOf(hnqisEnabled.remove)) expect(countKey(out, key), key).toBe(0);

    const keptAttributeIds = (doc.attributes as MetadataObject[])
      .map((a) => a.id!)
      .filter((id) => H2_ATTRIBUTES_TO_KEEP.includes(id));
    expect(keptAttributeIds.length).toBeGreaterThan(0);
    expect(keptAttributeIds.length).toBeLessThan((doc.attributes as unknown[]).length);
    expect((out.attributes as MetadataObject[]).map((a) => a.id)).toEqual(keptAttributeIds);

    const outDes = out.dataElements as MetadataObject[];
    expect(outDes).toHaveLength((doc.dataElements as unknown[]).length);
    for (const [i, de] of outDes.entries()) {
      if (i === 1) {
        expect(de).not.toHaveProperty('attributeValues');
        continue;
      }
      expect((de.attributeValues as { attribute: { id: string } }[]).map((av) => av.attribute.id)).toEqual(
        keptAttributeIds,
      );
    }
    // Like the reference app, only data elements lose values: the program keeps its own.
    const program = (out.programs as MetadataObject[])[0]!;
    expect(program.attributeValues).toEqual((doc.programs as MetadataObject[])[0]!.attributeValues);

    // legendSets (a top-level collection here) goes with the legend removal, option sets stay.
    expect(out).not.toHaveProperty('legendSets');
    expect(out.optionSets).toHaveLength((doc.optionSets as unknown[]).length);
    expect(out.options).toHaveLength((doc.options as unknown[]).length);
    expect(out).toEqual(referenceExport(doc, hnqisEnabled));
    expect(JSON.stringify(doc)).toBe(before);
  });

  it('skips the routine without t.hnqis', () => {
    const doc = hnqisExport();
    const out = transformExport(doc, resolve(hnqisEnabled, { hnqis: undefined }));
    expect(out.attributes).toHaveLength((doc.attributes as unknown[]).length);
  });
});

describe('transformExport: config', () => {
  it('keeps only the selected objects, and preset drops still apply', () => {
    const doc = withStamps(fixture(TB));
    const objects = ['programs', 'programStages', 'dataElements', 'system', 'notAKeyOfThisExport'];
    const out = transformExport(doc, resolve(anotherServer, { objects }));
    expect(Object.keys(out).sort()).toEqual(['dataElements', 'programStages', 'programs']);
    for (const key of Object.keys(out)) expect((out[key] as unknown[]).length).toBe((doc[key] as unknown[]).length);
  });

  it('removes per-object attributes from that collection only, at the objects first level', () => {
    const doc = fixture(TB);
    const removedFromDes = ['aggregationLevels', 'zeroIsSignificant', 'aggregationType'];
    const out = transformExport(
      doc,
      resolve(currentServer, {
        attributes: { dataElements: removedFromDes, programs: ['translations'], nothingHere: ['x'] },
      }),
    );
    const des = doc.dataElements as MetadataObject[];
    for (const key of removedFromDes) {
      expect(
        des.some((de) => key in de),
        key,
      ).toBe(true);
      expect(countKey(out.dataElements, key), key).toBe(0);
    }
    // Other collections keep the same key (program indicators have an aggregationType too).
    expect(countKey(out.programIndicators, 'aggregationType')).toBe(countKey(doc.programIndicators, 'aggregationType'));
    expect(countKey(doc.programIndicators, 'aggregationType')).toBeGreaterThan(0);
    // programs lose their own translations, not those of the program attributes nested in them.
    const programs = out.programs as MetadataObject[];
    expect(programs.every((p) => !('translations' in p))).toBe(true);
    const nested = countKey(
      (doc.programs as MetadataObject[]).map((p) => p.programTrackedEntityAttributes),
      'translations',
    );
    expect(nested).toBeGreaterThan(0);
    expect(
      countKey(
        programs.map((p) => p.programTrackedEntityAttributes),
        'translations',
      ),
    ).toBe(nested);
    expect(des.length).toBe((out.dataElements as unknown[]).length);
  });

  it('follows the removals overridden by the config, not the preset defaults', () => {
    const doc = fixture(COVAC); // 2.38: both `sharing` and the legacy keys
    const removals: Removals = { ...anotherServer.remove, sharing: false, categories: true };
    const out = transformExport(doc, resolve(anotherServer, { removals }));
    // Sharing stays, except where removing the categories took it along (the categories collections have it).
    const withoutCategories = JSON.parse(JSON.stringify(doc)) as MetadataDocument;
    for (const key of REMOVAL_KEYS.categories) referenceRemoveKey(withoutCategories, key);
    for (const key of REMOVAL_KEYS.sharing) {
      expect(countKey(withoutCategories, key), key).toBeGreaterThan(0);
      expect(countKey(out, key), key).toBe(countKey(withoutCategories, key));
    }
    for (const key of REMOVAL_KEYS.categories) expect(countKey(out, key), key).toBe(0);
    expect(countKey(doc, 'categoryCombo')).toBeGreaterThan(0);
    expect(out).toEqual(referenceExport(doc, anotherServer, removals));
  });

  it('global removals win over the other steps', () => {
    const doc = withStamps(fixture(TB));
    const t = resolve(currentServer, {
      objects: ['programs', 'system'],
      attributes: { programs: ['name'] },
      removals: { ...ALL_OFF, dates: true },
    });
    const out = transformExport(doc, t);
    expect(out.system).toEqual({ id: expect.any(String), rev: 'a1b2c3d', version: '2.40.4' });
    expect(countKey(out, 'created') + countKey(out, 'lastUpdated') + countKey(out, 'date')).toBe(0);
  });
});

describe('removeKeysDeep', () => {
  it('removes at any depth, in arrays of arrays too, without mutating', () => {
    const input = { a: 1, sharing: {}, b: [{ sharing: 1, c: [[{ sharing: 2, d: 3 }]] }], e: { f: { sharing: null } } };
    const before = JSON.stringify(input);
    expect(removeKeysDeep(input, ['sharing'])).toEqual({ a: 1, b: [{ c: [[{ d: 3 }]] }], e: { f: {} } });
    expect(JSON.stringify(input)).toBe(before);
    expect(removeKeysDeep([1, 'x', null], new Set(['x']))).toEqual([1, 'x', null]);
  });

  it('keeps a "__proto__" key from server data as a plain key', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": {"b": 1, "c": 2}}') as Record<string, unknown>;
    const out = removeKeysDeep(input, ['b']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('removalKeys lists the keys of the groups switched on', () => {
    expect([...removalKeys({ removals: ALL_OFF })]).toEqual([]);
    expect([...removalKeys({ removals: { ...ALL_OFF, userFields: true, legendSets: true } })].sort()).toEqual(
      [...REMOVAL_KEYS.userFields, ...REMOVAL_KEYS.legendSets].sort(),
    );
  });
});
