/**
 * The server's side of a review: what the server held, when the dry run ran, of every object the plan touches
 * (the objects it sends, which the import overwrites whole, and those it deletes). The dry run records it with the
 * plan; restore computes it again before any write and refuses when it differs, naming each object and field that
 * changed on the server since the review (a stale plan, as Terraform calls it): an edit made on the server after
 * the review would otherwise be overwritten by a restore nobody reviewed against it.
 *
 * Recorded compactly, in a hidden line of the dry-run comment: one hash over everything, and per object the plan
 * really changes, creates or deletes a short hash of it and of each of its fields, as long as that fits.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { idOf, isRecord, mapJson } from './json.ts';
import type { MetadataObject } from './types.ts';

/** One object as the server held it: absent, or its hash and its fields' hashes (when recorded). */
export type ObjectState = 'absent' | { hash: string; fields?: Map<string, string> };

export interface ServerState {
  /** A hash over every touched object's state, in id order. */
  all: string;
  /** The objects named one by one (the ones the plan really changes, creates or deletes). */
  objects: Map<string, ObjectState>;
}

export interface TouchedObjects {
  /** Ids the plan changes or creates, or deletes: named one by one. */
  named: readonly string[];
  /** Ids the import overwrites without a change (restore.payload: all): in the overall hash only. */
  others: readonly string[];
}

const hash = (text: string, length: number) => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);

/** The value without the keys the server keeps itself (stamps, links, the reader's access), at any depth. */
function stable(value: unknown, ignore: ReadonlySet<string>): unknown {
  return mapJson(value, (key, v) => (ignore.has(key) ? undefined : v));
}

export function serverState(
  touched: TouchedObjects,
  server: ReadonlyMap<string, MetadataObject>,
  ignore: ReadonlySet<string>,
): ServerState {
  const objects = new Map<string, ObjectState>();
  const overall = createHash('sha256');
  const named = new Set(touched.named);
  for (const id of [...new Set([...touched.named, ...touched.others])].sort()) {
    const obj = server.get(id);
    const state: ObjectState =
      obj === undefined
        ? 'absent'
        : { hash: hash(canonicalJson({ v: stable(obj, ignore) }), 12), fields: fieldHashes(obj, ignore) };
    overall.update(`${id}=${state === 'absent' ? '-' : state.hash}\n`);
    if (named.has(id)) objects.set(id, state);
  }
  return { all: overall.digest('hex').slice(0, 32), objects };
}

function fieldHashes(obj: MetadataObject, ignore: ReadonlySet<string>): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [key, value] of Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (ignore.has(key) || value === undefined) continue;
    fields.set(key, hash(canonicalJson({ v: stable(value, ignore) }), 4));
  }
  return fields;
}

/** Field names are identifiers (DHIS2 schema properties); anything else is left out of the field detail. */
const FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;
const UID = /^[A-Za-z0-9]{1,64}$/;

/**
 * `all|id:hash:field.h,field.h|id:-`, the field detail dropped, then the objects, when longer than `maxChars`
 * (a comment holds 65,536 characters): restore then still detects a change, and names what it still can.
 */
export function encodeServerState(state: ServerState, maxChars = 16_000): string {
  const entry = (id: string, s: ObjectState, detail: boolean) => {
    if (s === 'absent') return `${id}:-`;
    const fields = detail && s.fields ? [...s.fields].filter(([k]) => FIELD.test(k)).map(([k, h]) => `${k}.${h}`) : [];
    return `${id}:${s.hash}${fields.length > 0 ? `:${fields.join(',')}` : ''}`;
  };
  const ids = [...state.objects.keys()].filter((id) => UID.test(id));
  for (const detail of [true, false]) {
    const text = [state.all, ...ids.map((id) => entry(id, state.objects.get(id)!, detail))].join('|');
    if (text.length <= maxChars) return text;
  }
  return state.all;
}

export function decodeServerState(text: string): ServerState | undefined {
  const [all, ...entries] = text.split('|');
  if (!all || !/^[0-9a-f]{32}$/.test(all)) return undefined;
  const objects = new Map<string, ObjectState>();
  for (const e of entries) {
    const [id, h, fields] = e.split(':');
    if (!id || !UID.test(id) || h === undefined) return undefined;
    if (h === '-') {
      objects.set(id, 'absent');
      continue;
    }
    if (!/^[0-9a-f]{12}$/.test(h)) return undefined;
    const map = new Map<string, string>();
    for (const f of fields ? fields.split(',') : []) {
      const [k, fh] = f.split('.');
      if (!k || !fh || !FIELD.test(k) || !/^[0-9a-f]{4}$/.test(fh)) return undefined;
      map.set(k, fh);
    }
    objects.set(id, { hash: h, ...(map.size > 0 ? { fields: map } : {}) });
  }
  return { all, objects };
}

/** An object that changed on the server since the review, and how. */
export interface StaleObject {
  id: string;
  what: 'changed' | 'created' | 'deleted';
  /** The fields that changed, when the review recorded them. */
  fields?: string[];
}

/**
 * What changed on the server between the review (`reviewed`) and now: undefined when nothing did; else the named
 * objects that differ (empty when only an object outside the named ones did).
 */
export function staleSince(reviewed: ServerState, now: ServerState): StaleObject[] | undefined {
  if (reviewed.all === now.all) return undefined;
  const out: StaleObject[] = [];
  for (const [id, before] of reviewed.objects) {
    const after = now.objects.get(id) ?? 'absent';
    if (before === 'absent' && after === 'absent') continue;
    if (before === 'absent') out.push({ id, what: 'created' });
    else if (after === 'absent') out.push({ id, what: 'deleted' });
    else if (before.hash !== after.hash) {
      const keys = new Set([...(before.fields?.keys() ?? []), ...(after.fields?.keys() ?? [])]);
      const fields = before.fields
        ? [...keys].filter((k) => before.fields?.get(k) !== after.fields?.get(k)).sort()
        : undefined;
      out.push({ id, what: 'changed', ...(fields && fields.length > 0 ? { fields } : {}) });
    }
  }
  return out;
}

/** The ids of a document's top-level objects (what the import sends). */
export function documentIds(doc: Record<string, unknown>): string[] {
  const ids: string[] = [];
  for (const value of Object.values(doc)) {
    if (!Array.isArray(value)) continue;
    for (const obj of value) {
      const id = isRecord(obj) ? idOf(obj) : undefined;
      if (id !== undefined) ids.push(id);
    }
  }
  return ids;
}
