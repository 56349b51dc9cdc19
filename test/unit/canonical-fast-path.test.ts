/**
 * canonicalJson writes with JSON.stringify once canonValue has sorted every object's keys: the bytes must be
 * exactly those safe-stable-stringify (the deterministic writer the files were written with) gives, or every
 * metadata file and every reviewed fingerprint would change. Held on every fixture and on awkward values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { configure } from 'safe-stable-stringify';
import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalJson } from '../../src/metadata/canonical.ts';

const stringify = configure({ deterministic: true, circularValue: TypeError, bigint: false });
const reference = (doc: Record<string, unknown>) => `${stringify(canonicalize(doc), null, 2)}\n`;
const DIRS = ['dhis2', 'made'].map((d) => new URL(`../fixtures/${d}/`, import.meta.url));

describe('canonicalJson is byte for byte the deterministic writer', () => {
  const files = DIRS.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => new URL(f, dir)),
  );
  it.each(files.map((f) => [f.pathname.split('/fixtures/')[1]!, f] as const))('%s', (_, file) => {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const doc = (Array.isArray(parsed) ? { items: parsed } : parsed) as Record<string, unknown>;
    expect(canonicalJson(doc)).toBe(reference(doc));
  });

  it('awkward values: escapes, lone surrogates, unicode keys, numbers, empty containers, undefined', () => {
    const doc = {
      programs: [
        {
          id: 'Awkward0001',
          name: 'quote " backslash \\ tab \t newline \n nul \u0000 line sep \u2028 emoji 😀 lone \ud800 end',
          ключ: 1,
          Zeta: -0,
          alpha: [1e21, 0.1, -5, null, true, {}, []],
          nested: { b: undefined, a: [undefined, { y: 1, x: 2 }] },
          __proto__x: 'not a prototype',
        },
      ],
    };
    expect(canonicalJson(doc)).toBe(reference(doc));
  });

  it('an object with integer-like keys (JavaScript enumerates them first) still sorts as text', () => {
    const doc = { programs: [{ id: 'IntKeys0001', attributeValues: [], map: { 10: 'a', 9: 'b', x: 'c', 0: 'd' } }] };
    expect(canonicalJson(doc)).toBe(reference(doc));
    expect(canonicalJson(doc).indexOf('"10"')).toBeLessThan(canonicalJson(doc).indexOf('"9"'));
  });
});
