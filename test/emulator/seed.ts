/**
 * The sample seed (real fixtures plus one made HNQIS2 program) and the building of a store from seed
 * documents. Parsing and normalizing ~3.5 MB of fixtures takes a moment, so the result is built once per
 * process and every emulator forks it (see Store).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { programDependencies } from './export.ts';
import { forEachReference } from './refs.ts';
import {
  DEFAULT_IDS,
  DEFAULT_ID_SET,
  EMBEDDED,
  EMBEDDED_OWNER,
  REQUIRED,
  UNIQUE,
  derivedUid,
  isValidUid,
  klassOf,
  simpleName,
} from './schema.ts';
import { embeddedKey, refId, stripComputed } from './normalize.ts';
import { normalizeStoredSharing, readSharing } from './sharing.ts';
import { Store, clone, isObj, type Obj } from './store.ts';
import type { SampleProgram } from './types.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Fixture files in load order (later files win on id collisions), relative to test/fixtures. */
export const SAMPLE_FILES = [
  'dhis2/who_TB-REG_TRACKER_V1_DHIS2.33.json',
  'dhis2/who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json',
  'dhis2/core_e2e_tracker_metadata.json',
  'dhis2/core_metadata_with_program_and_programrules.json',
  'dhis2/psi_HNQIS2_Metadata_Package.json',
  'made/hnqis2_program.json',
] as const;

function loadFixture(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(FIXTURES + file, 'utf8')) as Record<string, unknown>;
}

export const SAMPLE_SEED: Record<string, unknown>[] = SAMPLE_FILES.map(loadFixture);

/** PROGRAM_TYPE attribute (pca-reference.md): HNQIS2/HNQIS3 programs are 'hnqis2'. */
export const PROGRAM_TYPE_ATTRIBUTE = 'yB5tFAAN7bI';

export function programKind(program: Obj): 'tracker' | 'hnqis2' {
  const avs = Array.isArray(program.attributeValues) ? program.attributeValues : [];
  for (const av of avs) {
    if (isObj(av) && isObj(av.attribute) && av.attribute.id === PROGRAM_TYPE_ATTRIBUTE) {
      return av.value === 'HNQIS2' || av.value === 'HNQIS3' ? 'hnqis2' : 'tracker';
    }
  }
  return 'tracker';
}

/** Makes a seed object look as a 2.36+ server stores it. */
function normalize(collection: string, o: Obj): void {
  stripComputed(o);
  normalizeStoredSharing(collection, o);
  for (const [prop, embedded] of Object.entries(EMBEDDED[collection] ?? {})) {
    const list = o[prop];
    if (!Array.isArray(list)) continue;
    o[prop] = list.filter(isObj).map((e, i) => {
      normalizeStoredSharing(embedded, e);
      if (!isValidUid(e.id)) e.id = derivedUid(`${o.id as string}/${prop}/${embeddedKey(e) ?? i}`);
      return e;
    });
  }
  // Servers migrated to 2.40+ filled the new required shortName of tracked entity types from the name.
  if (collection === 'trackedEntityTypes' && typeof o.shortName !== 'string' && typeof o.name === 'string') {
    o.shortName = o.name.slice(0, 50);
  }
}

const DEFAULT_OBJECTS: [string, Obj][] = [
  [
    'categoryOptions',
    { id: DEFAULT_IDS.categoryOption, name: 'default', shortName: 'default', code: 'default', attributeValues: [] },
  ],
  [
    'categories',
    {
      id: DEFAULT_IDS.category,
      name: 'default',
      shortName: 'default',
      code: 'default',
      dataDimensionType: 'DISAGGREGATION',
      dataDimension: false,
      categoryOptions: [{ id: DEFAULT_IDS.categoryOption }],
      attributeValues: [],
    },
  ],
  [
    'categoryCombos',
    {
      id: DEFAULT_IDS.categoryCombo,
      name: 'default',
      code: 'default',
      dataDimensionType: 'DISAGGREGATION',
      skipTotal: false,
      categories: [{ id: DEFAULT_IDS.category }],
      attributeValues: [],
    },
  ],
  [
    'categoryOptionCombos',
    {
      id: DEFAULT_IDS.categoryOptionCombo,
      name: 'default',
      code: 'default',
      ignoreApproval: false,
      categoryCombo: { id: DEFAULT_IDS.categoryCombo },
      categoryOptions: [{ id: DEFAULT_IDS.categoryOption }],
      attributeValues: [],
    },
  ],
];

export interface SeedResult {
  store: Store;
  /** program id -> the seed file (or document index) that defined it last. */
  programSources: Map<string, string>;
}

/**
 * Builds a store from metadata documents. Same id = same object, the last document wins. Top-level
 * programStageDataElements / programTrackedEntityAttributes / trackedEntityTypeAttributes are folded into
 * their owner, where DHIS2 keeps them.
 */
export function buildStore(docs: readonly Record<string, unknown>[], names?: readonly string[]): SeedResult {
  const store = new Store();
  const programSources = new Map<string, string>();
  const loose: [string, Obj][] = [];
  docs.forEach((doc, di) => {
    for (const [collection, value] of Object.entries(doc)) {
      if (!Array.isArray(value)) continue;
      for (const raw of value) {
        if (!isObj(raw)) continue;
        const o = clone(raw);
        if (EMBEDDED_OWNER[collection]) {
          loose.push([collection, o]);
          continue;
        }
        if (!isValidUid(o.id)) continue;
        normalize(collection, o);
        store.putRaw(collection, o);
        if (collection === 'programs') programSources.set(o.id as string, names?.[di] ?? `seed[${di}]`);
      }
    }
  });
  for (const [collection, o] of loose) foldEmbedded(store, collection, o);
  for (const [collection, o] of DEFAULT_OBJECTS) {
    if (!store.rawHas(collection, o.id as string)) store.putRaw(collection, o);
  }
  resolveUniqueClashes(store);
  addStubs(store);
  return { store, programSources };
}

/**
 * Fixtures from different servers can share a unique value (the TB and COVAC packages both have a tracked
 * entity attribute with shortName "Family name", under different ids). One server never holds both, so the
 * object loaded first gets its id appended to the value, and exports import back without E5003.
 */
function resolveUniqueClashes(store: Store): void {
  for (const [collection, props] of Object.entries(UNIQUE)) {
    for (const prop of props) {
      const holders = new Map<string, Obj[]>();
      for (const o of store.rawList(collection)) {
        if (typeof o[prop] !== 'string') continue;
        const list = holders.get(o[prop]) ?? [];
        list.push(o);
        holders.set(o[prop], list);
      }
      for (const [value, list] of holders) {
        for (const o of list.slice(0, -1)) {
          const renamed = prop === 'code' ? `${value}_${o.id as string}` : `${value} (${o.id as string})`;
          store.putRaw(collection, { ...store.rawGet(collection, o.id as string)!, [prop]: renamed });
        }
      }
    }
  }
}

function foldEmbedded(store: Store, collection: string, e: Obj): void {
  const [ownerCollection, prop, back] = EMBEDDED_OWNER[collection]!;
  const ownerId = refId(e[back]);
  const owner = ownerId ? store.rawGet(ownerCollection, ownerId) : undefined;
  if (!owner) return;
  const list = Array.isArray(owner[prop]) ? (owner[prop] as Obj[]) : [];
  const key = embeddedKey(e);
  // The owner's own embedded copy is the more complete one (an export carries both); keep it.
  if (list.some((x) => (isValidUid(e.id) && x.id === e.id) || (key !== undefined && embeddedKey(x) === key))) return;
  stripComputed(e);
  normalizeStoredSharing(collection, e);
  if (!isValidUid(e.id)) e.id = derivedUid(`${ownerId!}/${prop}/${key ?? list.length}`);
  store.putRaw(ownerCollection, { ...owner, [prop]: [...list, e] });
}

/** Values for required properties of stub objects. */
const STUB_VALUES: Record<string, unknown> = {
  valueType: 'TEXT',
  aggregationType: 'NONE',
  domainType: 'TRACKER',
  dataDimensionType: 'DISAGGREGATION',
  programType: 'WITHOUT_REGISTRATION',
  openingDate: '1970-01-01T00:00:00.000',
  programRuleActionType: 'DISPLAYTEXT',
  programRuleVariableSourceType: 'DATAELEMENT_CURRENT_EVENT',
};

function stub(collection: string, id: string): Obj {
  const name = `${simpleName(klassOf(collection))} ${id} (stub)`;
  const o: Obj = { id, name, attributeValues: [] };
  for (const prop of REQUIRED[collection] ?? []) {
    if (prop === 'shortName') o.shortName = name.slice(0, 50);
    else if (prop === 'code') o.code = id;
    else if (prop in STUB_VALUES) o[prop] = STUB_VALUES[prop];
  }
  if (collection === 'categoryCombos') o.categories = [{ id: DEFAULT_IDS.category }];
  if (collection === 'users') o.username = `stub_${id}`;
  return o;
}

/**
 * Seeds reference a few objects they do not carry (the sample's dhis2-core fixtures point at
 * category combos and data elements of their test database). A real server has them, so an export from it
 * imports back cleanly: add a named stub for everything a seeded program's export refers to but the seed
 * lacks, sharing users and groups included.
 */
function addStubs(store: Store): number {
  let added = 0;
  for (let round = 0; round < 5; round++) {
    const missing = new Map<string, string>();
    const note = (collection: string, id: string): void => {
      if (!DEFAULT_ID_SET.has(id) && !store.rawHas(collection, id)) missing.set(`${collection}/${id}`, collection);
    };
    for (const program of store.rawList('programs')) {
      for (const [collection, objects] of programDependencies(store, program)) {
        if (EMBEDDED_OWNER[collection]) continue;
        for (const o of objects.values()) {
          forEachReference(o, collection, (target, id) => note(target, id));
          const sharing = readSharing(o, false);
          for (const u of Object.keys(sharing?.users ?? {})) note('users', u);
          for (const g of Object.keys(sharing?.userGroups ?? {})) note('userGroups', g);
        }
      }
    }
    if (missing.size === 0) break;
    for (const [key, collection] of missing) {
      store.putRaw(collection, stub(collection, key.slice(collection.length + 1)));
      added++;
    }
  }
  return added;
}

let sample: (SeedResult & { programs: SampleProgram[] }) | undefined;

/** The sample store, built on first use and shared (read-only) by every emulator of this process. */
export function sampleStore(): SeedResult & { programs: SampleProgram[] } {
  if (!sample) {
    const built = buildStore(SAMPLE_SEED, SAMPLE_FILES);
    const programs = built.store.rawList('programs').map((p) => ({
      id: p.id as string,
      name: String(p.name),
      kind: programKind(p),
      source: built.programSources.get(p.id as string) ?? 'seed',
    }));
    sample = { ...built, programs };
  }
  return sample;
}

/** The store for an emulator's `seed` option: a fork of the cached sample, or a fresh build of custom documents. */
export function seedStore(seed: readonly Record<string, unknown>[] | undefined): Store {
  if (!seed || seed === SAMPLE_SEED) return sampleStore().store.fork();
  return buildStore(seed).store;
}

/** Each seeded sample program: id, name, kind (by the PROGRAM_TYPE attribute) and the fixture it came from. */
export const SAMPLE_PROGRAMS: SampleProgram[] = sampleStore().programs;
