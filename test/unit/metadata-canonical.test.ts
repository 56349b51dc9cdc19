import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalize,
  canonicalJson,
  fingerprint,
  sameContent,
  withoutVolatile,
} from '../../src/metadata/canonical.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

const TB = 'who_TB-REG_TRACKER_V1_DHIS2.33.json';
const COVAC = 'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json';
const ALL = [
  TB,
  COVAC,
  'core_metadata_with_program_and_programrules.json',
  'core_e2e_tracker_metadata.json',
  'psi_HNQIS2_Metadata_Package.json',
];

const STAMPS = {
  date: '2025-01-02T03:04:05.678',
  system: {
    id: 'eed3d451-4ff5-4193-b951-ffcc68954299',
    rev: 'a1b2c3d',
    version: '2.40.4',
    date: '2025-01-02T03:04:05.678',
  },
};

/** Deterministic PRNG (mulberry32), so a failing shuffle can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Arrays DHIS2 returns in database order, which a second export may return in another order. */
const UNORDERED = new Set([
  'attributeValues',
  'translations',
  'userAccesses',
  'userGroupAccesses',
  'organisationUnits',
  'programRuleActions',
  'notificationTemplates',
  'legends',
  'favorites',
]);

/**
 * The same document as another export might return it: every object's keys in another order, every
 * top-level collection and every unordered array reshuffled. Ordered arrays keep their order.
 */
function reshuffle(doc: MetadataDocument, seed: number): MetadataDocument {
  const rnd = random(seed);
  const visit = (value: unknown, key: string, top: boolean): unknown => {
    if (Array.isArray(value)) {
      const items = value.map((v) => visit(v, key, false));
      return top || UNORDERED.has(key) ? shuffled(items, rnd) : items;
    }
    if (typeof value !== 'object' || value === null) return value;
    const entries = shuffled(Object.entries(value), rnd).map(([k, v]) => [k, visit(v, k, false)] as const);
    return Object.fromEntries(entries);
  };
  return Object.fromEntries(shuffled(Object.entries(doc), rnd).map(([k, v]) => [k, visit(v, k, true)]));
}

/** Every primitive (and empty container) with its path, array positions left out: a multiset of the content. */
function contentMultiset(value: unknown, path = ''): string[] {
  if (Array.isArray(value))
    return value.length ? value.flatMap((v) => contentMultiset(v, `${path}[]`)) : [`${path}=[]`];
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    return entries.length ? entries.flatMap(([k, v]) => contentMultiset(v, `${path}.${k}`)) : [`${path}={}`];
  }
  return [`${path}=${JSON.stringify(value)}`];
}

const ids = (objects: unknown): string[] => (objects as MetadataObject[]).map((o) => o.id!);

describe('canonicalJson', () => {
  it.each(ALL)('is idempotent, 2-space indented, newline-terminated, and adds or loses nothing (%s)', (name) => {
    const doc = fixture(name);
    const text = canonicalJson(doc);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toMatch(/^ {2}"/);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
    expect(contentMultiset(JSON.parse(text)).sort()).toEqual(contentMultiset(doc).sort());
  });

  it.each(ALL)('does not depend on key order or on the order of unordered arrays (%s)', (name) => {
    const doc = fixture(name);
    const text = canonicalJson(doc);
    for (const seed of [1, 2, 3]) {
      const other = reshuffle(doc, seed);
      expect(JSON.stringify(other)).not.toBe(JSON.stringify(doc));
      expect(canonicalJson(other)).toBe(text);
    }
  });

  it('sorts every top-level collection by id and object keys alphabetically', () => {
    const doc = fixture(TB);
    const out = JSON.parse(canonicalJson(doc)) as MetadataDocument;
    const collections = Object.keys(doc).filter((k) => Array.isArray(doc[k]));
    expect(collections.length).toBeGreaterThan(10);
    for (const key of collections) {
      expect(ids(out[key]), key).toEqual([...ids(doc[key])].sort());
    }
    expect(Object.keys(out)).toEqual(Object.keys(doc).sort());
    const de = (out.dataElements as MetadataObject[])[0]!;
    expect(Object.keys(de)).toEqual(Object.keys(de).sort());
  });

  it('keeps ordered arrays in their order', () => {
    const doc = fixture(TB);
    const out = JSON.parse(canonicalJson(reshuffle(doc, 7))) as MetadataDocument;
    const byId = (objects: unknown) => new Map((objects as MetadataObject[]).map((o) => [o.id!, o]));
    const stagesOut = byId(out.programStages);
    for (const stage of doc.programStages as MetadataObject[]) {
      const psdes = ids(stage.programStageDataElements);
      expect(psdes.length).toBeGreaterThan(1);
      expect(ids(stagesOut.get(stage.id!)!.programStageDataElements)).toEqual(psdes);
    }
    const programOut = byId(out.programs).get((doc.programs as MetadataObject[])[0]!.id!)!;
    const programIn = (doc.programs as MetadataObject[])[0]!;
    expect(ids(programOut.programTrackedEntityAttributes)).toEqual(ids(programIn.programTrackedEntityAttributes));
    expect(ids(programOut.programStages)).toEqual(ids(programIn.programStages));
    const optionSetsOut = byId(out.optionSets);
    for (const os of doc.optionSets as MetadataObject[]) {
      expect(ids(optionSetsOut.get(os.id!)!.options)).toEqual(ids(os.options));
    }
    const sectionsOut = byId(out.programStageSections);
    for (const section of doc.programStageSections as MetadataObject[]) {
      expect(ids(sectionsOut.get(section.id!)!.dataElements)).toEqual(ids(section.dataElements));
    }
  });

  it('sorts the unordered arrays by their natural key', () => {
    const doc = fixture(TB);
    const out = JSON.parse(canonicalJson(doc)) as MetadataDocument;
    const key = (t: { locale: string; property: string }) => `${t.locale}\u0000${t.property}`;
    for (const de of out.dataElements as MetadataObject[]) {
      const tr = (de.translations as { locale: string; property: string }[]).map(key);
      expect(tr).toEqual([...tr].sort());
      const uga = ids(de.userGroupAccesses);
      expect(uga).toEqual([...uga].sort());
    }
    const rules = out.programRules as MetadataObject[];
    expect(rules.some((r) => (r.programRuleActions as unknown[]).length > 1)).toBe(true);
    for (const rule of rules) expect(ids(rule.programRuleActions)).toEqual([...ids(rule.programRuleActions)].sort());

    const pkg = JSON.parse(canonicalJson(fixture('psi_HNQIS2_Metadata_Package.json'))) as MetadataDocument;
    for (const ls of pkg.legendSets as MetadataObject[]) {
      const starts = (ls.legends as { startValue: number }[]).map((l) => l.startValue);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
  });

  it('sorts program org units but keeps an analytical object’s org units in order', () => {
    const ous = [{ id: 'zzzzzzzzzz1' }, { id: 'aaaaaaaaaa1' }, { id: 'mmmmmmmmmm1' }];
    const doc = {
      programs: [{ id: 'p', organisationUnits: ous }],
      visualizations: [{ id: 'v', organisationUnits: ous }],
    };
    const out = JSON.parse(canonicalJson(doc)) as MetadataDocument;
    expect(ids((out.programs as MetadataObject[])[0]!.organisationUnits)).toEqual(ids(ous).sort());
    expect(ids((out.visualizations as MetadataObject[])[0]!.organisationUnits)).toEqual(ids(ous));
  });

  it('sorts a combo’s category options but keeps a category’s', () => {
    const options = [{ id: 'b' }, { id: 'a' }];
    const doc = {
      categories: [{ id: 'c', categoryOptions: options }],
      categoryOptionCombos: [{ id: 'x', categoryOptions: options }],
    };
    const out = JSON.parse(canonicalJson(doc)) as MetadataDocument;
    expect(ids((out.categories as MetadataObject[])[0]!.categoryOptions)).toEqual(['b', 'a']);
    expect(ids((out.categoryOptionCombos as MetadataObject[])[0]!.categoryOptions)).toEqual(['a', 'b']);
  });

  it('turns one changed field into exactly one changed line', () => {
    const doc = fixture(TB);
    const before = canonicalJson(doc).split('\n');
    const changed = JSON.parse(JSON.stringify(doc)) as MetadataDocument;
    const des = changed.dataElements as MetadataObject[];
    const de = des[Math.floor(des.length / 2)]!;
    de.name = `${String(de.name)} (renamed)`;
    const after = canonicalJson(changed).split('\n');
    expect(after).toHaveLength(before.length);
    const diff = after.map((line, i) => (line === before[i] ? -1 : i)).filter((i) => i >= 0);
    expect(diff).toHaveLength(1);
    expect(after[diff[0]!]).toContain('(renamed)');

    // A nested flag deep in a program stage: one line again.
    const stage = (changed.programStages as MetadataObject[])[0]!;
    const psde = (stage.programStageDataElements as MetadataObject[])[3]!;
    psde.compulsory = !psde.compulsory;
    const after2 = canonicalJson(changed).split('\n');
    expect(after2.filter((line, i) => line !== after[i])).toEqual([
      expect.stringMatching(/"compulsory": (true|false),$/),
    ]);
  });

  it('does not change its input', () => {
    const doc = fixture(COVAC);
    const before = JSON.stringify(doc);
    canonicalJson(doc);
    canonicalize(doc);
    expect(JSON.stringify(doc)).toBe(before);
  });
});

describe('withoutVolatile and sameContent', () => {
  it('withoutVolatile drops date, system.rev and system.date only', () => {
    const doc = { ...STAMPS, programs: [{ id: 'p', created: '2020-01-01' }] };
    const before = JSON.stringify(doc);
    expect(withoutVolatile(doc)).toEqual({
      system: { id: STAMPS.system.id, version: '2.40.4' },
      programs: [{ id: 'p', created: '2020-01-01' }],
    });
    expect(JSON.stringify(doc)).toBe(before);
    expect(withoutVolatile({ programs: [] })).toEqual({ programs: [] });
  });

  it('ignores stamps, key order and database order; sees any real change', () => {
    const doc = { ...STAMPS, ...fixture(TB) };
    const laterSystem = { ...STAMPS.system, rev: 'fffffff', date: '2025-06-07T08:09:10.111' };
    const later: MetadataDocument = { ...reshuffle(doc, 11), date: '2025-06-07T08:09:10.111', system: laterSystem };
    expect(sameContent(doc, later)).toBe(true);
    expect(sameContent(canonicalJson(doc), later)).toBe(true);
    expect(sameContent(JSON.stringify(later), canonicalJson(doc))).toBe(true);

    expect(sameContent(doc, { ...later, system: { ...laterSystem, version: '2.41.0' } })).toBe(false);
    const edited = JSON.parse(JSON.stringify(later)) as MetadataDocument;
    (edited.programRules as MetadataObject[])[5]!.condition = 'true';
    expect(sameContent(doc, edited)).toBe(false);
    const fewer = { ...later, options: (later.options as unknown[]).slice(1) };
    expect(sameContent(doc, fewer)).toBe(false);
  });

  it('is never the same as something that is not a JSON object', () => {
    const text = canonicalJson(fixture('core_e2e_tracker_metadata.json'));
    expect(sameContent(text, text)).toBe(true);
    expect(sameContent(text, text.slice(0, -3))).toBe(false);
    expect(sameContent('not json', 'not json')).toBe(false);
    expect(sameContent('[]', '[]')).toBe(false);
    expect(sameContent('', text)).toBe(false);
  });
});

describe('fingerprint', () => {
  it('is the sha256 of the canonical text, stable across export order, and changes with the content', () => {
    const doc = fixture(COVAC);
    const fp = fingerprint(doc);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).toBe(createHash('sha256').update(canonicalJson(doc)).digest('hex'));
    expect(fingerprint(reshuffle(doc, 5))).toBe(fp);
    const changed = { ...doc, options: (doc.options as unknown[]).slice(0, -1) };
    expect(fingerprint(changed)).not.toBe(fp);
  });
});
