/**
 * Many programs for the scale benchmark (bench/scale.ts): n copies of real programs from test/fixtures/dhis2/,
 * cycling through a few of different sizes and kinds, each one a server of its own could hold next to the others.
 *
 * A copy starts from what the emulator's dependency export gives for the source program (its stages, data
 * elements, option sets, rules, indicators...), plus every object of the package that it names anywhere (the
 * constants in its expressions, the user groups in its sharing...). Then every uid in it is replaced by a new one,
 * deterministically (a hash of copy number and old uid), wherever it occurs: as an id, a reference, a sharing key,
 * or inside an expression or a form's HTML. The unique names, short names and codes get the copy's number.
 *
 * What one DHIS2 server keeps once is shared by all copies, with the source's uids: the default category model,
 * metadata attributes, users, user groups, user roles and org units (and what they reference).
 */
import { createHash } from 'node:crypto';
import type { MetadataDocument } from '../../src/metadata/types.ts';
import { programDependencies } from '../emulator/export.ts';
import { forEachReference } from '../emulator/refs.ts';
import { buildStore } from '../emulator/seed.ts';
import { DEFAULT_ID_SET, EMBEDDED, EMBEDDED_OWNER, UNIQUE } from '../emulator/schema.ts';
import { readSharing } from '../emulator/sharing.ts';
import { isObj, type Obj, type Store } from '../emulator/store.ts';
import { fixture } from './fixtures.ts';

/** The programs copied, in turn: two WHO tracker packages and a tracker and an event program of dhis2-core. */
export const MANY_PROGRAM_SOURCES = [
  { file: 'who_TB-REG_TRACKER_V1_DHIS2.33.json', program: 'Lt6P15ps7f6' },
  { file: 'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json', program: 'yDuAzyqYABS' },
  { file: 'core_metadata_with_program_and_programrules.json', program: 'U5HE4IRrZ7S' },
  { file: 'core_metadata_with_program_and_programrules.json', program: 'uHi4GZJOD3n' },
] as const;

/** Collections one server keeps once, whoever's programs use them: not copied. */
export const SHARED_COLLECTIONS: ReadonlySet<string> = new Set([
  'attributes',
  'users',
  'userGroups',
  'userRoles',
  'organisationUnits',
]);

/** Unique properties beyond the emulator's UNIQUE table (DHIS2 schemas). */
const MORE_UNIQUE: Readonly<Record<string, readonly string[]>> = {
  constants: ['name', 'shortName', 'code'],
  dataEntryForms: ['name'],
  relationshipTypes: ['name', 'code'],
};
const MAX_LENGTH: Readonly<Record<string, number>> = { shortName: 50, code: 50, name: 230 };

const TOKEN = /(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]{10}(?![A-Za-z0-9])/g;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = `${LETTERS}0123456789`;

/** The new uid of `old` in copy `k` (1-based): a letter and 10 letters or digits from a SHA-1 of both. */
export function copyUid(k: number, old: string): string {
  const h = createHash('sha1').update(`many-programs/${k}/${old}`).digest();
  let s = LETTERS[h[0]! % LETTERS.length]!;
  for (let i = 1; i <= 10; i++) s += ALNUM[h[i]! % ALNUM.length]!;
  return s;
}

/** The id of the k-th program (1-based) of manyPrograms, without making it. */
export function manyProgramId(k: number): string {
  return copyUid(k, sourceOf(k).program);
}

/** The ids of the n programs manyPrograms(n) makes, in order. */
export function manyProgramIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => manyProgramId(i + 1));
}

export function sourceOf(k: number): (typeof MANY_PROGRAM_SOURCES)[number] {
  return MANY_PROGRAM_SOURCES[(k - 1) % MANY_PROGRAM_SOURCES.length]!;
}

export interface ProgramTemplate {
  file: string;
  program: string;
  /** The source program's document: collection -> objects (the emulator's stored shape). */
  doc: Record<string, Obj[]>;
  /** Uids of the objects in `doc` that copies get new uids for. */
  copied: ReadonlySet<string>;
  /** Uids of the objects in `doc` that every copy shares. */
  shared: ReadonlySet<string>;
}

/** Every uid-shaped token in the strings and keys of `v`. */
function tokens(v: unknown, out: (t: string) => void): void {
  if (typeof v === 'string') {
    if (v.length >= 11) for (const m of v.matchAll(TOKEN)) out(m[0]);
  } else if (Array.isArray(v)) {
    for (const x of v) tokens(x, out);
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k.length === 11) tokens(k, out);
      tokens(x, out);
    }
  }
}

/** The references DHIS2 resolves on import (the emulator's walk, sharing included). */
export function references(o: Obj, collection: string, visit: (target: string, id: string) => void): void {
  forEachReference(o, collection, (target, id) => visit(target, id));
  const sharing = readSharing(o, true);
  for (const u of Object.keys(sharing?.users ?? {})) visit('users', u);
  for (const g of Object.keys(sharing?.userGroups ?? {})) visit('userGroups', g);
}

const templates = new Map<string, ProgramTemplate>();
const stores = new Map<string, Store>();

/** The source program's document with all it names, and which of its uids copies replace; built once. */
export function programTemplate(source: { file: string; program: string }): ProgramTemplate {
  const key = `${source.file}#${source.program}`;
  const cached = templates.get(key);
  if (cached) return cached;
  let store = stores.get(source.file);
  if (!store) stores.set(source.file, (store = buildStore([fixture(source.file)]).store));
  const where = new Map<string, string>();
  for (const c of store.collections()) for (const o of store.rawList(c)) where.set(o.id as string, c);
  const program = store.rawGet('programs', source.program);
  if (!program) throw new Error(`${source.file}: no program ${source.program}`);

  const doc = new Map<string, Map<string, Obj>>();
  const queue: Obj[] = [];
  const add = (collection: string, o: Obj): void => {
    let m = doc.get(collection);
    if (!m) doc.set(collection, (m = new Map()));
    if (m.has(o.id as string)) return;
    m.set(o.id as string, o);
    queue.push(o);
  };
  for (const [collection, objects] of programDependencies(store, program)) {
    // Embedded in their stage or program already.
    if (EMBEDDED_OWNER[collection]) continue;
    for (const o of objects.values()) add(collection, o);
  }
  // Everything of the package the program names anywhere (expressions, sharing, forms), until nothing is new.
  while (queue.length > 0) {
    tokens(queue.pop(), (t) => {
      const c = where.get(t);
      if (c && !EMBEDDED_OWNER[c]) add(c, store.rawGet(c, t)!);
    });
  }

  // Shared: the defaults, the shared collections, and whatever those reference (it can't be per copy).
  const shared = new Set<string>();
  const share = (id: string): void => {
    if (shared.has(id)) return;
    shared.add(id);
    const c = where.get(id);
    const o = c ? doc.get(c)?.get(id) : undefined;
    if (o && c) references(o, c, (_, ref) => share(ref));
  };
  for (const [c, m] of doc)
    for (const id of m.keys()) if (DEFAULT_ID_SET.has(id) || SHARED_COLLECTIONS.has(c)) share(id);
  const copied = new Set<string>();
  for (const m of doc.values()) for (const id of m.keys()) if (!shared.has(id)) copied.add(id);
  // Embedded objects (stage data elements, program attributes, legends) have uids of their own too.
  for (const [c, m] of doc) {
    for (const [prop] of Object.entries(EMBEDDED[c] ?? {})) {
      for (const o of m.values()) {
        if (shared.has(o.id as string) || !Array.isArray(o[prop])) continue;
        for (const e of o[prop]) if (isObj(e) && typeof e.id === 'string') copied.add(e.id);
      }
    }
  }
  const template: ProgramTemplate = {
    ...source,
    doc: Object.fromEntries([...doc].map(([c, m]) => [c, [...m.values()]])),
    copied,
    shared,
  };
  templates.set(key, template);
  return template;
}

function withSuffix(prop: string, value: string, k: number): string {
  const suffix = prop === 'code' ? `_${k}` : ` #${k}`;
  const max = MAX_LENGTH[prop] ?? 230;
  return `${value.slice(0, max - suffix.length)}${suffix}`;
}

/** Copy number k (1-based) of its source program: new uids everywhere, unique names made unique again. */
export function programCopy(k: number): MetadataDocument {
  const template = programTemplate(sourceOf(k));
  const uids = new Map<string, string>();
  for (const old of template.copied) uids.set(old, copyUid(k, old));
  const swap = (s: string): string =>
    s.length < 11 ? s : s.length === 11 ? (uids.get(s) ?? s) : s.replace(TOKEN, (t) => uids.get(t) ?? t);
  const remap = (v: unknown): unknown => {
    if (typeof v === 'string') return swap(v);
    if (Array.isArray(v)) return v.map(remap);
    if (!isObj(v)) return v;
    const out: Obj = {};
    for (const [key, x] of Object.entries(v)) out[swap(key)] = remap(x);
    return out;
  };
  const doc: MetadataDocument = {};
  for (const [collection, objects] of Object.entries(template.doc)) {
    const unique = [...(UNIQUE[collection] ?? []), ...(MORE_UNIQUE[collection] ?? [])];
    doc[collection] = objects.map((o) => {
      if (template.shared.has(o.id as string)) return structuredClone(o);
      const copy = remap(o) as Obj;
      for (const prop of unique) if (typeof copy[prop] === 'string') copy[prop] = withSuffix(prop, copy[prop], k);
      return copy;
    });
  }
  return doc;
}

/**
 * n programs, one document each (the k-th holds manyProgramId(k)), for an emulator's `seed`. The first n of
 * manyPrograms(m) are manyPrograms(n) for any m >= n.
 */
export function manyPrograms(n: number): MetadataDocument[] {
  return Array.from({ length: n }, (_, i) => programCopy(i + 1));
}
