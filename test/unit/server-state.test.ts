/** The server's side of a review (src/metadata/server-state.ts): what changed on the server since, by object and field. */
import { describe, expect, it } from 'vitest';
import { decodeServerState, encodeServerState, serverState, staleSince } from '../../src/metadata/server-state.ts';

const IGNORE = new Set(['lastUpdated', 'href']);
const server = () =>
  new Map<string, Record<string, unknown>>([
    ['DeA00000001', { id: 'DeA00000001', name: 'A', description: 'first', lastUpdated: '2026-01-01' }],
    ['DeB00000002', { id: 'DeB00000002', name: 'B', valueType: 'TEXT' }],
    ['RuleC000003', { id: 'RuleC000003', name: 'C', condition: 'true' }],
  ]);
const touched = { named: ['DeA00000001', 'RuleC000003', 'NewD0000004'], others: ['DeB00000002'] };
const roundTrip = (s: ReturnType<typeof serverState>, max?: number) => decodeServerState(encodeServerState(s, max))!;

describe('server state', () => {
  it('the same server is the same state, through the comment; stamps the server keeps itself do not count', () => {
    const a = serverState(touched, server(), IGNORE);
    const later = server();
    later.get('DeA00000001')!.lastUpdated = '2026-02-02';
    expect(staleSince(roundTrip(a), serverState(touched, later, IGNORE))).toBeUndefined();
  });

  it('names the object and the field that changed, one created where the plan creates, one deleted', () => {
    const reviewed = roundTrip(serverState(touched, server(), IGNORE));
    const now = server();
    now.get('DeA00000001')!.description = 'edited on the server';
    now.delete('RuleC000003');
    now.set('NewD0000004', { id: 'NewD0000004', name: 'made on the server' });
    expect(staleSince(reviewed, serverState(touched, now, IGNORE))).toEqual([
      { id: 'DeA00000001', what: 'changed', fields: ['description'] },
      { id: 'NewD0000004', what: 'created' },
      { id: 'RuleC000003', what: 'deleted' },
    ]);
  });

  it('a change of an object the import only overwrites is detected without a name', () => {
    const reviewed = roundTrip(serverState(touched, server(), IGNORE));
    const now = server();
    now.get('DeB00000002')!.valueType = 'NUMBER';
    expect(staleSince(reviewed, serverState(touched, now, IGNORE))).toEqual([]);
  });

  it('past its share of the comment: first the fields, then the objects go; the change is still detected', () => {
    const s = serverState(touched, server(), IGNORE);
    const full = encodeServerState(s);
    const noFields = encodeServerState(s, full.length - 1);
    expect(noFields).not.toMatch(/\.[0-9a-f]{4}/);
    expect(noFields.split('|')).toHaveLength(4);
    expect(encodeServerState(s, 40)).toBe(s.all);
    const now = server();
    now.get('DeA00000001')!.name = 'renamed';
    expect(staleSince(roundTrip(s, full.length - 1), serverState(touched, now, IGNORE))).toEqual([
      { id: 'DeA00000001', what: 'changed' },
    ]);
    expect(staleSince(roundTrip(s, 40), serverState(touched, now, IGNORE))).toEqual([]);
  });

  it('anything else than what it writes is no state (a hand-made marker is refused)', () => {
    expect(decodeServerState('not-a-hash')).toBeUndefined();
    expect(decodeServerState(`${'a'.repeat(32)}|x y:123`)).toBeUndefined();
    expect(decodeServerState(`${'a'.repeat(32)}|DeA00000001:zz`)).toBeUndefined();
  });
});
