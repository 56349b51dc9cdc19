/**
 * Small helpers for walking parsed JSON. Objects are rebuilt with own properties defined, never assigned
 * through the prototype chain: a key named `__proto__` in server data stays a plain key.
 */
import { setOwn } from '../util/own-keys.ts';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `id` of a metadata object or reference (`{id}`), if it has a string one. */
export function idOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  return typeof value.id === 'string' ? value.id : undefined;
}

/**
 * Whether parsed JSON holds a container nested `max` or more levels below the top (the top is level 0, so
 * `max` levels are allowed). Recursive, but never deeper than `max` + 1 frames: it stops at the first value
 * too deep, so no input can overflow it. for-in, not Object.values: it visits every node of multi-megabyte
 * documents.
 */
export function exceedsDepth(value: unknown, max: number): boolean {
  return typeof value === 'object' && value !== null && containerTooDeep(value, 0, max);
}

function containerTooDeep(v: object, depth: number, max: number): boolean {
  if (depth >= max) return true;
  if (Array.isArray(v)) {
    for (const child of v as unknown[]) {
      if (typeof child === 'object' && child !== null && containerTooDeep(child, depth + 1, max)) return true;
    }
    return false;
  }
  for (const key in v) {
    const child = (v as JsonRecord)[key];
    if (typeof child === 'object' && child !== null && containerTooDeep(child, depth + 1, max)) return true;
  }
  return false;
}

/**
 * `value` without the properties named in `drop`, at any depth; `onDrop` counts them. Copy on write: an
 * array or object holding none of them, at any depth, is the input's own (no allocation when nothing is
 * dropped, as in most files), so the result shares with the input and neither may be mutated after.
 */
export function withoutKeys(value: unknown, drop: ReadonlySet<string>, onDrop?: (key: string) => void): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const kept = withoutKeys(item, drop, onDrop);
      if (kept !== item && out === undefined) out = value.slice(0, i);
      out?.push(kept);
    }
    return out ?? value;
  }
  const obj = value as JsonRecord;
  let out: JsonRecord | undefined;
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const child = obj[key];
    const dropped = drop.has(key);
    if (dropped) onDrop?.(key);
    const kept = dropped ? undefined : withoutKeys(child, drop, onDrop);
    if ((dropped || kept !== child) && out === undefined) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j] as string, obj[keys[j] as string]);
    }
    if (out !== undefined && !dropped) setOwn(out, key, kept);
  }
  return out ?? value;
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
