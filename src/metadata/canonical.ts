/**
 * Canonical JSON for metadata files, so that two exports of an unchanged server are the same bytes and a
 * change of one field is a change of one line in the diff. The result is still a plain DHIS2 metadata
 * document: nothing is added, only object keys and some arrays are put in a fixed order.
 *
 * Order rules:
 * - object keys: sorted (code-unit order), by safe-stable-stringify;
 * - top-level collections: by `id` (a metadata document's collections are unordered; the importer links
 *   objects by reference, not position);
 * - nested arrays keep their order, which often means something: programStageDataElements (the form
 *   order), programTrackedEntityAttributes, optionSets' options, categoryCombos' categories, sections'
 *   dataElements/trackedEntityAttributes/programIndicators (all stored with a sort order), and
 *   legendSets on data elements, indicators and attributes (a List: the first one is the default legend
 *   set in analytics). programStages and programStageSections keep theirs too: the stages carry their own
 *   sortOrder, and reordering them would gain nothing;
 * - except arrays that DHIS2 keeps as a Java Set with no order of its own, which come back in database
 *   order (see SET_RULES); they are sorted by a natural key, and ties by their canonical text.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import { compareStrings, idOf, isRecord } from './json.ts';
import type { MetadataDocument } from './types.ts';
import { keyTable, setOwn } from '../util/own-keys.ts';

// A cycle cannot come from JSON; if one shows up it is a bug and must not be written out as "[Circular]".
const stringify = configure({ deterministic: true, circularValue: TypeError, bigint: false });

type SortKey = readonly (string | number)[];

/**
 * Arrays DHIS2 holds as unordered Sets (dhis2-core), by property name, anywhere in the document, with the
 * natural key of their items.
 */
const SET_RULES: Readonly<Record<string, (item: unknown) => SortKey>> = keyTable({
  // IdentifiableObject.attributeValues: a Set, a JSONB map since 2.39.
  attributeValues: (av) => [str(isRecord(av) ? idOf(av.attribute) : undefined)],
  // IdentifiableObject.translations: a Set of {locale, property, value}.
  translations: (tr) => (isRecord(tr) ? [str(tr.locale), str(tr.property)] : []),
  // Legacy sharing (up to 2.40): Sets of {id, userUid | userGroupUid, access}.
  userAccesses: (ua) => (isRecord(ua) ? [str(ua.id ?? ua.userUid)] : []),
  userGroupAccesses: (uga) => (isRecord(uga) ? [str(uga.id ?? uga.userGroupUid)] : []),
  // BaseIdentifiableObject.favorites: a Set of user uids.
  favorites: (uid) => [str(uid)],
  // Program, data set, group, user organisationUnits: Sets (not in analytical objects: see below).
  organisationUnits: (ou) => [str(idOf(ou))],
  // ProgramRule.programRuleActions: a Set.
  programRuleActions: (a) => [str(idOf(a))],
  // Program and ProgramStage notificationTemplates: Sets.
  notificationTemplates: (n) => [str(idOf(n))],
  // ProgramIndicator.analyticsPeriodBoundaries: a Set (items may lack an id in hand-written files).
  analyticsPeriodBoundaries: (b) =>
    isRecord(b) ? [str(b.boundaryTarget), str(b.analyticsPeriodBoundaryType), str(idOf(b))] : [],
  // LegendSet.legends: a Set; by range, which is also how people read a legend.
  legends: (l) => (isRecord(l) ? [num(l.startValue), num(l.endValue), str(idOf(l))] : []),
});

/** Rules that only hold inside one top-level collection, keyed `collection.property`. */
const SCOPED_SET_RULES: Readonly<Record<string, (item: unknown) => SortKey>> = keyTable({
  // CategoryOptionCombo.categoryOptions is a Set; Category.categoryOptions is an ordered List.
  'categoryOptionCombos.categoryOptions': (co) => [str(idOf(co))],
});

/** Analytical objects keep organisationUnits as an ordered List (the order of rows/columns in the output). */
const ANALYTICAL_COLLECTIONS = new Set([
  'charts',
  'eventCharts',
  'eventReports',
  'eventVisualizations',
  'maps',
  'mapViews',
  'reportTables',
  'visualizations',
]);

/** The document in canonical order (a new object; the input is not changed). */
export function canonicalize(doc: MetadataDocument): MetadataDocument {
  const out: [string, unknown][] = [];
  // Keys sorted here too, as canonValue sorts them below: canonicalJson writes the object as it is.
  for (const key of Object.keys(doc).sort()) {
    const value = doc[key];
    if (!integerLikeKeys && INTEGER_LIKE.test(key)) integerLikeKeys = true;
    if (Array.isArray(value) && value.every(isRecord)) {
      const objects = value.map((obj) => canonValue(obj, key, key));
      out.push([key, sortBy(objects, (obj) => [str(idOf(obj))])]);
    } else {
      out.push([key, canonValue(value, key, key)]);
    }
  }
  return Object.fromEntries(out);
}

/** The text a metadata file holds: canonical order, 2-space indent, final newline. */
export function canonicalJson(doc: MetadataDocument): string {
  integerLikeKeys = false;
  const canon = canonicalize(doc);
  // canonValue already wrote every object's keys in sorted order, so JSON.stringify gives the bytes
  // safe-stable-stringify would (several times faster on large programs), except where an object has an
  // integer-like key, which JavaScript always enumerates first: then the sorting stringify writes it.
  return `${integerLikeKeys ? stringify(canon, null, 2) : JSON.stringify(canon, null, 2)}\n`;
}

/** Set by canonValue when an object has a key such as "10", which JavaScript enumerates before the others. */
let integerLikeKeys = false;
const INTEGER_LIKE = /^(?:0|[1-9][0-9]*)$/;

/** sha256 (hex) of canonicalJson(doc). */
export function fingerprint(doc: MetadataDocument): string {
  return createHash('sha256').update(canonicalJson(doc), 'utf8').digest('hex');
}

/**
 * The fingerprint of a reviewed plan: what is imported AND what is deleted after it. A plan with no
 * deletions has the payload's own fingerprint; with deletions, the ids (sorted, per collection) are hashed
 * after it, so a rule that appeared on the server after the review changes the fingerprint.
 */
export function planFingerprint(
  payload: MetadataDocument,
  deletions: Readonly<Record<string, readonly string[]>>,
): string {
  const listed = Object.entries(deletions)
    .filter(([, ids]) => ids.length > 0)
    .map(([key, ids]) => `${key}:${[...ids].sort().join(',')}`)
    .sort();
  if (listed.length === 0) return fingerprint(payload);
  return createHash('sha256')
    .update(canonicalJson(payload), 'utf8')
    .update(`\ndelete\n${listed.join('\n')}\n`, 'utf8')
    .digest('hex');
}

/**
 * The document without the stamps that change on every export of an unchanged server: the top-level
 * `date` and `system.date` (when the export ran) and `system.rev` (the build revision, which a redeploy of
 * the same version changes). `system.id` and `system.version` stay: a file exported from another server
 * or another DHIS2 version is a real change worth a commit, since the shape of the metadata follows the
 * version.
 */
export function withoutVolatile(doc: MetadataDocument): MetadataDocument {
  const { date: _date, ...rest } = doc;
  if (isRecord(rest.system)) {
    const { rev: _rev, date: _systemDate, ...system } = rest.system;
    rest.system = system;
  }
  return rest;
}

/**
 * True when both are the same metadata once in canonical order and without volatile stamps. A string that
 * is not JSON, or not a JSON object, is never the same as anything.
 */
export function sameContent(a: string | MetadataDocument, b: string | MetadataDocument): boolean {
  const docA = asDocument(a);
  const docB = asDocument(b);
  if (docA === undefined || docB === undefined) return false;
  return canonicalJson(withoutVolatile(docA)) === canonicalJson(withoutVolatile(docB));
}

function asDocument(value: string | MetadataDocument): MetadataDocument | undefined {
  if (typeof value !== 'string') return isRecord(value) ? value : undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Canonical copy of a value under top-level `collection`, found as property `key` of its parent. */
function canonValue(value: unknown, collection: string, key: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => canonValue(item, collection, key));
    const rule = setRule(collection, key, value);
    return rule ? sortBy(items, rule) : items;
  }
  if (!isRecord(value)) return value;
  // A plain loop (this visits every node of multi-megabyte exports); `__proto__` defined, never assigned.
  const out: Record<string, unknown> = {};
  // Keys in code-unit order (what safe-stable-stringify sorts by), so the object can be written as it is.
  for (const k of Object.keys(value).sort()) {
    if (!integerLikeKeys && INTEGER_LIKE.test(k)) integerLikeKeys = true;
    const v = canonValue(value[k], collection, k);
    setOwn(out, k, v);
  }
  return out;
}

/** Whether canonical order sorts this array (a Set in dhis2-core): then its order means nothing. */
export function isUnorderedSet(collection: string, key: string, array: unknown[]): boolean {
  return setRule(collection, key, array) !== undefined;
}

function setRule(collection: string, key: string, array: unknown[]): ((item: unknown) => SortKey) | undefined {
  if (array.length < 2) return undefined;
  if (key === 'organisationUnits' && ANALYTICAL_COLLECTIONS.has(collection)) return undefined;
  return SCOPED_SET_RULES[`${collection}.${key}`] ?? SET_RULES[key];
}

/** Stable sort by key, ties broken by canonical text so that the order never depends on the input's. */
function sortBy<T>(items: T[], keyOf: (item: T) => SortKey): T[] {
  const keyed = items.map((item) => ({ item, key: keyOf(item), text: undefined as string | undefined }));
  const textOf = (k: { item: T; text: string | undefined }): string => (k.text ??= stringify(k.item) ?? '');
  keyed.sort((a, b) => compareKeys(a.key, b.key) || compareStrings(textOf(a), textOf(b)));
  return keyed.map((k) => k.item);
}

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return compareStrings(String(x), String(y));
  }
  return 0;
}

/** A string key part; missing values sort last ("\uffff" is above any UID or locale). */
function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '\uffff' : String(value);
}

/** A numeric key part; missing or non-numeric values sort last. */
function num(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : Number.MAX_VALUE;
}
