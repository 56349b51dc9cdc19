import type { MetadataStore } from './types.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** JSON with object keys sorted at every level: equal data, equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Stored objects never change (see Store), so their canonical text can be remembered. */
const jsonCache = new WeakMap<Obj, string>();
function objectJson(o: Obj): string {
  let s = jsonCache.get(o);
  if (s === undefined) jsonCache.set(o, (s = canonicalJson(o)));
  return s;
}

/**
 * The metadata store. Stored objects are treated as immutable (every change replaces the object), so a
 * store can be forked from the cached seed by copying maps, not objects: starting an emulator stays cheap.
 * The public methods hand out deep copies; the `raw*` methods are for the emulator's own read-only use.
 */
export class Store implements MetadataStore {
  private readonly data: Map<string, Map<string, Obj>>;

  constructor(from?: Store) {
    this.data = new Map();
    if (from) for (const [c, m] of from.data) this.data.set(c, new Map(m));
  }

  fork(): Store {
    return new Store(this);
  }

  get(collection: string, id: string): Obj | undefined {
    const o = this.data.get(collection)?.get(id);
    return o ? clone(o) : undefined;
  }

  list(collection: string): Obj[] {
    return [...(this.data.get(collection)?.values() ?? [])].map(clone);
  }

  put(collection: string, obj: Obj): void {
    const id = obj.id;
    if (typeof id !== 'string' || id === '') throw new Error(`Store.put(${collection}): object has no id`);
    this.putRaw(collection, clone(obj));
  }

  remove(collection: string, id: string): boolean {
    return this.data.get(collection)?.delete(id) ?? false;
  }

  collections(): string[] {
    return [...this.data.keys()].filter((c) => (this.data.get(c)?.size ?? 0) > 0).sort();
  }

  snapshot(): string {
    const parts: string[] = [];
    for (const c of this.collections()) {
      const m = this.data.get(c)!;
      const ids = [...m.keys()].sort();
      parts.push(
        `${JSON.stringify(c)}:{${ids.map((id) => `${JSON.stringify(id)}:${objectJson(m.get(id)!)}`).join(',')}}`,
      );
    }
    return `{${parts.join(',')}}`;
  }

  /** The stored object itself: never mutate it, replace it with putRaw. */
  rawGet(collection: string, id: string): Obj | undefined {
    return this.data.get(collection)?.get(id);
  }

  rawList(collection: string): Obj[] {
    return [...(this.data.get(collection)?.values() ?? [])];
  }

  rawHas(collection: string, id: string): boolean {
    return this.data.get(collection)?.has(id) ?? false;
  }

  /** Takes ownership of `obj`: the caller must not keep mutating it. */
  putRaw(collection: string, obj: Obj): void {
    let m = this.data.get(collection);
    if (!m) this.data.set(collection, (m = new Map()));
    m.set(obj.id as string, obj);
  }

  /** The collection holding `id`, if any (ids are unique across types in DHIS2). */
  findCollection(id: string): string | undefined {
    for (const [c, m] of this.data) if (m.has(id)) return c;
    return undefined;
  }
}
