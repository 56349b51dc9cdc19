/** Small helpers for reading untyped JSON from DHIS2. */

export { isRecord } from '../metadata/json.ts';

/** `org.hisp.dhis.dataelement.DataElement` -> `DataElement`. */
export function shortClassName(klass: string): string {
  const dot = klass.lastIndexOf('.');
  return dot === -1 ? klass : klass.slice(dot + 1);
}
