/**
 * POST /api/metadata: the metadata importer. It follows DHIS2's object bundle: parse the parameters
 * (case-sensitive enums that silently fall back to their default, DefaultMetadataImportService
 * .getParamsFromMap), validate every object (E4014 UID, E4000 required, E5000/E5001 strategy, E5002
 * references in payload or store, sharing users/groups), then commit unless the mode is VALIDATE or
 * atomicMode=ALL met an error.
 */
import { embeddedKey, refId, stripComputed } from './normalize.ts';
import { forEachReference } from './refs.ts';
import {
  emptyStats,
  errorReport,
  identifiersWithName,
  type ErrorReport,
  type ImportOutcome,
  type ImportStatus,
  type ObjectReport,
  type Stats,
  type TypeReport,
} from './reports.ts';
import {
  DEFAULT_ID_COLLECTION,
  EMBEDDED,
  EMBEDDED_OWNER,
  IMPORT_ORDER,
  PROPERTY_KLASS,
  REFERENCES,
  REQUIRED,
  SHAREABLE,
  UNIQUE,
  generateUid,
  isKnownCollection,
  isValidUid,
  klassOf,
  simpleName,
} from './schema.ts';
import {
  DEFAULT_PUBLIC_ACCESS,
  defaultSharing,
  normalizeStoredSharing,
  readSharing,
  stripSharing,
  type Sharing,
} from './sharing.ts';
import { now, type EmulatorUser, type State } from './state.ts';
import { clone, isObj, type Obj, type Store } from './store.ts';
import {
  atLeast,
  commitReportsOmitDisplayName,
  resetsSharingWithoutPublic,
  templateUidUpdateFails,
  type Version,
} from './version.ts';

const IMPORT_MODES = ['COMMIT', 'VALIDATE'] as const;
const STRATEGIES = ['CREATE_AND_UPDATE', 'CREATE', 'UPDATE', 'DELETE'] as const;
const ATOMIC_MODES = ['ALL', 'NONE'] as const;
const REPORT_MODES = ['ERRORS', 'FULL', 'ERRORS_NOT_OWNER', 'DEBUG'] as const;
const IDENTIFIERS = ['UID', 'CODE'] as const;
const PREHEAT_MODES = ['REFERENCE', 'ALL', 'NONE'] as const;
const FLUSH_MODES = ['AUTO', 'OBJECT'] as const;

/**
 * An import that fails as a whole, outside the object report: DHIS2 answers the sync import with 409 and only
 * this message, and fails the async job with "Process failed: <message>". Nothing of the import is kept.
 */
export class FatalImportError extends Error {}

/** The Hibernate exception of a program rule action update with templateUid on 2.42+ (templateUidUpdateFails). */
export const TRANSIENT_TEMPLATE_MESSAGE =
  'org.hibernate.TransientPropertyValueException: object references an unsaved transient instance - save the ' +
  'transient instance before flushing : org.hisp.dhis.programrule.ProgramRuleAction.notificationTemplate -> ' +
  'org.hisp.dhis.program.notification.ProgramNotificationTemplate';

/** ValueType's constants in the order Jackson lists them (real-2.43.1/import-validate-bad-enum.json). */
const VALUE_TYPES = [
  'BOOLEAN',
  'NUMBER',
  'TIME',
  'URL',
  'LONG_TEXT',
  'MULTI_TEXT',
  'USERNAME',
  'GEOJSON',
  'PERCENTAGE',
  'INTEGER',
  'AGE',
  'UNIT_INTERVAL',
  'LETTER',
  'REFERENCE',
  'TEXT',
  'DATE',
  'FILE_RESOURCE',
  'INTEGER_NEGATIVE',
  'COORDINATE',
  'INTEGER_POSITIVE',
  'IMAGE',
  'EMAIL',
  'TRUE_ONLY',
  'INTEGER_ZERO_OR_POSITIVE',
  'ORGANISATION_UNIT',
  'PHONE_NUMBER',
  'DATETIME',
];
const VALUE_TYPE_HOLDERS = ['dataElements', 'trackedEntityAttributes', 'optionSets', 'attributes'];

/**
 * Jackson's refusal of an unknown `valueType` while reading the payload (real-2.43.1/import-validate-bad-enum.json:
 * 409, status ERROR, only this message). Only valueType is checked, on the types that have one.
 */
export function unreadableEnum(payload: Obj): string | undefined {
  for (const collection of VALUE_TYPE_HOLDERS) {
    const list = payload[collection];
    if (!Array.isArray(list)) continue;
    for (const o of list) {
      if (!isObj(o) || o.valueType === undefined || o.valueType === null) continue;
      if (typeof o.valueType === 'string' && VALUE_TYPES.includes(o.valueType)) continue;
      return (
        `Cannot deserialize value of type \`org.hisp.dhis.common.ValueType\` from String ${JSON.stringify(String(o.valueType))}: ` +
        `not one of the values accepted for Enum class: [${VALUE_TYPES.join(', ')}]\n at [Source: UNKNOWN; byte offset: ` +
        `#UNKNOWN] (through reference chain: ${klassOf(collection)}["valueType"])`
      );
    }
  }
  return undefined;
}

export interface ImportParams {
  importMode: (typeof IMPORT_MODES)[number];
  importStrategy: (typeof STRATEGIES)[number];
  atomicMode: (typeof ATOMIC_MODES)[number];
  importReportMode: (typeof REPORT_MODES)[number];
  identifier: (typeof IDENTIFIERS)[number];
  preheatMode: (typeof PREHEAT_MODES)[number];
  flushMode: (typeof FLUSH_MODES)[number];
  skipSharing: boolean;
  skipTranslation: boolean;
  skipValidation: boolean;
  async: boolean;
}

/** Guava's Enums.getIfPresent(...).or(default): exact, case-sensitive names; anything else is the default. */
function enumParam<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const v = q.get(name);
  return v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
}

/** Boolean.parseBoolean: "true" in any case is true, anything else false. */
function boolParam(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? '').toLowerCase() === 'true';
}

export function parseImportParams(q: URLSearchParams): ImportParams {
  return {
    importMode: enumParam(q, 'importMode', IMPORT_MODES, 'COMMIT'),
    importStrategy: enumParam(q, 'importStrategy', STRATEGIES, 'CREATE_AND_UPDATE'),
    atomicMode: enumParam(q, 'atomicMode', ATOMIC_MODES, 'ALL'),
    importReportMode: enumParam(q, 'importReportMode', REPORT_MODES, 'ERRORS'),
    identifier: enumParam(q, 'identifier', IDENTIFIERS, 'UID'),
    preheatMode: enumParam(q, 'preheatMode', PREHEAT_MODES, 'REFERENCE'),
    flushMode: enumParam(q, 'flushMode', FLUSH_MODES, 'AUTO'),
    skipSharing: boolParam(q, 'skipSharing'),
    skipTranslation: boolParam(q, 'skipTranslation'),
    skipValidation: boolParam(q, 'skipValidation'),
    async: boolParam(q, 'async'),
  };
}

interface Item {
  collection: string;
  klass: string;
  index: number;
  id: string;
  obj: Obj;
  exists: boolean;
  errors: ErrorReport[];
}

function collectionRank(c: string): number {
  const i = IMPORT_ORDER.indexOf(c);
  return i < 0 ? IMPORT_ORDER.length : i;
}

/** Where each embedded object (PSDE, PTEA, TETA) lives in the store: embedded collection -> id -> owner id. */
function embeddedIndex(store: Store): Map<string, Map<string, string>> {
  const index = new Map<string, Map<string, string>>();
  for (const [embedded, [ownerCollection, prop]] of Object.entries(EMBEDDED_OWNER)) {
    const m = new Map<string, string>();
    for (const owner of store.rawList(ownerCollection)) {
      const list = owner[prop];
      if (Array.isArray(list))
        for (const e of list) if (isObj(e) && typeof e.id === 'string') m.set(e.id, owner.id as string);
    }
    index.set(embedded, m);
  }
  return index;
}

export function runImport(state: State, params: ImportParams, payload: Obj, user: EmulatorUser): ImportOutcome {
  const v = state.version;
  const store = state.store;
  const embeddedAt = embeddedIndex(store);
  const deleting = params.importStrategy === 'DELETE';

  // Gather the objects of every known collection, in import order.
  const items: Item[] = [];
  const collections = Object.keys(payload)
    .filter((c) => isKnownCollection(c) && Array.isArray(payload[c]))
    .sort((a, b) => collectionRank(a) - collectionRank(b) || a.localeCompare(b));
  for (const collection of collections) {
    (payload[collection] as unknown[]).forEach((raw, index) => {
      if (!isObj(raw)) return;
      const obj = clone(raw);
      const given = typeof obj.id === 'string' && obj.id !== '';
      if (!given && !deleting) obj.id = generateUid();
      const id = typeof obj.id === 'string' ? obj.id : '';
      const exists = EMBEDDED_OWNER[collection] ? !!embeddedAt.get(collection)?.has(id) : store.rawHas(collection, id);
      items.push({ collection, klass: klassOf(collection), index, id, obj, exists, errors: [] });
    });
  }

  const inPayload = new Map<string, Set<string>>();
  for (const it of items) {
    let s = inPayload.get(it.collection);
    if (!s) inPayload.set(it.collection, (s = new Set()));
    s.add(it.id);
  }
  const known = (collection: string, id: string): boolean =>
    DEFAULT_ID_COLLECTION[id] === collection || !!inPayload.get(collection)?.has(id) || store.rawHas(collection, id);

  if (deleting) {
    for (const it of items) validateDelete(v, store, it, inPayload);
  } else {
    for (const it of items) validateObject(v, params, it, known, items, store);
    checkUniqueness(v, params, store, items);
    checkDuplicateIds(v, items);
    for (const it of items) validateRuleNames(v, params, store, items, it);
  }

  const hasErrors = items.some((it) => it.errors.length > 0);
  const blocked = hasErrors && params.atomicMode === 'ALL';
  const status: ImportStatus = blocked ? 'ERROR' : hasErrors ? 'WARNING' : 'OK';

  const typeStats = new Map<string, Stats>();
  for (const it of items) {
    let s = typeStats.get(it.collection);
    if (!s) typeStats.set(it.collection, (s = emptyStats()));
    const outcome = blocked || it.errors.length ? 'ignored' : deleting ? 'deleted' : it.exists ? 'updated' : 'created';
    s[outcome]++;
    s.total++;
  }

  if (params.importMode === 'COMMIT' && !blocked) {
    const valid = items.filter((it) => it.errors.length === 0);
    // 2.42+: ProgramRuleAction.setTemplateUid makes a transient ProgramNotificationTemplate; merging it into a
    // STORED action fails at flush and the whole transaction rolls back (recorded on an unchanged SENDMESSAGE
    // action: real-2.43.1/import-commit-sendmessage-templateuid.json, real-2.42.5.2/import-commit-sendmessage.json).
    // Jackson calls the setter whenever the key is there, so any update carrying a templateUid fails; a created
    // action is saved with its template resolved and works. VALIDATE never flushes, so it reports OK.
    if (
      !deleting &&
      templateUidUpdateFails(v) &&
      valid.some((it) => it.collection === 'programRuleActions' && it.exists && isPresent(it.obj.templateUid))
    ) {
      throw new FatalImportError(TRANSIENT_TEMPLATE_MESSAGE);
    }
    if (deleting) commitDeletes(store, valid);
    else commitWrites(state, params, valid, user);
  }

  const full = params.importReportMode === 'FULL' || params.importReportMode === 'DEBUG';
  const typeReports: TypeReport[] = collections
    .filter((c) => typeStats.has(c))
    .map((c) => ({
      klass: klassOf(c),
      stats: typeStats.get(c) ?? emptyStats(),
      objectReports: items
        .filter((it) => it.collection === c && (full || it.errors.length > 0))
        .map((it): ObjectReport => ({
          klass: it.klass,
          index: it.index,
          uid: it.id,
          ...(typeof it.obj.name === 'string' && !(params.importMode === 'COMMIT' && commitReportsOmitDisplayName(v))
            ? { displayName: it.obj.name }
            : {}),
          errorReports: it.errors,
        })),
    }));
  const stats = emptyStats();
  for (const t of typeReports) for (const k of Object.keys(stats) as (keyof Stats)[]) stats[k] += t.stats[k];

  return {
    status,
    stats,
    typeReports,
    importParams: {
      userOverrideMode: 'NONE',
      importMode: params.importMode,
      identifier: params.identifier,
      preheatMode: params.preheatMode,
      importStrategy: params.importStrategy,
      atomicMode: params.atomicMode,
      flushMode: params.flushMode,
      skipSharing: params.skipSharing,
      skipTranslation: params.skipTranslation,
      skipValidation: params.skipValidation,
      metadataSyncImport: false,
      firstRowIsHeader: true,
      username: user.username,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Validation

function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** Required properties by type; trackedEntityType.shortName became required with 2.41 (assumed; 2.42 reports it). */
function requiredProps(collection: string, v: Version): readonly string[] {
  const props = REQUIRED[collection] ?? [];
  if (collection === 'trackedEntityTypes' && !atLeast(v, 41)) return props.filter((p) => p !== 'shortName');
  return props;
}

function validateObject(
  v: Version,
  params: ImportParams,
  it: Item,
  known: (collection: string, id: string) => boolean,
  items: Item[],
  store: Store,
): void {
  const { obj, klass, collection } = it;
  const push = (e: ErrorReport): void => void it.errors.push(e);

  if (!isValidUid(it.id)) {
    push(errorReport(v, 'E4014', [it.id, simpleName(klass)], { mainKlass: klass, errorProperty: 'id' }));
  }
  if (!params.skipValidation) {
    for (const prop of requiredProps(collection, v)) {
      const value = obj[prop];
      const ok = prop === 'program' ? !!refId(value) : isPresent(value);
      if (!ok) {
        push(
          errorReport(v, 'E4000', [prop], {
            mainKlass: klass,
            errorKlass: PROPERTY_KLASS[prop] ?? 'java.lang.String',
            errorProperty: prop,
          }),
        );
      }
    }
    if (collection === 'programStages' && !refId(obj.program)) {
      const listed = items.some(
        (p) =>
          p.collection === 'programs' &&
          Array.isArray(p.obj.programStages) &&
          p.obj.programStages.some((s) => refId(s) === it.id),
      );
      const storedOwner = store
        .rawList('programs')
        .some((p) => (p.programStages as unknown[] | undefined)?.some((s) => refId(s) === it.id));
      if (!listed && !storedOwner) push(errorReport(v, 'E4053', [it.id], { mainKlass: klass }));
    }
  }

  const self = identifiersWithName(it.id, klass, obj.name);
  if (params.importStrategy === 'CREATE' && it.exists) {
    push(errorReport(v, 'E5000', [it.id, self], { mainKlass: klass, mainId: it.id }));
  }
  if (params.importStrategy === 'UPDATE' && !it.exists) {
    push(errorReport(v, 'E5001', [it.id, self], { mainKlass: klass, mainId: it.id }));
  }

  walkReferences(v, obj, collection, known, push);

  const sharing = readSharing(obj, !resetsSharingWithoutPublic(v));
  if (sharing && !params.skipSharing && SHAREABLE.has(collection)) {
    const check = (map: Sharing['users'], target: string, targetKlass: string, association: string): void => {
      for (const id of Object.keys(map)) {
        if (known(target, id)) continue;
        const args = [identifiersWithName(id, targetKlass), self, association];
        push(errorReport(v, 'E5002', args, { mainKlass: klass, mainId: it.id, errorProperty: association }));
      }
    };
    check(sharing.users, 'users', 'org.hisp.dhis.user.User', 'userAccesses');
    check(sharing.userGroups, 'userGroups', 'org.hisp.dhis.user.UserGroup', 'userGroupAccesses');
  }
}

/**
 * E5003, as dhis2-core's UniquenessCheck does it. The map starts from the STORED values of every object of the
 * type (the preheat's uniqueness map, DefaultPreheatService.collectUniqueness, taken before anything is written:
 * an object the payload renames still holds its old value) and grows as the payload is checked, stored objects
 * first, then new ones (ValidationUtils.joinObjects), each in payload order: the first holder of a value keeps
 * it, so two payload objects sharing a value clash too. CREATE checks only new objects and UPDATE only stored
 * ones (selectObjects); defaults are skipped (preheat.isDefault). mainId is the holder, as DHIS2 sets it.
 */
function checkUniqueness(v: Version, params: ImportParams, store: Store, items: Item[]): void {
  for (const [collection, props] of Object.entries(UNIQUE)) {
    const ofType = items.filter((it) => it.collection === collection && DEFAULT_ID_COLLECTION[it.id] !== collection);
    const stored = params.importStrategy === 'CREATE' ? [] : ofType.filter((it) => it.exists);
    const created = params.importStrategy === 'UPDATE' ? [] : ofType.filter((it) => !it.exists);
    const selected = [...stored, ...created];
    if (selected.length === 0) continue;
    for (const prop of props) {
      const taken = new Map<string, string>();
      for (const o of store.rawList(collection)) if (typeof o[prop] === 'string') taken.set(o[prop], o.id as string);
      for (const it of selected) {
        const value = it.obj[prop];
        if (typeof value !== 'string') continue;
        const holder = taken.get(value);
        if (holder === undefined) {
          taken.set(value, it.id);
        } else if (holder !== it.id) {
          const args = [prop, value, identifiersWithName(it.id, it.klass, it.obj.name), holder];
          it.errors.push(errorReport(v, 'E5003', args, { mainKlass: it.klass, mainId: holder, errorProperty: prop }));
        }
      }
    }
  }
}

/**
 * E5004 (dhis2-core DuplicateIdsCheck): an object whose id an earlier object of its type in the payload already
 * has is dropped with an error. DHIS2 compares each object with the previous one of its type only (its idMap
 * keeps the last id), so a duplicate that is not adjacent escapes the check there and fails later, at commit;
 * the emulator reports every repeat, the safe side for the product's tests.
 */
function checkDuplicateIds(v: Version, items: Item[]): void {
  const seen = new Set<string>();
  for (const it of items) {
    if (it.id === '') continue;
    const key = `${it.collection}/${it.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      continue;
    }
    // The second argument is a Java Class, formatted by its toString().
    const args = [it.id, `class ${it.klass}`];
    it.errors.push(errorReport(v, 'E5004', args, { mainKlass: it.klass, mainId: it.id, errorProperty: 'id' }));
  }
}

/** Java's String.equalsIgnoreCase: equal length, each UTF-16 unit equal up to case. */
function equalsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && x.toUpperCase() !== y.toUpperCase() && x.toLowerCase() !== y.toLowerCase()) return false;
  }
  return true;
}

const UPDATE_STRATEGIES: ReadonlySet<string> = new Set(['CREATE_AND_UPDATE', 'UPDATE']);
/** Java's "\\s": the whitespace ProgramRuleVariableObjectBundleHook splits a name on. */
const JAVA_WHITESPACE = /[ \t\n\v\f\r]/;

/**
 * The name checks of the program rule hooks, against the rules STORED before the import (a rule the same payload
 * renames or deletes still counts; a clash between two payload objects does not):
 * - ProgramRuleObjectBundleHook: E4057 when another stored rule of the program (different UID, compared
 *   ignoring case) has the same name ignoring case. The E4057 form dates from dhis2-core PR #12211 (2.40);
 *   earlier releases refused such duplicates through older checks (PR #7357), reported here the same way.
 * - ProgramRuleVariableObjectBundleHook: E4051 when a stored variable of the program has exactly the name
 *   (HQL `prv.name = :name`, case-sensitive on PostgreSQL) and, for CREATE_AND_UPDATE/UPDATE, none of those
 *   is the object itself (for CREATE any match counts); E4052 when a word of the name is and/or/not
 *   (Constants.PROGRAM_RULE_VARIABLE_NAME_INVALID_KEYWORDS, matched whole and case-sensitively).
 */
function validateRuleNames(v: Version, params: ImportParams, store: Store, items: Item[], it: Item): void {
  const name = it.obj.name;
  if (typeof name !== 'string') return;
  const programId = refId(it.obj.program);
  if (it.collection === 'programRules' && programId) {
    const clash = store
      .rawList('programRules')
      .some(
        (r) =>
          refId(r.program) === programId &&
          typeof r.id === 'string' &&
          !equalsIgnoreCase(r.id, it.id) &&
          typeof r.name === 'string' &&
          equalsIgnoreCase(r.name, name),
      );
    if (clash) {
      const program =
        store.rawGet('programs', programId) ??
        items.find((p) => p.collection === 'programs' && p.id === programId)?.obj;
      const args = [name, typeof program?.name === 'string' ? program.name : 'null'];
      it.errors.push(errorReport(v, 'E4057', args, { mainKlass: it.klass }));
    }
  }
  if (it.collection === 'programRuleVariables') {
    if (programId) {
      const same = store
        .rawList('programRuleVariables')
        .filter((r) => refId(r.program) === programId && r.name === name);
      const refused = UPDATE_STRATEGIES.has(params.importStrategy)
        ? same.length > 0 && !same.some((r) => r.id === it.id)
        : same.length > 0;
      if (refused) it.errors.push(errorReport(v, 'E4051', [name, programId], { mainKlass: it.klass }));
    }
    if (name.split(JAVA_WHITESPACE).some((word) => /^(and|or|not)$/.test(word))) {
      it.errors.push(errorReport(v, 'E4052', [name], { mainKlass: it.klass }));
    }
  }
}

/** E5002 for every reference whose target is neither in the payload nor in the store (DHIS2's preheat check). */
function walkReferences(
  v: Version,
  node: Obj,
  collection: string,
  known: (collection: string, id: string) => boolean,
  push: (e: ErrorReport) => void,
): void {
  forEachReference(node, collection, (target, id, association, holder) => {
    if (known(target, id)) return;
    const args = [
      identifiersWithName(id, klassOf(target)),
      identifiersWithName(holder.id, holder.klass, holder.name),
      association,
    ];
    push(errorReport(v, 'E5002', args, { mainKlass: holder.klass, mainId: holder.id, errorProperty: association }));
  });
}

/** What still uses an object DHIS2 refuses to delete (E4030): only the program-metadata associations. */
function validateDelete(v: Version, store: Store, it: Item, inPayload: Map<string, Set<string>>): void {
  const self = identifiersWithName(it.id, it.klass, it.obj.name);
  const exists = it.exists;
  if (!exists) {
    it.errors.push(errorReport(v, 'E5001', [it.id, self], { mainKlass: it.klass, mainId: it.id }));
    return;
  }
  const goingToo = (c: string, id: string): boolean => !!inPayload.get(c)?.has(id);
  let user: string | undefined;
  if (it.collection === 'dataElements') {
    for (const s of store.rawList('programStages')) {
      if (goingToo('programStages', s.id as string)) continue;
      const psdes = Array.isArray(s.programStageDataElements) ? s.programStageDataElements : [];
      if (psdes.some((e) => isObj(e) && refId(e.dataElement) === it.id)) user = 'ProgramStageDataElement';
    }
  } else if (it.collection === 'trackedEntityAttributes') {
    for (const p of store.rawList('programs')) {
      if (goingToo('programs', p.id as string)) continue;
      const pteas = Array.isArray(p.programTrackedEntityAttributes) ? p.programTrackedEntityAttributes : [];
      if (pteas.some((e) => isObj(e) && refId(e.trackedEntityAttribute) === it.id))
        user = 'ProgramTrackedEntityAttribute';
    }
  } else if (it.collection === 'optionSets') {
    for (const c of ['dataElements', 'trackedEntityAttributes']) {
      for (const o of store.rawList(c)) {
        if (!goingToo(c, o.id as string) && refId(o.optionSet) === it.id) user = simpleName(klassOf(c));
      }
    }
  }
  if (user) it.errors.push(errorReport(v, 'E4030', [user], { mainKlass: it.klass, mainId: it.id }));
}

// ---------------------------------------------------------------------------------------------------------------------
// Commit

function decideSharing(
  v: Version,
  params: ImportParams,
  incoming: Sharing | undefined,
  existing: Obj | undefined,
  user: EmulatorUser,
): Sharing {
  const kept = existing && isObj(existing.sharing) ? (existing.sharing as unknown as Sharing) : undefined;
  if (params.skipSharing) return kept ?? defaultSharing(user.id);
  if (incoming && (incoming.public !== undefined || !resetsSharingWithoutPublic(v))) {
    return {
      owner: incoming.owner ?? kept?.owner ?? user.id,
      external: incoming.external ?? false,
      public: incoming.public ?? DEFAULT_PUBLIC_ACCESS,
      users: incoming.users,
      userGroups: incoming.userGroups,
    };
  }
  // 2.41+: an object written without `sharing.public` gets the default sharing, even on update.
  if (resetsSharingWithoutPublic(v)) return defaultSharing(user.id);
  return kept ?? defaultSharing(user.id);
}

function prepareEmbedded(collection: string, e: Obj, owner: Obj): Obj {
  const out = clone(e);
  stripComputed(out);
  normalizeStoredSharing(collection, out);
  if (!isValidUid(out.id)) out.id = generateUid();
  const back = EMBEDDED_OWNER[collection]?.[2];
  if (back && !refId(out[back])) out[back] = { id: owner.id };
  return out;
}

function commitWrites(state: State, params: ImportParams, items: Item[], user: EmulatorUser): void {
  const v = state.version;
  const store = state.store;
  const at = now();
  const stamp = (o: Obj, existing: Obj | undefined): void => {
    o.created = existing?.created ?? o.created ?? at;
    o.lastUpdated = at;
    o.createdBy = existing?.createdBy ?? (isObj(o.createdBy) ? o.createdBy : { id: user.id });
    o.lastUpdatedBy = { id: user.id };
  };
  const embeddedItems: Item[] = [];
  for (const it of items) {
    if (EMBEDDED_OWNER[it.collection]) {
      embeddedItems.push(it);
      continue;
    }
    const existing = store.rawGet(it.collection, it.id);
    const o = clone(it.obj);
    stripComputed(o);
    const incomingSharing = readSharing(o, !resetsSharingWithoutPublic(v));
    const incomingSharingObject = o.sharing;
    if (isObj(o.user)) {
      if (!isObj(o.createdBy)) o.createdBy = o.user;
      delete o.user;
    }
    stripSharing(o);
    if (SHAREABLE.has(it.collection)) o.sharing = decideSharing(v, params, incomingSharing, existing, user);
    else if (isObj(incomingSharingObject)) o.sharing = incomingSharingObject;
    for (const [prop, embedded] of Object.entries(EMBEDDED[it.collection] ?? {})) {
      if (Array.isArray(o[prop]))
        o[prop] = (o[prop] as unknown[]).filter(isObj).map((e) => prepareEmbedded(embedded, e, o));
    }
    if (existing && VERSIONED.has(it.collection)) o.version = bumpedVersion(existing.version, o.version);
    stamp(o, existing);
    store.putRaw(it.collection, o);
  }
  // Top-level PSDEs/PTEAs/TETAs: upsert into their owner, where DHIS2 keeps them.
  for (const it of embeddedItems) {
    const [ownerCollection, prop, back] = EMBEDDED_OWNER[it.collection]!;
    const ownerId = refId(it.obj[back]) ?? findOwner(store, ownerCollection, prop, it.id);
    const owner = ownerId ? store.rawGet(ownerCollection, ownerId) : undefined;
    if (!owner) continue;
    const list = Array.isArray(owner[prop]) ? (owner[prop] as Obj[]) : [];
    const e = prepareEmbedded(it.collection, it.obj, owner);
    const at2 = list.findIndex(
      (x) => x.id === e.id || (embeddedKey(x) !== undefined && embeddedKey(x) === embeddedKey(e)),
    );
    const next = at2 < 0 ? [...list, e] : list.map((x, i) => (i === at2 ? e : x));
    store.putRaw(ownerCollection, { ...owner, [prop]: next, lastUpdated: at });
  }
}

/** The VersionedObject types: Program, OptionSet, DataSet. */
const VERSIONED: ReadonlySet<string> = new Set(['programs', 'optionSets', 'dataSets']);

/**
 * dhis2-core VersionedObjectObjectBundleHook.preUpdate (every version the emulator covers): the stored version wins
 * when higher, the payload's when higher, and an equal one (a re-import of an unchanged export) is increased by
 * one. A missing version reads 0 (a Java int). Not modelled: the same hook's postCreate/postTypeImport bump of an
 * option set for new or imported options, which can add more; assert "increased", not an exact number.
 */
function bumpedVersion(stored: unknown, incoming: unknown): number {
  const persisted = typeof stored === 'number' ? stored : 0;
  const given = typeof incoming === 'number' ? incoming : 0;
  if (persisted > given) return persisted;
  if (persisted < given) return given;
  return persisted + 1;
}

function findOwner(store: Store, ownerCollection: string, prop: string, id: string): string | undefined {
  for (const o of store.rawList(ownerCollection)) {
    if (Array.isArray(o[prop]) && (o[prop] as unknown[]).some((e) => refId(e) === id)) return o.id as string;
  }
  return undefined;
}

/** Children DHIS2 deletes with their owner (cascades and deletion handlers). */
function cascade(store: Store, collection: string, id: string, out: [string, string][]): void {
  const owned = (c: string, back: string, listed: unknown): void => {
    const listedIds = new Set(Array.isArray(listed) ? listed.map(refId).filter((x): x is string => !!x) : []);
    for (const o of store.rawList(c)) {
      if (refId(o[back]) === id || listedIds.has(o.id as string)) {
        out.push([c, o.id as string]);
        cascade(store, c, o.id as string, out);
      }
    }
  };
  const self = store.rawGet(collection, id);
  if (!self) return;
  if (collection === 'programRules') owned('programRuleActions', 'programRule', self.programRuleActions);
  if (collection === 'programStages') owned('programStageSections', 'programStage', self.programStageSections);
  if (collection === 'programs') {
    owned('programStages', 'program', self.programStages);
    owned('programSections', 'program', self.programSections);
    owned('programRules', 'program', undefined);
    owned('programRuleVariables', 'program', undefined);
    owned('programIndicators', 'program', undefined);
  }
}

function commitDeletes(store: Store, items: Item[]): void {
  const gone: [string, string][] = [];
  for (const it of items) {
    if (EMBEDDED_OWNER[it.collection]) {
      const [ownerCollection, prop] = EMBEDDED_OWNER[it.collection]!;
      const ownerId = findOwner(store, ownerCollection, prop, it.id);
      const owner = ownerId ? store.rawGet(ownerCollection, ownerId) : undefined;
      if (owner)
        store.putRaw(ownerCollection, { ...owner, [prop]: (owner[prop] as Obj[]).filter((e) => e.id !== it.id) });
      continue;
    }
    gone.push([it.collection, it.id]);
    cascade(store, it.collection, it.id, gone);
  }
  const goneIds = new Set(gone.map(([, id]) => id));
  for (const [c, id] of gone) store.remove(c, id);
  // Deletion handlers: drop the deleted objects from every collection of references to them.
  for (const c of store.collections()) {
    for (const o of store.rawList(c)) {
      let changed: Obj | undefined;
      for (const [k, value] of Object.entries(o)) {
        if (!REFERENCES[k] || !Array.isArray(value)) continue;
        const kept = value.filter((r) => !(refId(r) && goneIds.has(refId(r)!)));
        if (kept.length !== value.length) (changed ??= { ...o })[k] = kept;
      }
      if (changed) store.putRaw(c, changed);
    }
  }
}
