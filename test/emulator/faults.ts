/** Fault injection: rules matched against every request (before routing), each counting its own matches. */
import type { Fault, FaultRule } from './types.ts';

interface Entry {
  rule: FaultRule;
  seen: number;
}

export class Faults {
  private entries: Entry[] = [];

  add(rule: FaultRule): void {
    const nth = rule.nth ?? 1;
    const times = rule.times ?? 1;
    if (!Number.isInteger(nth) || nth < 1) throw new Error(`FaultRule.nth must be a positive integer, got ${nth}`);
    if (!(times >= 1)) throw new Error(`FaultRule.times must be at least 1, got ${times}`);
    const when: unknown = rule.fault.when;
    if (when !== undefined && when !== 'before' && when !== 'after') {
      throw new Error(`Fault.when must be 'before' or 'after', got ${String(when)}`);
    }
    this.entries.push({ rule, seen: 0 });
  }

  clear(): void {
    this.entries = [];
  }

  /** The fault for this request, if a rule applies; every matching rule counts the request. */
  pick(method: string, path: string): Fault | undefined {
    let chosen: Fault | undefined;
    for (const e of this.entries) {
      const { rule } = e;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.path !== undefined && !pathMatches(rule.path, path)) continue;
      e.seen++;
      const nth = rule.nth ?? 1;
      const times = rule.times ?? 1;
      if (!chosen && e.seen >= nth && e.seen < nth + times) chosen = rule.fault;
    }
    return chosen;
  }
}

function pathMatches(p: string | RegExp, path: string): boolean {
  if (typeof p === 'string') return p === path;
  p.lastIndex = 0;
  return p.test(path);
}
