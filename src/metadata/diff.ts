/**
 * What an import would really change. DHIS2's import report counts every object that exists as "updated",
 * even when nothing differs; this compares each payload object with the server's copy and lists the
 * fields that differ.
 *
 * Both sides go through the same normalisation before they are compared:
 * - the ignored keys (VOLATILE_KEYS plus the caller's) are removed at any depth;
 * - empty values are removed: null, [] and {} mean the same as a missing key. DHIS2 replaces the whole
 *   object on import, and a missing collection, a null and an empty one all end up as an empty collection
 *   (or null for a single reference), and its exports omit or keep empty values depending on the version;
 * - unordered sets are put in canonical order (canonical.ts, the same rules as the metadata files);
 * - a reference `{id}` equals any object with the same id (the server may add a name or code to it).
 * Everything else counts, including a key the payload lacks while the server has a value: the import
 * replaces the object, so the server's value goes (or falls back to DHIS2's default, which this code
 * cannot know; `false` and `0` are not assumed to be defaults).
 *
 * Arrays of objects with ids (program stage data elements, program attributes, option references...),
 * attribute values (by attribute) and translations (by locale and property) are compared member by
 * member, with paths such as `programStageDataElements[Qe8dppjr9L3].compulsory` or
 * `translations[fr/NAME].value`: a member added or removed is one change, not a shift of every index.
 * Other arrays are compared whole.
 */
import { canonicalize, isUnorderedSet } from './canonical.ts';
import { LEGACY_ACCESS_KEYS } from './keys.ts';
import { idOf, isRecord, mapJson, type JsonRecord } from './json.ts';
import type { MetadataDocument, MetadataObject } from './types.ts';
import { redact } from '../util/secrets.ts';
import { keyTable } from '../util/own-keys.ts';

export interface FieldChange {
  /** e.g. "name", "programStageDataElements[Qe8dppjr9L3].compulsory", "sharing.public". */
  path: string;
  /** The server's value; undefined when the server has none. */
  old?: unknown;
  /** The payload's value; undefined when the payload has none. */
  new?: unknown;
}

export interface ObjectChange {
  id: string;
  name?: string;
  collection: string;
  fields: FieldChange[];
}

export interface CollectionDiff {
  collection: string;
  /** Ids of the payload objects the server does not have (in payload order). */
  created: string[];
  changed: ObjectChange[];
  unchanged: number;
}

export interface MetadataDiff {
  collections: CollectionDiff[];
  totals: { created: number; changed: number; unchanged: number };
}

/**
 * Keys the server computes or keeps per user, which never mean a change to the metadata: stamps,
 * links, the reading user's access and favourites, translated display values (computed from the real
 * fields and the user's locale: `displayName` follows `name`), and the legacy sharing keys, which up to
 * 2.40 mirror `sharing` (compared itself) and from 2.41 are gone. Only exact names: real properties start
 * with `display` too (`displayInList`, `displayFrontPageList`, `displayInReports`...).
 */
export const VOLATILE_KEYS: readonly string[] = [
  'created',
  'lastUpdated',
  'createdBy',
  'lastUpdatedBy',
  'user',
  'href',
  'access',
  'favorite',
  'favorites',
  'subscribed',
  'subscribers',
  ...LEGACY_ACCESS_KEYS,
  'dimensionItem',
  'dimensionItemType',
  'optionSetValue',
  'displayName',
  'displayShortName',
  'displayDescription',
  'displayFormName',
  'displayFromToName',
  'displayToFromName',
  'displayEnrollmentDateLabel',
  'displayIncidentDateLabel',
  'displayExecutionDateLabel',
  'displayDueDateLabel',
  'displayProgramStageLabel',
  'displayEventLabel',
  'displayEnrollmentLabel',
  'displayFollowUpLabel',
  'displayOrgUnitLabel',
  'displayRelationshipLabel',
  'displayNoteLabel',
  'displayTrackedEntityAttributeLabel',
  'displayInstruction',
  'displayNumeratorDescription',
  'displayDenominatorDescription',
  'displayTitle',
  'displaySubtitle',
];

/**
 * Nested arrays whose order is stored (a List with a sort order column in dhis2-core): a reordering is a
 * change, reported once as `<path> (order)`. Skipped when every member carries its own `sortOrder`,
 * which then shows the change.
 */
const ORDERED_ARRAYS = new Set([
  'options',
  'categories',
  'categoryOptions',
  'dataElements',
  'trackedEntityAttributes',
  'programIndicators',
  'legendSets',
  'programStageDataElements',
  'programTrackedEntityAttributes',
]);

/** How the members of nested arrays are matched, by property name; otherwise by `id`. */
const MEMBER_KEYS: Readonly<Record<string, (item: JsonRecord) => string | undefined>> = keyTable({
  attributeValues: (av) => idOf(av.attribute),
  translations: (tr) =>
    typeof tr.locale === 'string' && typeof tr.property === 'string' ? `${tr.locale}/${tr.property}` : undefined,
});

export function diffMetadata(
  payload: MetadataDocument,
  current: Map<string, MetadataObject>,
  ignoreKeys: Iterable<string>,
): MetadataDiff {
  const ignore = new Set([...VOLATILE_KEYS, ...ignoreKeys]);
  const collections: CollectionDiff[] = [];
  const totals = { created: 0, changed: 0, unchanged: 0 };

  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value) || !value.every(isRecord)) continue;
    const diff: CollectionDiff = { collection: key, created: [], changed: [], unchanged: 0 };
    value.forEach((obj: MetadataObject, index) => {
      const id = idOf(obj);
      const serverObj = id === undefined ? undefined : current.get(id);
      if (id === undefined || serverObj === undefined) {
        // Without an id DHIS2 generates one: always a new object.
        diff.created.push(id ?? `(no id, #${index + 1})`);
        return;
      }
      // Most objects of a restore are unchanged: a walk over both as they are settles those without the
      // copies normalising makes; only an object it cannot settle is normalised and compared field by field.
      const fields = sameAsIs(serverObj, obj, key, ignore) ? [] : fieldChanges(serverObj, obj, key, ignore);
      if (fields.length === 0) {
        diff.unchanged++;
      } else {
        diff.changed.push({ id, ...nameOf(obj, serverObj), collection: key, fields });
      }
    });
    totals.created += diff.created.length;
    totals.changed += diff.changed.length;
    totals.unchanged += diff.unchanged;
    collections.push(diff);
  }
  return { collections, totals };
}

/**
 * A short text for a value shown as `old -> new`: JSON when it fits in `max` characters, else a summary
 * (a cut string with its length, an array's length, an object's id and name).
 */
export function formatValue(value: unknown, max = 60): string {
  // A server's text is redacted before it is cut: a secret cut in two would no longer be found.
  const v = typeof value === 'string' ? redact(value) : value;
  if (v === undefined) return '(none)';
  const json = JSON.stringify(v) ?? String(v);
  if (json.length <= max) return json;
  if (typeof v === 'string') {
    const suffix = `…" (${v.length} chars)`;
    return `${JSON.stringify(v.slice(0, Math.max(8, max - suffix.length - 1))).slice(0, -1)}${suffix}`;
  }
  if (Array.isArray(v)) return `[${v.length} items]`;
  if (isRecord(v)) {
    const parts: string[] = [];
    const id = idOf(v);
    if (id !== undefined) parts.push(`id: ${id}`);
    const name = typeof v.name === 'string' ? v.name : undefined;
    if (name !== undefined) parts.push(`name: ${formatValue(name, Math.max(16, max - 30))}`);
    const shown = parts.length;
    const rest = Object.keys(v).length - shown;
    if (rest > 0) parts.push(shown > 0 ? `+${rest} keys` : `${rest} keys`);
    return `{${parts.join(', ')}}`;
  }
  return `${json.slice(0, max - 1)}…`;
}

function nameOf(obj: MetadataObject, serverObj: MetadataObject): { name?: string } {
  for (const candidate of [obj.name, obj.displayName, serverObj.name, serverObj.displayName]) {
    if (typeof candidate === 'string' && candidate !== '') return { name: candidate };
  }
  return {};
}

/** The fields that differ between the server's object and the payload's, once both are normalised. */
export function fieldChanges(
  serverObj: MetadataObject,
  obj: MetadataObject,
  collectionKey: string,
  ignore: ReadonlySet<string>,
): FieldChange[] {
  const fields: FieldChange[] = [];
  compare(
    '',
    collectionKey,
    normalise(serverObj, collectionKey, ignore),
    normalise(obj, collectionKey, ignore),
    fields,
  );
  return fields;
}

/** The object without ignored keys and empty values, with its sets in canonical order. */
function normalise(obj: MetadataObject, collectionKey: string, ignore: ReadonlySet<string>): unknown {
  const prune = (key: string, value: unknown) =>
    ignore.has(key) || isEmpty(value) || isDefaultCategoryRef(key, value) ? undefined : value;
  // Sharing belongs to the top-level object. Embedded objects (a program indicator's period boundaries,
  // a stage's data elements) carry a default `sharing` the server serializes but never applies, and a file
  // exported without sharing has none: comparing those would report every such object as changed.
  const { sharing, ...own } = obj;
  const pruned = mapJson(own, (key, value) => (key === 'sharing' ? undefined : prune(key, value))) as JsonRecord;
  if (sharing !== undefined && prune('sharing', sharing) !== undefined) pruned.sharing = mapJson(sharing, prune);
  return (canonicalize({ [collectionKey]: [pruned] })[collectionKey] as unknown[])[0];
}

/**
 * True only when normalising both objects would give the same value: every key that normalise keeps is on
 * both sides and the same; arrays in the same order member by member, or, for a set canonical order sorts,
 * the same members by id. Stricter than `same` (a reference `{id}` must match exactly), so a false only
 * means "compare the normalised copies"; a true never hides a change. Top-level `sharing` is normalised as
 * normalise does.
 */
export function sameAsIs(
  a: MetadataObject,
  b: MetadataObject,
  collectionKey: string,
  ignore: ReadonlySet<string>,
): boolean {
  if (a.sharing !== undefined || b.sharing !== undefined) {
    // Two sharing maps the record walk settles normalise alike (sameRecords' own promise), without the copy
    // and canonical sort per object that normalising costs (a quarter of a 4,500-object diff); the rest
    // (one side without sharing, a value no record walk settles) is normalised and compared.
    const settled =
      isRecord(a.sharing) && isRecord(b.sharing) && sameRecords(a.sharing, b.sharing, collectionKey, ignore);
    const sharingOf = (obj: MetadataObject) => normalise({ sharing: obj.sharing }, collectionKey, ignore);
    if (!settled && !same(sharingOf(a), sharingOf(b))) return false;
  }
  return sameRecords(a, b, collectionKey, ignore);
}

/** Nested `sharing` is dropped by normalise (the top level's is compared by sameAsIs). */
function sameRecords(a: JsonRecord, b: JsonRecord, collection: string, ignore: ReadonlySet<string>): boolean {
  let kept = 0;
  for (const k of Object.keys(a)) {
    if (k === 'sharing' || prunedAway(k, a[k], ignore)) continue;
    if (!Object.hasOwn(b, k) || !sameAsIsValue(a[k], b[k], collection, k, ignore)) return false;
    kept++;
  }
  for (const k of Object.keys(b)) {
    if (k === 'sharing' || prunedAway(k, b[k], ignore)) continue;
    if (--kept < 0) return false;
  }
  return kept === 0;
}

function sameAsIsValue(a: unknown, b: unknown, collection: string, key: string, ignore: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    let i = 0;
    while (i < a.length && sameAsIsValue(a[i], b[i], collection, key, ignore)) i++;
    return i === a.length || (isUnorderedSet(collection, key, a) && sameMembersById(a, b, collection, key, ignore));
  }
  return isRecord(a) && isRecord(b) && sameRecords(a, b, collection, ignore);
}

/**
 * A set in another order: the same members when each member's key (its id; a translation's locale and
 * property, an attribute value's attribute) is on both sides once with the same member. Canonical order then
 * sorts both into the same sequence (a sort of the same values gives the same result).
 */
function sameMembersById(
  a: unknown[],
  b: unknown[],
  collection: string,
  key: string,
  ignore: ReadonlySet<string>,
): boolean {
  const keyOf = MEMBER_KEYS[key] ?? idOf;
  const memberKey = (item: unknown) => (isRecord(item) ? keyOf(item) : undefined);
  const byId = new Map<string, unknown>();
  for (const item of b) {
    const id = memberKey(item);
    if (id === undefined || byId.has(id)) return false;
    byId.set(id, item);
  }
  const seen = new Set<string>();
  for (const item of a) {
    const id = memberKey(item);
    if (id === undefined || seen.has(id) || !byId.has(id)) return false;
    seen.add(id);
    if (!sameAsIsValue(item, byId.get(id), collection, key, ignore)) return false;
  }
  return true;
}

/**
 * Whether normalise drops property `key` with this value (after dropping what it drops inside it). The default
 * category reference is tested on the value as it is, normalise tests it pruned: the same, as `id` is never an
 * ignored key.
 */
function prunedAway(key: string, value: unknown, ignore: ReadonlySet<string>): boolean {
  if (ignore.has(key) || value === null || value === undefined || isDefaultCategoryRef(key, value)) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (!isRecord(value)) return false;
  for (const k of Object.keys(value)) if (k !== 'sharing' && !prunedAway(k, value[k], ignore)) return false;
  return true;
}

/**
 * DHIS2's default category objects (fixed UIDs, dhis2-api.md) are what an object without a category combo
 * gets on import: a reference to the default means the same as none (the Program Config App's backups,
 * for one, drop `categoryCombo` from programs and data elements).
 */
const DEFAULT_CATEGORY_REFS: Readonly<Record<string, string>> = keyTable({
  categoryCombo: 'bjDvmb4bfuf',
  category: 'GLevLNI9wkl',
  categoryOption: 'xYerKDKCefk',
  categoryOptionCombo: 'HllvX50cXC0',
});

function isDefaultCategoryRef(key: string, value: unknown): boolean {
  const id = DEFAULT_CATEGORY_REFS[key];
  return id !== undefined && idOf(value) === id;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isRecord(value) && Object.keys(value).length === 0;
}

/** Appends to `out` the differences between the server's value `a` and the payload's `b` under `path`. */
function compare(path: string, key: string, a: unknown, b: unknown, out: FieldChange[]): void {
  if (same(a, b)) return;
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
    for (const k of keys) compare(path === '' ? k : `${path}.${k}`, k, a[k], b[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const keyOf = memberKey(key, a, b);
    if (keyOf !== undefined) {
      compareMembers(path, key, a as JsonRecord[], b as JsonRecord[], keyOf, out);
      return;
    }
  }
  out.push(change(path, a, b));
}

function change(path: string, old: unknown, value: unknown): FieldChange {
  const c: FieldChange = { path };
  if (old !== undefined) c.old = old;
  if (value !== undefined) c.new = value;
  return c;
}

/** Arrays matched member by member: added, removed, changed members, and a change of order if it counts. */
function compareMembers(
  path: string,
  key: string,
  a: JsonRecord[],
  b: JsonRecord[],
  keyOf: (item: JsonRecord) => string | undefined,
  out: FieldChange[],
): void {
  const oldByKey = new Map(a.map((item) => [keyOf(item) as string, item]));
  const newByKey = new Map(b.map((item) => [keyOf(item) as string, item]));
  for (const [k, item] of oldByKey) {
    if (!newByKey.has(k)) out.push(change(`${path}[${k}]`, item, undefined));
  }
  for (const [k, item] of newByKey) {
    const old = oldByKey.get(k);
    if (old === undefined) out.push(change(`${path}[${k}]`, undefined, item));
    else compare(`${path}[${k}]`, key, old, item, out);
  }
  if (ORDERED_ARRAYS.has(key) && !b.every((item) => 'sortOrder' in item)) {
    const oldOrder = [...oldByKey.keys()].filter((k) => newByKey.has(k));
    const newOrder = [...newByKey.keys()].filter((k) => oldByKey.has(k));
    if (oldOrder.some((k, i) => k !== newOrder[i])) out.push(change(`${path} (order)`, oldOrder, newOrder));
  }
}

/** The key function that matches both arrays' members one to one, or undefined to compare them whole. */
function memberKey(key: string, a: unknown[], b: unknown[]): ((item: JsonRecord) => string | undefined) | undefined {
  const keyOf = MEMBER_KEYS[key] ?? ((item: JsonRecord) => idOf(item));
  for (const side of [a, b]) {
    const seen = new Set<string>();
    for (const item of side) {
      const k = isRecord(item) ? keyOf(item) : undefined;
      if (k === undefined || seen.has(k)) return undefined;
      seen.add(k);
    }
  }
  return keyOf;
}

/** Deep equality of normalised JSON; a bare reference `{id}` equals any object with that id. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => same(item, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  const id = idOf(a);
  if (id !== undefined && id === idOf(b) && (keysA.length === 1 || keysB.length === 1)) return true;
  return keysA.length === keysB.length && keysA.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
}
