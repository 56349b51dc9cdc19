import { idOf, isRecord } from './json.ts';
import { setOwn } from '../util/own-keys.ts';

/** A DHIS2 metadata object as JSON: `id` plus whatever the schema has. */
export type MetadataObject = Record<string, unknown> & { id?: string };

/**
 * A DHIS2 metadata document: top-level keys are collection names (`programs`, `dataElements`, ...) holding
 * arrays of objects; an export also has `system` ({id, rev, version, date}) and sometimes `date`.
 */
export type MetadataDocument = Record<string, unknown>;

export function collection(doc: MetadataDocument, key: string): MetadataObject[] {
  const v = doc[key];
  return Array.isArray(v) ? (v as MetadataObject[]) : [];
}

/** Number of objects per top-level collection. */
export function objectCounts(doc: MetadataDocument): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(doc)) if (Array.isArray(value)) setOwn(counts, key, value.length);
  return counts;
}

/** Every object of a document by id, at the top level (the shape the diff compares); the first of an id wins. */
export function indexTopLevel(
  doc: MetadataDocument | undefined,
  into: Map<string, MetadataObject> = new Map(),
): Map<string, MetadataObject> {
  for (const value of Object.values(doc ?? {})) {
    if (!Array.isArray(value)) continue;
    for (const obj of value) {
      const id = isRecord(obj) ? idOf(obj) : undefined;
      if (id !== undefined && !into.has(id)) into.set(id, obj as MetadataObject);
    }
  }
  return into;
}
