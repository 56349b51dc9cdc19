/**
 * Sharing on metadata objects, across the DHIS2 versions a restore may target (dhis2-api.md, "Sharing"):
 * - 2.36+ carries `sharing: {owner, public, external, users: {uid: {id, access}}, userGroups: {...}}`;
 * - up to 2.40 the legacy keys (`publicAccess`, `externalAccess`, `userAccesses`, `userGroupAccesses`, and
 *   `user`, the owner before 2.36) are serialized too, and read on import;
 * - 2.41 removed the legacy keys: they are ignored on import, and an existing object sent without
 *   `sharing.public` has its sharing reset to the default.
 * Pure functions: objects in, new objects out.
 */
import { LEGACY_ACCESS_KEYS } from './keys.ts';
import { cloneJson, isRecord, type JsonRecord } from './json.ts';
import type { MetadataObject } from './types.ts';
import { setOwn } from '../util/own-keys.ts';

/** The first DHIS2 minor version that ignores the legacy keys (and resets sharing sent without `public`). */
export const SHARING_ONLY_FROM_MINOR = 41;

export { LEGACY_ACCESS_KEYS };

/**
 * Every legacy sharing key. `user` was the owner before 2.36 and the creator up to 2.40 (then `createdBy`);
 * 2.41+ ignores it like the others.
 */
export const LEGACY_SHARING_KEYS = [...LEGACY_ACCESS_KEYS, 'user'] as const;

/** The keys that say who may access an object: what "the server's sharing" replaces. */
const ACCESS_KEYS: readonly string[] = ['sharing', ...LEGACY_ACCESS_KEYS];

/** True when the target honours only `sharing` (2.41+). */
export function sharingOnly(minor: number): boolean {
  return minor >= SHARING_ONLY_FROM_MINOR;
}

/** True when `obj.sharing.public` is set: what 2.41+ needs not to reset an existing object's sharing. */
export function hasSharingPublic(obj: MetadataObject): boolean {
  return isRecord(obj.sharing) && typeof obj.sharing.public === 'string';
}

/** True when the object says who may access it in a form the target reads. */
export function hasSharingFor(obj: MetadataObject, minor: number): boolean {
  if (hasSharingPublic(obj)) return true;
  return !sharingOnly(minor) && typeof obj.publicAccess === 'string';
}

/** True when the object carries any sharing information (modern or legacy), whatever the version. */
export function hasAnySharing(obj: MetadataObject): boolean {
  return ACCESS_KEYS.some((key) => obj[key] !== undefined && obj[key] !== null);
}

/**
 * `sharing` built from the legacy keys, or undefined when there is no `publicAccess` (without it the
 * result would lack `public`, which is what makes 2.41+ reset). Legacy access entries are
 * `{id | userUid | userGroupUid, access, displayName?}`.
 */
export function sharingFromLegacy(obj: MetadataObject): JsonRecord | undefined {
  if (typeof obj.publicAccess !== 'string') return undefined;
  const sharing: JsonRecord = {};
  const owner = isRecord(obj.user) && typeof obj.user.id === 'string' ? obj.user.id : undefined;
  if (owner !== undefined) sharing.owner = owner;
  sharing.public = obj.publicAccess;
  if (typeof obj.externalAccess === 'boolean') sharing.external = obj.externalAccess;
  sharing.users = accessMap(obj.userAccesses, 'userUid');
  sharing.userGroups = accessMap(obj.userGroupAccesses, 'userGroupUid');
  return sharing;
}

function accessMap(entries: unknown, uidKey: string): Record<string, { id: string; access: string }> {
  const out: Record<string, { id: string; access: string }> = {};
  if (!Array.isArray(entries)) return out;
  for (const entry of entries) {
    if (!isRecord(entry) || typeof entry.access !== 'string') continue;
    const id = typeof entry.id === 'string' ? entry.id : entry[uidKey];
    if (typeof id === 'string') setOwn(out, id, { id, access: entry.access });
  }
  return out;
}

/**
 * For 2.41+: an object whose sharing is only in legacy keys gets the same sharing as `sharing`, which is
 * all 2.41 reads. Returns the object itself when there is nothing to convert.
 */
export function withModernSharing(obj: MetadataObject): MetadataObject {
  if (hasSharingPublic(obj)) return obj;
  const sharing = sharingFromLegacy(obj);
  return sharing === undefined ? obj : { ...obj, sharing };
}

/**
 * `target` with its access keys replaced by those `source` (the server's copy) has. A key the server copy
 * lacks is removed from the target rather than left from the file: up to 2.40 DHIS2 applies `sharing` and
 * the legacy keys in document order, so a stale `publicAccess` from the file could undo the server's
 * `sharing`. `user` is replaced only when the server copy has it (it is also the creator, not only access).
 * Returns `target` unchanged when the server copy has no sharing at all (nothing to keep). Copies what it
 * takes from `source`.
 */
export function withSharingOf(target: MetadataObject, source: MetadataObject): MetadataObject {
  if (!ACCESS_KEYS.some((key) => isPresent(source[key]))) return target;
  const out: MetadataObject = {};
  for (const [key, value] of Object.entries(target)) {
    if (!ACCESS_KEYS.includes(key)) setOwn(out, key, value);
  }
  for (const key of ACCESS_KEYS) {
    if (isPresent(source[key])) out[key] = cloneJson(source[key]);
  }
  if (isPresent(source.user)) out.user = cloneJson(source.user);
  return out;
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}
