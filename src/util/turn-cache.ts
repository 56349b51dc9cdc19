/**
 * A cache of the current turn and the one before it. The checks' caches answer the same question twice: within
 * a program (its indicators are read by several checks) and across its file and its server copy, which is
 * checked next; beyond that they only hold memory. A run over a hundred programs, each with uids of its own,
 * must not keep every program's answers (issue 18: memory may not grow with the number of programs): each
 * program's checks start a turn (turn()), and what the turn before did not use goes. An entry used again is
 * carried into the current turn. `maxPerTurn` bounds a turn (a huge program): past it, a turn starts.
 *
 * A count bound alone (first in, first out) did not do it: 5,000 indicator trees held about 55 MB, and a
 * smaller count would miss within one large program.
 */
export class TurnCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  constructor(private readonly maxPerTurn: number) {}

  get(key: K): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined || this.current.has(key)) return value;
    if (!this.previous.has(key)) return undefined;
    const carried = this.previous.get(key) as V;
    this.set(key, carried);
    return carried;
  }

  set(key: K, value: V): void {
    if (!this.current.has(key) && this.current.size >= this.maxPerTurn) this.turn();
    this.current.set(key, value);
  }

  /** Starts a turn: what the last turn used stays for this one, the turn before that goes. */
  turn(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
