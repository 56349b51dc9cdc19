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
  for (const [key, value] of Object.entries(doc)) if (Array.isArray(value)) counts[key] = value.length;
  return counts;
}
