/**
 * The restore plan: exactly what `restore` POSTs to /api/metadata (and `dry-run` VALIDATEs), built from the
 * metadata file and what the target server has now. Plain data in, plain data out.
 *
 * It follows the reference app, psi-org/Program-Config-App src/components/PRG_List/RestoreOptions.jsx
 * (`onCheckBoxHandler` for the tree, `restoreHandler` for the payload; RestoreScreen.jsx only lists the
 * in-server backups and RestoreItem.jsx shows or downloads one, neither touches the payload):
 * - the payload always has `programs` and `attributes`, then per ticked box: Options -> `options` +
 *   `optionSets`; Program Indicators -> `programIndicators`; Tracked Entity Types -> `trackedEntityTypes`;
 *   Tracked Entity Attributes -> `trackedEntityAttributes`; Program Tracked Entity Attributes ->
 *   `programTrackedEntityAttributes`; Program Stages -> `programStages`; Program Stage Sections ->
 *   `programStageSections`; Program Stage Data Elements -> `programStageDataElements`; Data Elements +
 *   Program Rules & Variables -> `dataElements` + `programRules` + `programRuleActions` +
 *   `programRuleVariables`;
 * - it leaves out the HNQIS package objects every HNQIS program shares (`filterComponent` with
 *   `hnqis_attributes`, `hnqis_elements`, `hnqis_tet_exception`): restoring one program's old copy of them
 *   would change them for every other HNQIS program;
 * - organisation units `keepOUnits` (default) put the server's `programs[0].organisationUnits` on the
 *   program; sharing `keepSharing` (default) copies the server's `sharing` by id.
 * Differences, on purpose:
 * - Only the program being restored (the app sends every program of the file), and of the program-scoped
 *   collections (stages, sections, indicators, rules...) only what does not clearly belong to another
 *   program: a file holding several programs must not restore the others behind the user's back.
 * - The app's Program Tracked Entity Attributes and Program Stage Data Elements boxes add top-level keys a
 *   dependency export does not have (DHIS2 embeds them in `programs[]` and `programStages[]`), so they do
 *   nothing: a stage is always sent with the file's data elements. Here an element governs what its parent
 *   carries (EMBEDDED_LISTS): when the element is not chosen, the parent keeps the server's list. Sending
 *   the parent without the list is not an option: DHIS2 replaces the whole object, so a missing list
 *   unassigns every member. A parent the server does not have yet takes the file's (nothing to keep), and
 *   a note says so.
 * - Sharing `keep` applies to every object type that exists on the server, not only the app's list
 *   (programs, attributes, TETs, TEAs, option sets, indicators, stages, data elements): with the app, a
 *   file exported without sharing reset options, sections... to the default on 2.41+.
 * - Sharing `overwrite` never sends an existing object without `sharing.public` (2.41+ resets it to the
 *   default): such an object keeps the server's.
 * - Organisation units `overwrite` with a file that has none keeps the server's (see below).
 * - Program rules: the app deletes ALL of the program's rules and variables BEFORE the import (not atomic:
 *   a failed import loses them); here `stale` lists only those the payload no longer has, for deletion
 *   AFTER a successful import.
 */
import type { RestoreElement, RestoreOptions } from '../config/types.ts';
import { RESTORE_ELEMENTS } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { cloneJson, idOf, withoutKeys } from './json.ts';
import { count, indexByCollection } from './restore-helpers.ts';
import {
  DEFAULT_UNMANAGED,
  keepUnmanaged,
  planOrganisationUnits,
  planSharing,
  type Unmanaged,
} from './restore-server-keeps.ts';
import { nameClashes, RULE_COLLECTIONS, scopeToProgram, staleRules } from './restore-scope.ts';
import { LEGACY_SHARING_KEYS, sharingOnly } from './sharing.ts';

export { DEFAULT_UNMANAGED, type Unmanaged } from './restore-server-keeps.ts';
import { collection, type MetadataDocument, type MetadataObject } from './types.ts';
import { keyTable } from '../util/own-keys.ts';

/** The reference app's tree: each element's parent (RestoreOptions.jsx, `onCheckBoxHandler`). */
export const ELEMENT_PARENTS: Readonly<Record<RestoreElement, RestoreElement | undefined>> = {
  program: undefined,
  options: 'program',
  programIndicators: 'program',
  trackedEntityTypes: 'program',
  trackedEntityAttributes: 'program',
  programTrackedEntityAttributes: 'program',
  programStages: 'program',
  programStageSections: 'programStages',
  programStageDataElements: 'programStages',
  dataElements: 'programStageDataElements',
};

/** The top-level payload keys each element adds (RestoreOptions.jsx, `restoreHandler`). */
export const ELEMENT_COLLECTIONS: Readonly<Record<RestoreElement, readonly string[]>> = {
  program: ['programs', 'attributes'],
  options: ['optionSets', 'options'],
  programIndicators: ['programIndicators'],
  trackedEntityTypes: ['trackedEntityTypes'],
  trackedEntityAttributes: ['trackedEntityAttributes'],
  programTrackedEntityAttributes: ['programTrackedEntityAttributes'],
  programStages: ['programStages'],
  programStageSections: ['programStageSections'],
  programStageDataElements: ['programStageDataElements'],
  dataElements: ['dataElements', 'programRules', 'programRuleActions', 'programRuleVariables'],
};

/**
 * Lists a parent object carries whose content an element governs: sent from the file when the element is
 * chosen, else the server's (see the header). `programs.programStages` and `programStages
 * .programStageSections` are references; a program or stage sent with the file's list could drop the
 * server's stages or sections from it.
 */
export const EMBEDDED_LISTS: readonly { collection: string; property: string; element: RestoreElement }[] = [
  { collection: 'programs', property: 'programTrackedEntityAttributes', element: 'programTrackedEntityAttributes' },
  { collection: 'programs', property: 'programStages', element: 'programStages' },
  { collection: 'programStages', property: 'programStageDataElements', element: 'programStageDataElements' },
  { collection: 'programStages', property: 'programStageSections', element: 'programStageSections' },
];

/**
 * HNQIS package objects the reference app never restores (RestoreOptions.jsx, `restoreHandler`; ids from
 * src/configs/Constants.jsx): the HNQIS2 attributes ORGANISATION_UNIT, HEALTH_AREA, ASSESSMENT_DATE and
 * COMPETENCY, the action plan and score data elements, and the assessment tracked entity type.
 */
export const HNQIS_SHARED_OBJECTS: Readonly<Record<string, readonly string[]>> = keyTable({
  trackedEntityAttributes: ['nHg1hGgtJwm', 'Xe5hUu6KkUT', 'UlUYUyZJ6o9', 'ulU9KKgSLYe'],
  dataElements: ['nswci5V4j0d', 'DIoqtxbSJIL', 'F0Qcr8ANr7t', 'pzWDtDUorBt', 'VqBfZjZhKkU', 'NAaHST5ZDTE'],
  trackedEntityTypes: ['oNwpeWkfoWc'],
});

export interface ServerState {
  /** The program's dependency export on the target server now, or undefined if the program does not exist there. */
  current?: MetadataDocument;
  /**
   * Objects of the payload that already exist on the server, as read from it (id -> object with at least id
   * and sharing), any type. Read `sharing` (and, before 2.36, the legacy access keys). Objects of `current`
   * count as existing too, so `existing` only needs what the dependency export does not hold.
   */
  existing: Map<string, MetadataObject>;
  /** DHIS2 minor version of the target (41 for 2.41.x): sharing semantics differ from 41 on. */
  minor: number;
}

export interface RestorePlan {
  /** Exactly what restore POSTs (and dry-run VALIDATEs). */
  payload: MetadataDocument;
  /** Program rules / variables / actions on the server that the payload no longer has: deleted by restore AFTER a successful import. */
  stale: { programRules: string[]; programRuleVariables: string[]; programRuleActions: string[] };
  /** Human-readable decisions, e.g. "kept the server's sharing on 42 existing objects". */
  notes: string[];
}

/** Each chosen element with its parents, `program` always, in RESTORE_ELEMENTS order. */
export function closeElements(chosen: readonly RestoreElement[]): RestoreElement[] {
  const closed = new Set<RestoreElement>(['program']);
  for (const element of chosen) {
    for (let e: RestoreElement | undefined = element; e !== undefined; e = ELEMENT_PARENTS[e]) closed.add(e);
  }
  return RESTORE_ELEMENTS.filter((e) => closed.has(e));
}

/**
 * Every top-level object of the payload: id -> collection, to read `ServerState.existing` with batched id
 * filters. The payload's ids do not depend on `existing` (only sharing does), so a caller can build the plan
 * once with an empty `existing`, read those ids, and build it again.
 */
export function payloadIds(payload: MetadataDocument): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value)) continue;
    for (const obj of value) {
      const id = idOf(obj);
      if (id !== undefined && !ids.has(id)) ids.set(id, key);
    }
  }
  return ids;
}

export function buildRestorePlan(
  file: MetadataDocument,
  programId: string,
  options: RestoreOptions,
  server: ServerState,
  unmanaged: Unmanaged = DEFAULT_UNMANAGED,
): RestorePlan {
  const elements = new Set(closeElements(options.elements));
  const notes: string[] = [];

  const fileProgram = collection(file, 'programs').find((p) => idOf(p) === programId);
  if (fileProgram === undefined) {
    const found = collection(file, 'programs')
      .map((p) => idOf(p))
      .filter((id) => id !== undefined);
    const has = found.length > 0 ? `it has ${found.join(', ')}` : 'it has no programs';
    throw new UserError(`The metadata to restore does not contain program ${programId} (${has}).`);
  }

  const current = indexByCollection(server.current);
  const serverProgram = current.get('programs')?.get(programId);

  // 1. The collections of the chosen elements, from the file, scoped to the program.
  const scoped = scopeToProgram(file, programId);
  const payload: MetadataDocument = {};
  let hnqisLeftOut = 0;
  for (const element of RESTORE_ELEMENTS) {
    if (!elements.has(element)) continue;
    for (const key of ELEMENT_COLLECTIONS[element]) {
      let objects = key === 'programs' ? [fileProgram] : (scoped.kept.get(key) ?? []);
      const shared = HNQIS_SHARED_OBJECTS[key];
      if (shared !== undefined) {
        const before = objects.length;
        objects = objects.filter((obj) => !shared.includes(idOf(obj) ?? ''));
        hnqisLeftOut += before - objects.length;
      }
      if (objects.length > 0 || key === 'programs' || key === 'attributes') payload[key] = objects.map(cloneJson);
    }
  }
  if (scoped.leftOut.length > 0) {
    notes.push(`Left out what belongs to other programs in the file: ${scoped.leftOut.join(', ')}.`);
  }
  if (hnqisLeftOut > 0) {
    notes.push(
      `Left out ${hnqisLeftOut} HNQIS package objects every HNQIS program shares (as the Program Config App does).`,
    );
  }

  // 2. Lists the parents carry, for the elements not chosen: the server's.
  for (const { collection: key, property, element } of EMBEDDED_LISTS) {
    if (elements.has(element) || !Array.isArray(payload[key])) continue;
    let kept = 0;
    const fromFile: string[] = [];
    for (const parent of payload[key] as MetadataObject[]) {
      const serverParent = current.get(key)?.get(idOf(parent) ?? '');
      if (serverParent !== undefined) {
        parent[property] = cloneJson(Array.isArray(serverParent[property]) ? serverParent[property] : []);
        kept++;
      } else if (Array.isArray(parent[property]) && parent[property].length > 0) {
        fromFile.push(idOf(parent) ?? '(no id)');
      }
    }
    if (kept > 0) notes.push(`${element} not chosen: kept the server's ${property} of ${count(kept, key)}.`);
    if (fromFile.length > 0) {
      notes.push(
        `${element} not chosen, but ${count(fromFile.length, key)} (${fromFile.join(', ')}) ` +
          `${fromFile.length === 1 ? 'is' : 'are'} not on the server yet: sent with the file's ${property}.`,
      );
    }
  }

  // 3. Organisation units of the program.
  const program = (payload.programs as MetadataObject[])[0] as MetadataObject;
  notes.push(...planOrganisationUnits(program, fileProgram, serverProgram, options.organisationUnits));

  // 4. Sharing, on every top-level object.
  notes.push(...planSharing(payload, options.sharing, server, current));

  // 4b. What the file does not manage keeps the server's value.
  notes.push(...keepUnmanaged(payload, unmanaged, server, current));

  // 5. Legacy sharing keys: 2.41+ ignores them, so they only leak who had access.
  let result = payload;
  if (sharingOnly(server.minor)) {
    const drop = new Set<string>(LEGACY_SHARING_KEYS);
    let removed = 0;
    // Copy on write: the payload is the plan's own and is not used after this.
    result = withoutKeys(payload, drop, () => removed++) as MetadataDocument;
    if (removed > 0) {
      notes.push(
        `Removed ${count(removed, 'legacy sharing keys')} (${LEGACY_SHARING_KEYS.join(', ')}): DHIS2 2.${server.minor} ignores them.`,
      );
    }
  }

  // 6. Actions of rules the file no longer has: they go with their rule (DHIS2 deletes a rule's actions with
  //    it), so sending them would only re-create orphans, or fail on the missing rule.
  if (Array.isArray(result.programRules) && Array.isArray(result.programRuleActions)) {
    const rules = new Set(collection(result, 'programRules').map((r) => idOf(r)));
    const actions = collection(result, 'programRuleActions');
    const kept = actions.filter((a) => idOf(a.programRule) === undefined || rules.has(idOf(a.programRule)));
    if (kept.length < actions.length) {
      result.programRuleActions = kept;
      const dropped = actions.length - kept.length;
      notes.push(`Left out ${count(dropped, 'programRuleActions')} whose program rule the file no longer has.`);
    }
  }

  // 7. Rules the server has that the payload no longer has.
  const stale = staleRules(result, file, programId, elements.has('dataElements') ? server.current : undefined);
  const staleCount = RULE_COLLECTIONS.reduce((n, key) => n + stale[key].length, 0);
  if (staleCount > 0) {
    notes.push(
      `The server has ${RULE_COLLECTIONS.map((key) => count(stale[key].length, key)).join(', ')} ` +
        `that the file does not: restore deletes them after a successful import.`,
    );
  }

  notes.push(...nameClashes(result, stale, server.current));
  return { payload: result, stale, notes };
}
