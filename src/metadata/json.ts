import { setOwn } from '../util/own-keys.ts';

/**
 * Small helpers for walking parsed JSON. Objects are rebuilt with own properties defined, never assigned
 * through the prototype chain: a key named `__proto__` in server data stays a plain key.
 */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `id` of a metadata object or reference (`{id}`), if it has a string one. */
export function idOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  return typeof value.id === 'string' ? value.id : undefined;
}

/** A deep copy of plain JSON data (no sharing with the input). */
export function cloneJson<T>(value: T): T {
  return mapJson(value, (_key, v) => v) as T;
}

/**
 * Rebuilds `value` bottom-up. `visit(key, rebuilt)` sees each object property after its own children were
 * rebuilt and returns the value to keep, or `undefined` to drop the property. Arrays keep their length.
 */
export function mapJson(value: unknown, visit: (key: string, value: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => mapJson(item, visit));
  if (!isRecord(value)) return value;
  // A plain loop into a fresh object: this runs over every node of multi-megabyte exports, and
  // Object.entries/fromEntries cost several times more. `__proto__` is defined, never assigned, so server
  // data can't change the new object's prototype.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const kept = visit(key, mapJson(value[key], visit));
    if (kept === undefined) continue;
    setOwn(out, key, kept);
  }
  return out;
}

/** Code-unit order: the same on every machine and locale (unlike localeCompare). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
