/**
 * What of a file belongs to the program being restored (a file holding several programs must not restore the
 * others), and the program rules, variables and actions the server has that the payload no longer does.
 */
import { compareStrings, idOf, isRecord } from './json.ts';
import { count, ids } from './restore-helpers.ts';
import type { RestorePlan } from './restore-plan.ts';
import { collection, type MetadataDocument, type MetadataObject } from './types.ts';

/**
 * Program-scoped collections: the reference each object holds to its owner, and the owner's collection.
 * Owners are resolved in this order, so a stage of another program takes its sections along.
 */
export const OWNERS: readonly { collection: string; ref: string; owner: string }[] = [
  { collection: 'programStages', ref: 'program', owner: 'programs' },
  { collection: 'programIndicators', ref: 'program', owner: 'programs' },
  { collection: 'programRules', ref: 'program', owner: 'programs' },
  { collection: 'programRuleVariables', ref: 'program', owner: 'programs' },
  { collection: 'programTrackedEntityAttributes', ref: 'program', owner: 'programs' },
  { collection: 'programStageSections', ref: 'programStage', owner: 'programStages' },
  { collection: 'programStageDataElements', ref: 'programStage', owner: 'programStages' },
  { collection: 'programRuleActions', ref: 'programRule', owner: 'programRules' },
];

export const RULE_COLLECTIONS = ['programRules', 'programRuleVariables', 'programRuleActions'] as const;

/**
 * A rule (or variable) of the file named like a stale one of the server (re-created under a new UID):
 * DHIS2 refuses two rules of one name in a program (E4057, E4051), and the stale one only goes after the
 * import. Say how to get out of it; the dry run shows DHIS2's own error too.
 */
export function nameClashes(
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

/** The server's rules, variables and actions of the program that `payload` does not have, sorted. */
export function staleRules(
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
export function scopeToProgram(
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
export function keepReachable(kept: Map<string, MetadataObject[]>, programId: string): string[] {
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
