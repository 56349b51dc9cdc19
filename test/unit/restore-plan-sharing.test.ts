import { describe, expect, it } from 'vitest';
import { RESTORE_ELEMENTS, type RestoreOptions } from '../../src/config/types.ts';
import { buildRestorePlan } from '../../src/metadata/restore-plan.ts';
import { hasSharingFor, sharingFromLegacy, withModernSharing, withSharingOf } from '../../src/metadata/sharing.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';

const SERVER_SHARING = { owner: 'srvOwner001', public: 'r-------', external: false, users: {}, userGroups: {} };

describe('sharing helpers', () => {
  it('sharingFromLegacy: both legacy entry shapes, owner from user, nothing without publicAccess', () => {
    const legacy: MetadataObject = {
      id: 'abcdefghijk',
      user: { id: 'ownerUid001' },
      publicAccess: 'rw------',
      externalAccess: true,
      userAccesses: [{ userUid: 'userUid0001', access: 'r-------', displayName: 'A' }],
      userGroupAccesses: [
        { id: 'groupUid001', access: 'rw------' },
        { userGroupUid: 'groupUid002', access: 'r-------' },
      ],
    };
    expect(sharingFromLegacy(legacy)).toEqual({
      owner: 'ownerUid001',
      public: 'rw------',
      external: true,
      users: { userUid0001: { id: 'userUid0001', access: 'r-------' } },
      userGroups: {
        groupUid001: { id: 'groupUid001', access: 'rw------' },
        groupUid002: { id: 'groupUid002', access: 'r-------' },
      },
    });
    expect(sharingFromLegacy({ id: 'x', userGroupAccesses: [] })).toBeUndefined();
  });

  it('withModernSharing keeps a complete sharing and converts only legacy-only objects', () => {
    const modern = { id: 'x', sharing: { public: 'r-------' }, publicAccess: 'rw------' };
    expect(withModernSharing(modern)).toBe(modern);
    expect(withModernSharing({ id: 'x', publicAccess: 'rw------' }).sharing).toMatchObject({ public: 'rw------' });
    const none = { id: 'x' };
    expect(withModernSharing(none)).toBe(none);
  });

  it('hasSharingFor: legacy counts only before 2.41', () => {
    const legacy = { id: 'x', publicAccess: 'rw------' };
    expect(hasSharingFor(legacy, 40)).toBe(true);
    expect(hasSharingFor(legacy, 41)).toBe(false);
    expect(hasSharingFor({ id: 'x', sharing: { users: {} } }, 40)).toBe(false);
    expect(hasSharingFor({ id: 'x', sharing: { public: '--------' } }, 43)).toBe(true);
  });

  it("withSharingOf: the server's access keys replace the file's, which it never shares", () => {
    const file = { id: 'x', name: 'n', sharing: { public: 'rw------' }, publicAccess: 'rw------', user: { id: 'u1' } };
    const server = { id: 'x', sharing: SERVER_SHARING };
    const out = withSharingOf(file, server);
    expect(out).toEqual({ id: 'x', name: 'n', sharing: SERVER_SHARING, user: { id: 'u1' } });
    expect(out.sharing).not.toBe(SERVER_SHARING);
    // A server copy without sharing (a type without it, or not read) leaves the object as it is.
    expect(withSharingOf(file, { id: 'x' })).toBe(file);
  });
});

describe('buildRestorePlan: where the server copy comes from', () => {
  const file: MetadataDocument = {
    programs: [{ id: 'prg00000001', name: 'P', sharing: { public: 'rw------', users: {}, userGroups: {} } }],
    programStages: [
      { id: 'stg00000001', program: { id: 'prg00000001' }, sharing: { public: 'rw------' } },
      { id: 'stg00000002', program: { id: 'prg00000001' } },
    ],
  };
  const options: RestoreOptions = {
    elements: [...RESTORE_ELEMENTS],
    organisationUnits: 'keep',
    sharing: 'keep',
    payload: 'changed',
  };

  it('objects of `current` count as existing: keep takes their sharing without a separate read', () => {
    const current: MetadataDocument = {
      programs: [{ id: 'prg00000001', sharing: SERVER_SHARING, organisationUnits: [] }],
      programStages: [{ id: 'stg00000001', sharing: SERVER_SHARING }],
    };
    const plan = buildRestorePlan(file, 'prg00000001', options, { current, existing: new Map(), minor: 41 });
    const stages = plan.payload.programStages as MetadataObject[];
    expect((plan.payload.programs as MetadataObject[])[0]?.sharing).toEqual(SERVER_SHARING);
    expect(stages[0]?.sharing).toEqual(SERVER_SHARING);
    // Not on the server: the file's (here none: DHIS2 gives a new object the default).
    expect(stages[1]).not.toHaveProperty('sharing');
  });

  it('`existing` wins over `current` (it is the fresher, targeted read)', () => {
    const current: MetadataDocument = { programs: [{ id: 'prg00000001', sharing: SERVER_SHARING }] };
    const fresher = { ...SERVER_SHARING, public: '--------' };
    const existing = new Map([['prg00000001', { id: 'prg00000001', sharing: fresher }]]);
    const plan = buildRestorePlan(file, 'prg00000001', options, { current, existing, minor: 41 });
    expect((plan.payload.programs as MetadataObject[])[0]?.sharing).toEqual(fresher);
  });
});
