/**
 * Objects keyed by text that comes from data (metadata property names, value types, ids, file keys).
 *
 * A plain object literal inherits `constructor`, `toString`, `__proto__` and the rest from
 * Object.prototype: `TABLE[key]` for such a key returns a function or an object where the table has
 * nothing, and `out[key] = v` with `__proto__` replaces the prototype instead of adding a key. Metadata
 * can carry any key (JSON.parse makes `__proto__` an own property), so every lookup table read with such a
 * key is built by `keyTable` and every object filled with such keys is written through `setOwn`.
 */

/** A frozen lookup table without a prototype: a key it does not list reads as undefined. */
export function keyTable<T>(entries: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** Sets `key` as an own, enumerable property (as JSON.parse would), `__proto__` included. */
export function setOwn<T>(out: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
