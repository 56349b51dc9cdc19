/**
 * Sharing as DHIS2 2.36+ stores it (`sharing: {owner, external, public, users, userGroups}`), converted from
 * the legacy keys of older exports at seed time, and serialized back with the legacy keys up to 2.40.
 */
import { SHAREABLE } from './schema.ts';
import { isObj, type Obj } from './store.ts';
import { hasExternalSharing, serializesLegacySharing, type Version } from './version.ts';

export const LEGACY_SHARING_KEYS = ['publicAccess', 'externalAccess', 'userAccesses', 'userGroupAccesses'] as const;

/** DHIS2's default for new metadata: public can read and write metadata, no data access. */
export const DEFAULT_PUBLIC_ACCESS = 'rw------';

export interface Sharing {
  owner?: string;
  external?: boolean;
  public?: string;
  users: Record<string, { id: string; access: string }>;
  userGroups: Record<string, { id: string; access: string }>;
}

export function defaultSharing(owner: string | undefined): Sharing {
  return { ...(owner ? { owner } : {}), external: false, public: DEFAULT_PUBLIC_ACCESS, users: {}, userGroups: {} };
}

export function hasLegacySharing(o: Obj): boolean {
  return LEGACY_SHARING_KEYS.some((k) => k in o);
}

function accessMap(v: unknown, idKey: string): Record<string, { id: string; access: string }> {
  const out: Record<string, { id: string; access: string }> = {};
  if (Array.isArray(v)) {
    for (const a of v) {
      if (!isObj(a)) continue;
      const id = (a.id ?? a[idKey]) as unknown;
      if (typeof id === 'string') out[id] = { id, access: typeof a.access === 'string' ? a.access : '--------' };
    }
  } else if (isObj(v)) {
    for (const [k, a] of Object.entries(v)) {
      if (!isObj(a)) continue;
      const id = typeof a.id === 'string' ? a.id : k;
      out[id] = { id, access: typeof a.access === 'string' ? a.access : '--------' };
    }
  }
  return out;
}

/** `sharing` from an object's `sharing` key, or else its legacy keys; undefined when it has neither. */
export function readSharing(o: Obj, useLegacy: boolean): Sharing | undefined {
  if (isObj(o.sharing)) {
    const s = o.sharing;
    return {
      ...(typeof s.owner === 'string' ? { owner: s.owner } : {}),
      ...(typeof s.external === 'boolean' ? { external: s.external } : {}),
      ...(typeof s.public === 'string' ? { public: s.public } : {}),
      users: accessMap(s.users, 'userUid'),
      userGroups: accessMap(s.userGroups, 'userGroupUid'),
    };
  }
  if (!useLegacy || !hasLegacySharing(o)) return undefined;
  const owner = isObj(o.user) && typeof o.user.id === 'string' ? o.user.id : undefined;
  return {
    ...(owner ? { owner } : {}),
    external: o.externalAccess === true,
    public: typeof o.publicAccess === 'string' ? o.publicAccess : DEFAULT_PUBLIC_ACCESS,
    users: accessMap(o.userAccesses, 'userUid'),
    userGroups: accessMap(o.userGroupAccesses, 'userGroupUid'),
  };
}

export function stripSharing(o: Obj): void {
  delete o.sharing;
  for (const k of LEGACY_SHARING_KEYS) delete o[k];
}

/**
 * Normalizes a stored object in place as the 2.36 migration did: legacy keys become `sharing`, and the
 * legacy `user` (the same column as `createdBy`) becomes `createdBy` and the sharing owner.
 */
export function normalizeStoredSharing(collection: string, o: Obj): void {
  const s = SHAREABLE.has(collection) ? readSharing(o, true) : undefined;
  if (isObj(o.user)) {
    if (!isObj(o.createdBy)) o.createdBy = o.user;
    delete o.user;
  }
  stripSharing(o);
  if (s) o.sharing = s;
}

/** The object as the given version serializes it: legacy keys up to 2.40, no `external` from 2.43. */
export function serializeSharing(collection: string, o: Obj, v: Version): Obj {
  if (!isObj(o.sharing)) return o;
  const s = o.sharing as unknown as Sharing;
  const out: Obj = { ...o };
  if (!hasExternalSharing(v)) {
    const { external: _external, ...rest } = s;
    out.sharing = rest;
  }
  if (serializesLegacySharing(v) && SHAREABLE.has(collection)) {
    out.publicAccess = s.public ?? DEFAULT_PUBLIC_ACCESS;
    out.externalAccess = s.external ?? false;
    out.userAccesses = Object.values(s.users ?? {}).map((a) => ({ access: a.access, id: a.id, userUid: a.id }));
    out.userGroupAccesses = Object.values(s.userGroups ?? {}).map((a) => ({
      access: a.access,
      id: a.id,
      userGroupUid: a.id,
    }));
  }
  return out;
}
