/**
 * The diff's fast path (sameAsIs) settles an object as unchanged without normalising it. It must never
 * hide a change: whenever it says "same", normalising both sides and comparing them finds no field either.
 * Checked on every object of the real packages against variants of itself that a server export or a
 * file can really differ by (stamps, empty values, default category refs, sets in another order, references
 * with a name added, nested sharing) and against real changes.
 */
import { describe, expect, it } from 'vitest';
import { fieldChanges, sameAsIs, VOLATILE_KEYS } from '../../src/metadata/diff.ts';
import { isRecord } from '../../src/metadata/json.ts';
import type { MetadataObject } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

const PACKAGES = [
  'who_TB-REG_TRACKER_V1_DHIS2.33.json',
  'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json',
  'psi_HNQIS2_Metadata_Package.json',
];
const IGNORE = new Set(VOLATILE_KEYS);

/** Fields the slow path (normalise both, compare) finds. */
const slowFields = (collection: string, server: MetadataObject, payload: MetadataObject): number =>
  fieldChanges(server, payload, collection, IGNORE).length;

const clone = <T>(v: T): T => structuredClone(v);

/** Variants a server's copy of the same object may take, each meant to normalise to the same value (the
 * empty values only where the object has none). */
const equivalent: ((o: MetadataObject) => MetadataObject)[] = [
  (o) => ({ ...clone(o), lastUpdated: '2026-01-01T00:00:00.000', href: 'http://x/api/y', access: { read: true } }),
  (o) => ({ description: null, translations: [], attributeValues: [], ...clone(o) }),
  (o) => ({ categoryCombo: { id: 'bjDvmb4bfuf' }, ...clone(o) }),
  (o) => ({ ...clone(o), style: {} }),
  (o) => ({ ...clone(o), nested: { sharing: { public: 'rw------' }, x: null } }),
  // Sharing as another export writes the same: its keys and its maps' entries in another order, an empty
  // map left out.
  (o) => (isRecord(o.sharing) ? { ...clone(o), sharing: reversedKeys(withoutEmptyMaps(o.sharing)) } : clone(o)),
];

/** Variants that change the object: the fast path may never call them the same. */
const changes: ((o: MetadataObject) => MetadataObject)[] = [
  (o) => ({ ...clone(o), name: `${String(o.name)} (changed)` }),
  (o) => ({ ...clone(o), newKey: 0 }),
  (o) => ({ ...clone(o), newKey: false }),
  (o) => ({ ...clone(o), sharing: { public: 'r-------', users: {}, userGroups: {} } }),
  (o) => withSharing(o, (s) => ({ ...s, owner: 'xxxxxxxxxxx' })),
  (o) => withSharing(o, (s) => ({ ...s, users: { ...(s.users as object), u1: { id: 'u1', access: 'rw------' } } })),
  (o) => withSharing(o, (s) => ({ ...s, userGroups: changedAccess(s.userGroups) })),
];

/** A copy with the keys of the value, and of each record in it, in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (!isRecord(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .reverse()
      .map(([k, x]) => [k, reversedKeys(x)]),
  );
}

function withoutEmptyMaps(s: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s).filter(([, x]) => !(isRecord(x) && Object.keys(x).length === 0)));
}

function withSharing(o: MetadataObject, f: (s: Record<string, unknown>) => Record<string, unknown>): MetadataObject {
  return isRecord(o.sharing) ? { ...clone(o), sharing: f(clone(o.sharing)) } : clone(o);
}

/** Each group's access changed (none when the map is empty: then nothing changes). */
function changedAccess(groups: unknown): unknown {
  if (!isRecord(groups)) return groups;
  return Object.fromEntries(
    Object.entries(groups).map(([k, g]) => [
      k,
      isRecord(g) ? { ...g, access: g.access === 'r-------' ? 'rw------' : 'r-------' } : g,
    ]),
  );
}

/** Reorders every array of records (a set a server may send in another order): the slow path decides. */
function reordered(o: MetadataObject): MetadataObject {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk).reverse();
    if (!isRecord(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(o) as MetadataObject;
}

/** Adds a name to every bare reference `{id}` (as some exports do). */
function namedRefs(o: MetadataObject): MetadataObject {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isRecord(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'id') return { id: v.id, name: 'added by the server' };
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(o) as MetadataObject;
}

const withSharingCount = (doc: Record<string, unknown>): number =>
  Object.values(doc).reduce<number>(
    (n, list) => n + (Array.isArray(list) ? list.filter((o) => isRecord(o) && isRecord(o.sharing)).length : 0),
    0,
  );

describe('the diff fast path', () => {
  for (const name of PACKAGES) {
    it(`never calls a changed object of ${name} the same, and settles the unchanged ones`, () => {
      const doc = fixture(name);
      let objects = 0;
      let settled = 0;
      for (const [collection, list] of Object.entries(doc)) {
        if (!Array.isArray(list)) continue;
        for (const obj of list as MetadataObject[]) {
          if (!isRecord(obj) || typeof obj.id !== 'string') continue;
          objects++;
          if (sameAsIs(obj, clone(obj), collection, IGNORE)) settled++;
          for (const variant of [...equivalent, reordered, namedRefs]) {
            const server = variant(obj);
            if (sameAsIs(server, obj, collection, IGNORE)) expect(slowFields(collection, server, obj)).toBe(0);
          }
          for (const variant of changes) {
            const server = variant(obj);
            const fields = slowFields(collection, server, obj);
            if (fields > 0) expect(sameAsIs(server, obj, collection, IGNORE)).toBe(false);
          }
        }
      }
      expect(objects).toBeGreaterThan(50);
      if (name.startsWith('who_CVC')) expect(withSharingCount(doc)).toBeGreaterThan(100); // the sharing variants bite
      expect(settled).toBe(objects); // an object is always the same as its copy
    });
  }

  it('settles the equivalent variants a server export really differs by', () => {
    const objects = fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json').dataElements as MetadataObject[];
    for (const obj of objects.slice(0, 20)) {
      for (const variant of equivalent) expect(sameAsIs(variant(obj), obj, 'dataElements', IGNORE)).toBe(true);
    }
  });

  it('leaves a set in another order to the slow path, which calls it the same when the set is unordered', () => {
    const doc = fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json');
    const set = (doc.optionSets as MetadataObject[]).find((o) => Array.isArray(o.options) && o.options.length > 2)!;
    const server = { ...clone(set), options: [...(set.options as unknown[])].reverse() };
    expect(sameAsIs(server, set, 'optionSets', IGNORE)).toBe(false);
    // options of an option set are ordered (a reorder is a change): the slow path reports it
    expect(slowFields('optionSets', server, set)).toBeGreaterThan(0);
  });
});
