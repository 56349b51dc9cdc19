/**
 * Which kind of program an export holds, from the program's PROGRAM_TYPE attribute value, as the reference
 * app decides (psi-org/Program-Config-App: attribute `yB5tFAAN7bI` "Program Type" in
 * src/configs/Constants.jsx; the HNQIS presets are offered when `isHnqisPCAType(programType)`, i.e. the
 * value is exactly `HNQIS2` or `HNQIS3`, src/utils/Utils.jsx). `HNQIS` (1.x), `RDQA`, `EDS` and no value at
 * all are ordinary tracker/event programs here.
 */
import type { ProgramKind } from '../config/types.ts';
import { Dhis2Error } from '../errors.ts';
import { idOf, isRecord } from './json.ts';
import { collection, type MetadataDocument } from './types.ts';

export const PROGRAM_TYPE_ATTRIBUTE_ID = 'yB5tFAAN7bI';
export const PROGRAM_TYPE_ATTRIBUTE_CODE = 'PROGRAM_TYPE';
export const HNQIS2_PROGRAM_TYPES: readonly string[] = ['HNQIS2', 'HNQIS3'];

/**
 * The program's PROGRAM_TYPE value, or undefined when it has none. The attribute is recognised by its
 * well-known id, or by the code PROGRAM_TYPE on the value's `attribute` object or on the document's own
 * `attributes` entry (a server where the attribute was created with another id).
 */
export function programTypeValue(doc: MetadataDocument, programId: string): string | undefined {
  const program = collection(doc, 'programs').find((p) => p.id === programId);
  if (program === undefined) {
    throw new Dhis2Error(`Program ${programId} is not in the metadata the server exported for it.`);
  }
  const typeAttributeIds = new Set([PROGRAM_TYPE_ATTRIBUTE_ID]);
  for (const attribute of collection(doc, 'attributes')) {
    if (attribute.code === PROGRAM_TYPE_ATTRIBUTE_CODE && attribute.id !== undefined)
      typeAttributeIds.add(attribute.id);
  }
  const values = Array.isArray(program.attributeValues) ? program.attributeValues : [];
  for (const av of values) {
    if (!isRecord(av) || !isRecord(av.attribute)) continue;
    const id = idOf(av.attribute);
    const isType = (id !== undefined && typeAttributeIds.has(id)) || av.attribute.code === PROGRAM_TYPE_ATTRIBUTE_CODE;
    if (isType && typeof av.value === 'string') return av.value.trim();
  }
  return undefined;
}

export function programKind(doc: MetadataDocument, programId: string): ProgramKind {
  const type = programTypeValue(doc, programId);
  return type !== undefined && HNQIS2_PROGRAM_TYPES.includes(type) ? 'hnqis2' : 'tracker';
}
