import { describe, expect, it } from 'vitest';
import { TurnCache } from '../../src/util/turn-cache.ts';

describe('TurnCache', () => {
  it('keeps the current and the previous turn; what two turns did not use goes', () => {
    const c = new TurnCache<string, number>(100);
    c.set('a', 1);
    c.set('b', 2);
    c.turn();
    expect(c.get('a')).toBe(1); // used in this turn: carried into it
    c.set('c', 3);
    c.turn();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.get('b')).toBeUndefined(); // unused for two turns
    c.turn();
    c.turn();
    expect(c.size).toBe(0);
  });

  it('an undefined-valued key is not a miss; a full turn starts the next one', () => {
    const c = new TurnCache<string, number | null>(2);
    c.set('x', null);
    expect(c.get('x')).toBeNull();
    c.set('y', 1);
    c.set('z', 2); // the turn was full: x and y are now the previous turn
    expect(c.size).toBe(3);
    c.set('w', 3);
    c.set('v', 4); // full again (z, w): x and y go
    expect(c.get('x')).toBeUndefined();
    expect(c.get('y')).toBeUndefined();
    expect(c.get('v')).toBe(4);
    expect(c.size).toBeLessThanOrEqual(4);
  });
});
