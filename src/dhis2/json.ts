/** Small helpers for reading untyped JSON from DHIS2. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `org.hisp.dhis.dataelement.DataElement` -> `DataElement`. */
export function shortClassName(klass: string): string {
  const dot = klass.lastIndexOf('.');
  return dot === -1 ? klass : klass.slice(dot + 1);
}
