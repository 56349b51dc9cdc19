/**
 * A cache that holds at most `max` entries: past that, the oldest goes (a Map keeps insertion order). The
 * caches of the checks hold one program's questions and its server copy's; a run over a hundred programs, each
 * with uids of its own, must not keep every program's answers (issue 18: memory may not grow with the number
 * of programs).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.max) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
