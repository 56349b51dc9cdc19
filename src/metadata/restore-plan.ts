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
import { cloneJson, compareStrings, idOf, isRecord, mapJson } from './json.ts';
import { REMOVAL_KEYS } from './keys.ts';
import { hasSharingFor, LEGACY_SHARING_KEYS, sharingOnly, withModernSharing, withSharingOf } from './sharing.ts';
import { collection, type MetadataDocument, type MetadataObject } from './types.ts';

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
export const HNQIS_SHARED_OBJECTS: Readonly<Record<string, readonly string[]>> = {
  trackedEntityAttributes: ['nHg1hGgtJwm', 'Xe5hUu6KkUT', 'UlUYUyZJ6o9', 'ulU9KKgSLYe'],
  dataElements: ['nswci5V4j0d', 'DIoqtxbSJIL', 'F0Qcr8ANr7t', 'pzWDtDUorBt', 'VqBfZjZhKkU', 'NAaHST5ZDTE'],
  trackedEntityTypes: ['oNwpeWkfoWc'],
};

/**
 * Program-scoped collections: the reference each object holds to its owner, and the owner's collection.
 * Owners are resolved in this order, so a stage of another program takes its sections along.
 */
const OWNERS: readonly { collection: string; ref: string; owner: string }[] = [
  { collection: 'programStages', ref: 'program', owner: 'programs' },
  { collection: 'programIndicators', ref: 'program', owner: 'programs' },
  { collection: 'programRules', ref: 'program', owner: 'programs' },
  { collection: 'programRuleVariables', ref: 'program', owner: 'programs' },
  { collection: 'programTrackedEntityAttributes', ref: 'program', owner: 'programs' },
  { collection: 'programStageSections', ref: 'programStage', owner: 'programStages' },
  { collection: 'programStageDataElements', ref: 'programStage', owner: 'programStages' },
  { collection: 'programRuleActions', ref: 'programRule', owner: 'programRules' },
];

const RULE_COLLECTIONS = ['programRules', 'programRuleVariables', 'programRuleActions'] as const;

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

/**
 * Keys a file may lack without meaning "remove it": what export presets and the app's backups strip
 * (categories, legend sets) and the config's per-collection `attributes:` removals. DHIS2 replaces the
 * whole object on import, so sending an existing object without them would reset its category combo to
 * the default or drop its legend sets (an HNQIS program's scoring colours). Absent, they are taken from the
 * server; present (even empty), the file's value is sent.
 */
export interface Unmanaged {
  keys: readonly string[];
  perCollection?: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_UNMANAGED: Unmanaged = {
  keys: [...REMOVAL_KEYS.categories, ...REMOVAL_KEYS.legendSets],
};

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
    result = mapJson(payload, (key, value) => {
      if (!drop.has(key)) return value;
      removed++;
      return undefined;
    }) as MetadataDocument;
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

/**
 * A rule (or variable) of the file named like a stale one of the server (re-created under a new UID):
 * DHIS2 refuses two rules of one name in a program (E4057, E4051), and the stale one only goes after the
 * import. Say how to get out of it; the dry run shows DHIS2's own error too.
 */
function nameClashes(
  payload: MetadataDocument,
  stale: RestorePlan['stale'],
  current: MetadataDocument | undefined,
): string[] {
  const notes: string[] = [];
  for (const key of ['programRules', 'programRuleVariables'] as const) {
    const staleIds = new Set(stale[key]);
    const staleByName = new Map<string, string>();
    for (const obj of collection(current ?? {}, key)) {
      const id = idOf(obj);
      if (id !== undefined && staleIds.has(id) && typeof obj.name === 'string')
        staleByName.set(obj.name.toLowerCase(), id);
    }
    if (staleByName.size === 0) continue;
    for (const obj of collection(payload, key)) {
      const other = typeof obj.name === 'string' ? staleByName.get(obj.name.toLowerCase()) : undefined;
      if (other === undefined) continue;
      notes.push(
        `${key === 'programRules' ? 'Program rule' : 'Program rule variable'} "${String(obj.name)}" (${idOf(obj)}) has the name of ` +
          `${other} on the server, which the file no longer has: DHIS2 refuses two of one name, so the import fails ` +
          `until ${other} is deleted on the server or the file's object takes its UID ${other}.`,
      );
    }
  }
  return notes;
}

/** Sets `program.organisationUnits` for the chosen mode; returns the notes. */
function planOrganisationUnits(
  program: MetadataObject,
  fileProgram: MetadataObject,
  serverProgram: MetadataObject | undefined,
  mode: RestoreOptions['organisationUnits'],
): string[] {
  const fileUnits = Array.isArray(fileProgram.organisationUnits) ? fileProgram.organisationUnits : [];
  const serverUnits =
    serverProgram && Array.isArray(serverProgram.organisationUnits) ? serverProgram.organisationUnits : [];
  if (mode === 'overwrite' && fileUnits.length > 0) {
    program.organisationUnits = cloneJson(fileUnits);
    return [`Organisation units: the file's ${count(fileUnits.length, 'assignments')} replace the server's.`];
  }
  if (serverProgram === undefined) {
    // Nothing to keep: a new program starts unassigned, whatever the file says under `keep`.
    program.organisationUnits = [];
    return [
      mode === 'keep' && fileUnits.length > 0
        ? `Organisation units: the program is not on the server yet, so it is sent without any ` +
          `(organisationUnits: keep; the file's ${fileUnits.length} are used with overwrite).`
        : 'Organisation units: the program is not on the server yet and the file has none: sent without any.',
    ];
  }
  program.organisationUnits = cloneJson(serverUnits);
  if (mode === 'overwrite') {
    // An empty or missing list would unassign the program everywhere: a file exported without
    // organisation units (e.g. for another server) means "not mine to say", not "none".
    return [
      `Organisation units: the file has none, so the server's ${serverUnits.length} are kept ` +
        `(overwriting with none would unassign the program everywhere).`,
    ];
  }
  return [`Organisation units: kept the server's ${count(serverUnits.length, 'assignments')}.`];
}

/** Applies the sharing mode to every top-level object of `payload` (in place: it is our copy); returns the notes. */
function planSharing(
  payload: MetadataDocument,
  mode: RestoreOptions['sharing'],
  server: ServerState,
  current: Map<string, Map<string, MetadataObject>>,
): string[] {
  const modern = sharingOnly(server.minor);
  let fromServer = 0;
  let fromFile = 0;
  let filledFromServer = 0;
  let converted = 0;
  let newObjects = 0;

  // The file's sharing, in the form the target reads.
  const fileSharing = (obj: MetadataObject): MetadataObject => {
    if (!modern) return obj;
    const next = withModernSharing(obj);
    if (next !== obj) converted++;
    return next;
  };

  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value)) continue;
    payload[key] = value.map((obj: MetadataObject) => {
      const id = idOf(obj);
      const serverObj = id === undefined ? undefined : (server.existing.get(id) ?? current.get(key)?.get(id));
      if (serverObj === undefined) {
        newObjects++;
        return fileSharing(obj);
      }
      if (mode === 'overwrite') {
        const own = fileSharing(obj);
        if (hasSharingFor(own, server.minor)) {
          fromFile++;
          return own;
        }
        const kept = withSharingOf(own, serverObj);
        if (kept !== own) filledFromServer++;
        return kept;
      }
      const kept = withSharingOf(obj, serverObj);
      if (kept !== obj) {
        fromServer++;
        return kept;
      }
      // The server's copy says nothing about sharing (a type without sharing, or not read): the file's.
      return fileSharing(obj);
    });
  }

  const notes: string[] = [];
  const created = newObjects > 0 ? `; ${count(newObjects, 'new objects')} take the file's` : '';
  if (mode === 'keep') {
    notes.push(`Sharing: kept the server's on ${count(fromServer, 'existing objects')}${created}.`);
  } else {
    notes.push(`Sharing: the file's on ${count(fromFile, 'existing objects')}${created}.`);
    if (filledFromServer > 0) {
      notes.push(
        `Sharing: ${count(filledFromServer, 'existing objects')} have no sharing in the file and keep the server's` +
          (modern ? ` (DHIS2 2.${server.minor} would reset them to the default).` : '.'),
      );
    }
  }
  if (converted > 0) {
    notes.push(`Sharing: converted the legacy sharing of ${count(converted, 'objects')} to \`sharing\`.`);
  }
  return notes;
}

/** Existing objects lacking an unmanaged key get the server's value (see Unmanaged). */
function keepUnmanaged(
  payload: MetadataDocument,
  unmanaged: Unmanaged,
  server: ServerState,
  current: Map<string, Map<string, MetadataObject>>,
): string[] {
  const counts = new Map<string, number>();
  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value)) continue;
    const keys = [...unmanaged.keys, ...(unmanaged.perCollection?.[key] ?? [])];
    if (keys.length === 0) continue;
    payload[key] = (value as MetadataObject[]).map((obj) => {
      const id = idOf(obj);
      const serverObj = id === undefined ? undefined : (server.existing.get(id) ?? current.get(key)?.get(id));
      if (serverObj === undefined) return obj;
      let out = obj;
      for (const k of keys) {
        if (k in obj || serverObj[k] === undefined) continue;
        if (out === obj) out = { ...obj };
        out[k] = cloneJson(serverObj[k]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return out;
    });
  }
  if (counts.size === 0) return [];
  const what = [...counts].map(([k, n]) => `${k} on ${n}`).join(', ');
  return [`The file does not carry ${[...counts.keys()].join(', ')}: kept the server's (${what} existing objects).`];
}

/** The server's rules, variables and actions of the program that `payload` does not have, sorted. */
function staleRules(
  payload: MetadataDocument,
  file: MetadataDocument,
  programId: string,
  current: MetadataDocument | undefined,
): RestorePlan['stale'] {
  const stale: RestorePlan['stale'] = { programRules: [], programRuleVariables: [], programRuleActions: [] };
  if (current === undefined) return stale;
  // Only what the file speaks for: a file without a rules collection (exported with `objects:` leaving it
  // out, or hand-written) says nothing about the server's rules, which must then all stay.
  const covered = (key: (typeof RULE_COLLECTIONS)[number]): boolean => Array.isArray(file[key]);
  const ofProgram = (obj: MetadataObject): boolean => {
    const owner = idOf(obj.program);
    return owner === undefined || owner === programId;
  };
  const serverRules = collection(current, 'programRules').filter(ofProgram);
  const serverRuleIds = new Set(ids(serverRules));
  const server: Record<(typeof RULE_COLLECTIONS)[number], MetadataObject[]> = {
    programRules: serverRules,
    programRuleVariables: collection(current, 'programRuleVariables').filter(ofProgram),
    programRuleActions: collection(current, 'programRuleActions').filter((a) => {
      const rule = idOf(a.programRule);
      return rule === undefined || serverRuleIds.has(rule);
    }),
  };
  for (const key of RULE_COLLECTIONS) {
    if (!covered(key)) continue;
    const kept = new Set(ids(collection(payload, key)));
    stale[key] = [...new Set(ids(server[key]).filter((id) => !kept.has(id)))].sort(compareStrings);
  }
  return stale;
}

/**
 * The file's collections without the objects that belong to another program (OWNERS), and a summary of
 * what was left out ("3 programStages"). An object without an owner reference is kept.
 */
function scopeToProgram(
  file: MetadataDocument,
  programId: string,
): { kept: Map<string, MetadataObject[]>; leftOut: string[] } {
  // Ids of the objects left out so far, per collection: their children go too.
  const foreign = new Map<string, Set<string>>();
  const kept = new Map<string, MetadataObject[]>();
  for (const [key, value] of Object.entries(file)) {
    if (Array.isArray(value)) kept.set(key, value.filter(isRecord) as MetadataObject[]);
  }
  const leftOut: string[] = [];
  for (const { collection: key, ref, owner } of OWNERS) {
    const objects = kept.get(key);
    if (objects === undefined) continue;
    const foreignOwners = foreign.get(owner) ?? new Set<string>();
    const foreignHere = new Set<string>();
    const mine = objects.filter((obj) => {
      const ownerId = idOf(obj[ref]);
      // A program reference is checked against the program itself: one to a program the file does not
      // hold is foreign too.
      const isForeign =
        ownerId !== undefined && (owner === 'programs' ? ownerId !== programId : foreignOwners.has(ownerId));
      if (isForeign) foreignHere.add(idOf(obj) ?? '');
      return !isForeign;
    });
    foreign.set(key, foreignHere);
    kept.set(key, mine);
    if (mine.length < objects.length) leftOut.push(count(objects.length - mine.length, key));
  }
  // A file with several programs (a whole package) also holds the other programs' data elements, option
  // sets, attributes: keep only what the restored program reaches, or its restore would rewrite theirs.
  if (collection(file, 'programs').length > 1) leftOut.push(...keepReachable(kept, programId));
  return { kept, leftOut };
}

/** Shared objects (data elements, option sets and options, TEAs, TETs) the program does not reference go. */
function keepReachable(kept: Map<string, MetadataObject[]>, programId: string): string[] {
  const program = (kept.get('programs') ?? []).find((p) => idOf(p) === programId);
  const refs = (objects: readonly unknown[], key: string): string[] =>
    objects.flatMap((o) => (isRecord(o) ? [idOf(o[key])].filter((id): id is string => id !== undefined) : []));
  const listed = (objects: readonly MetadataObject[], key: string): MetadataObject[] =>
    objects.flatMap((o) => (Array.isArray(o[key]) ? (o[key] as MetadataObject[]) : []));

  const stages = kept.get('programStages') ?? [];
  const psdes = [...listed(stages, 'programStageDataElements'), ...(kept.get('programStageDataElements') ?? [])];
  const ptes = [
    ...listed(program ? [program] : [], 'programTrackedEntityAttributes'),
    ...(kept.get('programTrackedEntityAttributes') ?? []),
  ];
  const dataElements = new Set(refs(psdes, 'dataElement'));
  const types = new Set(program ? refs([program], 'trackedEntityType') : []);
  // The kept tracked entity type brings its own attributes (trackedEntityTypeAttributes) too.
  const keptTypes = (kept.get('trackedEntityTypes') ?? []).filter((t) => types.has(idOf(t) ?? ''));
  const attributes = new Set([
    ...refs(ptes, 'trackedEntityAttribute'),
    ...refs(listed(keptTypes, 'trackedEntityTypeAttributes'), 'trackedEntityAttribute'),
  ]);
  const withOptions = [
    ...(kept.get('dataElements') ?? []).filter((d) => dataElements.has(idOf(d) ?? '')),
    ...(kept.get('trackedEntityAttributes') ?? []).filter((a) => attributes.has(idOf(a) ?? '')),
  ];
  const optionSets = new Set([...refs(withOptions, 'optionSet'), ...refs(withOptions, 'commentOptionSet')]);
  const options = new Set(
    refs(
      listed(
        (kept.get('optionSets') ?? []).filter((o) => optionSets.has(idOf(o) ?? '')),
        'options',
      ),
      'id',
    ),
  );
  for (const o of kept.get('options') ?? []) if (optionSets.has(idOf(o.optionSet) ?? '')) options.add(idOf(o) ?? '');

  const reach: Record<string, Set<string>> = {
    dataElements,
    trackedEntityAttributes: attributes,
    trackedEntityTypes: types,
    optionSets,
    options,
  };
  const leftOut: string[] = [];
  for (const [key, ids] of Object.entries(reach)) {
    const objects = kept.get(key);
    if (objects === undefined) continue;
    const mine = objects.filter((o) => ids.has(idOf(o) ?? ''));
    kept.set(key, mine);
    if (mine.length < objects.length) leftOut.push(count(objects.length - mine.length, key));
  }
  return leftOut;
}

function indexByCollection(doc: MetadataDocument | undefined): Map<string, Map<string, MetadataObject>> {
  const index = new Map<string, Map<string, MetadataObject>>();
  if (doc === undefined) return index;
  for (const [key, value] of Object.entries(doc)) {
    if (!Array.isArray(value)) continue;
    const byId = new Map<string, MetadataObject>();
    for (const obj of value) {
      const id = idOf(obj);
      if (id !== undefined) byId.set(id, obj as MetadataObject);
    }
    index.set(key, byId);
  }
  return index;
}

function ids(objects: readonly MetadataObject[]): string[] {
  return objects.map((obj) => idOf(obj)).filter((id): id is string => id !== undefined);
}

/** "3 programStages", "1 programStage": collection names and plain plurals read right either way. */
function count(n: number, plural: string): string {
  return `${n} ${n === 1 && plural.endsWith('s') ? plural.slice(0, -1) : plural}`;
}
