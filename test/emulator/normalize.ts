/** Small helpers shared by the seed and the importer to keep stored objects in DHIS2's owner shape. */
import { isObj, type Obj } from './store.ts';

/** Keys that are computed per request (display names, the caller's access), never part of an owner export. */
const COMPUTED_KEYS = new Set([
  'access',
  'favorite',
  'favorites',
  'href',
  'displayName',
  'displayShortName',
  'displayFormName',
  'displayDescription',
  'displayEnrollmentDateLabel',
  'displayIncidentDateLabel',
  'displayExecutionDateLabel',
  'displayDueDateLabel',
  'displayProgramStageLabel',
  'displayEventLabel',
  'displayEnrollmentLabel',
  'displayNumeratorDescription',
  'displayDenominatorDescription',
  'displayInstruction',
]);

/**
 * Removes computed keys at any depth. `access` is computed only as the caller's access object
 * ({read, write, ...}); the `access` strings of sharing entries are data, and sharing is left alone.
 */
export function stripComputed(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) stripComputed(x);
  } else if (isObj(v)) {
    for (const k of Object.keys(v)) {
      if (k === 'sharing' || k === 'userAccesses' || k === 'userGroupAccesses') continue;
      if (COMPUTED_KEYS.has(k) && (k !== 'access' || isObj(v[k]))) delete v[k];
      else stripComputed(v[k]);
    }
  }
}

export function refId(v: unknown): string | undefined {
  return isObj(v) && typeof v.id === 'string' ? v.id : undefined;
}

/** What identifies an embedded object besides its id: the data element / attribute it places. */
export function embeddedKey(e: Obj): string | undefined {
  return refId(e.dataElement) ?? refId(e.trackedEntityAttribute);
}
