/**
 * What export applies to the assembled document, in the reference app's order (psi-org/Program-Config-App,
 * src/components/PRG_List/DependencyExport.jsx, `downloadFile`):
 *   (a) drop deselected top-level objects, (b) the HNQIS routine, (c) per-object attribute removals,
 *   (d) the global removals, at any depth, last, so they win over everything before.
 * Differences, on purpose:
 * - (b) skips data elements without `attributeValues` (the reference app throws on them).
 * - (c) removes the keys from the objects of the collection only, at their first level: that is what the
 *   reference app's checkboxes list (the union of the objects' own keys, `getJSONKeyTree`), but its
 *   `removeKey` also strips the same key from everything nested, e.g. unticking `sortOrder` on
 *   programStages also dropped every program stage data element's `sortOrder`.
 * - (d) uses REMOVAL_KEYS, where sharing also removes the legacy sharing keys (see keys.ts).
 */
import type { ResolvedTransform } from '../config/types.ts';
import { REMOVAL_GROUPS } from '../config/types.ts';
import { idOf, isRecord, withoutKeys } from './json.ts';
import { REMOVAL_KEYS } from './keys.ts';
import type { MetadataDocument } from './types.ts';
import { setOwn } from '../util/own-keys.ts';

/**
 * Returns the document with `t` applied; the input is left untouched. Every step copies what it changes and
 * nothing else: the result shares the rest with the input, and neither is mutated after (the export's text
 * is written from it; a full copy cost the export and the rollback point a whole walk and its garbage).
 */
export function transformExport(doc: MetadataDocument, t: ResolvedTransform): MetadataDocument {
  let out = selectObjects(doc, t);
  if (t.hnqis) out = hnqisRoutine(out, t.hnqis.keepAttributes);
  out = removeObjectAttributes(out, t.attributes);
  const keys = removalKeys(t);
  return keys.size > 0 ? removeKeysDeep(out, keys) : out;
}

/** The JSON keys the removal groups switched on in `t.removals` remove. */
export function removalKeys(t: Pick<ResolvedTransform, 'removals'>): Set<string> {
  const keys = new Set<string>();
  for (const group of REMOVAL_GROUPS) {
    if (t.removals[group]) for (const key of REMOVAL_KEYS[group]) keys.add(key);
  }
  return keys;
}

/**
 * `value` without any property named in `keys`, at any depth (the reference app's `removeKey`, without
 * mutation): copy on write (json.ts withoutKeys), so what holds none of them is the input's own.
 */
export function removeKeysDeep<T>(value: T, keys: Iterable<string>): T {
  const drop = keys instanceof Set ? (keys as Set<string>) : new Set(keys);
  return withoutKeys(value, drop) as T;
}

/**
 * (a) `t.objects` (the config's `objects:`) keeps only those top-level keys when set; `t.dropObjects` (the
 * preset's deselected objects, e.g. `system`) are removed in any case. Shallow: later steps copy what they
 * change.
 */
function selectObjects(doc: MetadataDocument, t: ResolvedTransform): MetadataDocument {
  const keep = t.objects ? new Set(t.objects) : undefined;
  const drop = new Set(t.dropObjects);
  return Object.fromEntries(
    Object.entries(doc).filter(([key]) => (keep === undefined || keep.has(key)) && !drop.has(key)),
  );
}

/**
 * (b) The reference app's "HNQIS2 ROUTINES": cut the top-level `attributes` to the attributes an
 * HNQIS-enabled server knows (H2_ATTRIBUTES_TO_KEEP in src/configs/Constants.jsx) and drop the data
 * elements' values of the others. Like the reference app it touches data elements only: other objects'
 * values (program indicators' code lists, for one) may well point at attributes the target has.
 */
function hnqisRoutine(doc: MetadataDocument, keepAttributes: readonly string[]): MetadataDocument {
  const keep = new Set(keepAttributes);
  const kept = (id: string | undefined): boolean => id !== undefined && keep.has(id);
  const out = { ...doc };
  if (Array.isArray(doc.attributes)) {
    out.attributes = doc.attributes.filter((attribute) => kept(idOf(attribute)));
  }
  if (Array.isArray(doc.dataElements)) {
    out.dataElements = doc.dataElements.map((de: unknown) => {
      if (!isRecord(de) || !Array.isArray(de.attributeValues)) return de;
      const attributeValues = de.attributeValues.filter((av: unknown) => isRecord(av) && kept(idOf(av.attribute)));
      return { ...de, attributeValues };
    });
  }
  return out;
}

/** (c) Removes the configured keys from each object of the named top-level collection (first level only). */
function removeObjectAttributes(doc: MetadataDocument, attributes: Record<string, string[]>): MetadataDocument {
  const out = { ...doc };
  for (const [collectionKey, keys] of Object.entries(attributes)) {
    const objects = doc[collectionKey];
    if (!Array.isArray(objects) || keys.length === 0) continue;
    const drop = new Set(keys);
    setOwn(
      out,
      collectionKey,
      objects.map((obj: unknown) =>
        isRecord(obj) ? Object.fromEntries(Object.entries(obj).filter(([key]) => !drop.has(key))) : obj,
      ),
    );
  }
  return out;
}
