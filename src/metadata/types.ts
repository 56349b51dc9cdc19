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
