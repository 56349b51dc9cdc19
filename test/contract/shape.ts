/**
 * JSON shape comparison for the emulator contract test: keys and value types, recursively, never values.
 * An array's shape is the shape of its elements taken together: the union of their keys and, per key, the union
 * of their types (so a list of notifications where one has `data` and the others not compares as one shape).
 * An empty array only matches an empty array, since nothing can be said of its elements otherwise.
 */

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function kindOf(v: unknown): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'boolean' || t === 'number' || t === 'string') return t;
  if (t === 'object') return 'object';
  throw new Error(`not JSON: ${String(v)}`);
}

export interface ShapeOptions {
  /** Paths (as printed, e.g. `response.created`) whose value is not compared at all. */
  ignore?: string[];
}

/** The differences between the shapes of `expected` (the recording) and `actual`, one readable line each. */
export function shapeDiff(expected: unknown, actual: unknown, options: ShapeOptions = {}): string[] {
  const out: string[] = [];
  compare([expected], [actual], '$', out, new Set(options.ignore ?? []));
  return out;
}

function kinds(values: unknown[]): Set<Kind> {
  return new Set(values.map(kindOf));
}

function fmt(s: Set<Kind>): string {
  return [...s].sort().join('|') || 'nothing';
}

function compare(expected: unknown[], actual: unknown[], path: string, out: string[], ignore: Set<string>): void {
  if (ignore.has(path)) return;
  const ek = kinds(expected);
  const ak = kinds(actual);
  const same = ek.size === ak.size && [...ek].every((k) => ak.has(k));
  if (!same) {
    out.push(`${path}: recorded ${fmt(ek)}, emulator ${fmt(ak)}`);
    return;
  }
  if (ek.has('object')) {
    const eo = expected.filter((v) => kindOf(v) === 'object') as Record<string, unknown>[];
    const ao = actual.filter((v) => kindOf(v) === 'object') as Record<string, unknown>[];
    const ekeys = new Set(eo.flatMap((o) => Object.keys(o)));
    const akeys = new Set(ao.flatMap((o) => Object.keys(o)));
    const missing = [...ekeys].filter((k) => !akeys.has(k) && !ignore.has(`${path}.${k}`));
    const extra = [...akeys].filter((k) => !ekeys.has(k) && !ignore.has(`${path}.${k}`));
    if (missing.length) out.push(`${path}: keys missing in the emulator: ${missing.sort().join(', ')}`);
    if (extra.length) out.push(`${path}: keys the real server does not send: ${extra.sort().join(', ')}`);
    for (const k of [...ekeys].filter((x) => akeys.has(x)).sort()) {
      compare(
        eo.filter((o) => k in o).map((o) => o[k]),
        ao.filter((o) => k in o).map((o) => o[k]),
        `${path}.${k}`,
        out,
        ignore,
      );
    }
  }
  if (ek.has('array')) {
    const ea = (expected.filter(Array.isArray) as unknown[][]).flat();
    const aa = (actual.filter(Array.isArray) as unknown[][]).flat();
    if (ea.length === 0 || aa.length === 0) {
      if (ea.length !== aa.length) {
        out.push(
          `${path}[]: recorded ${ea.length ? 'non-empty' : 'empty'}, emulator ${aa.length ? 'non-empty' : 'empty'}`,
        );
      }
      return;
    }
    compare(ea, aa, `${path}[]`, out, ignore);
  }
}

/** Throws with every difference listed when the shapes differ. */
export function expectSameShape(name: string, expected: unknown, actual: unknown, options: ShapeOptions = {}): void {
  const diff = shapeDiff(expected, actual, options);
  if (diff.length) {
    throw new Error(`${name}: the emulator's answer differs in shape from the recording:\n  ${diff.join('\n  ')}`);
  }
}
