import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/util/bounded-map.ts';

describe('BoundedMap', () => {
  it('holds at most max entries, dropping the oldest first', () => {
    const m = new BoundedMap<number, string>(3);
    for (let i = 0; i < 10; i++) m.set(i, String(i));
    expect(m.size).toBe(3);
    expect([...m.keys()]).toEqual([7, 8, 9]);
  });

  it('setting a key it holds replaces the value and drops nothing', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3);
    expect([...m]).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });
});
