/**
 * The walks of src/metadata/json.ts that replaced full copies and a character scan on the plan's path:
 * withoutKeys (copy on write) and exceedsDepth (the depth limit checked on the parsed value).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exceedsDepth, mapJson, withoutKeys } from '../../src/metadata/json.ts';
import { parseMetadataText, scanJson, SCAN_FIRST_CHARS } from '../../src/plan/metadata-file.ts';

const TB = readFileSync(new URL('../fixtures/dhis2/who_TB-REG_TRACKER_V1_DHIS2.33.json', import.meta.url), 'utf8');
const DROP = new Set(['publicAccess', 'userAccesses']);

/** The reference: a full rebuild without the keys (what the plan did before). */
const rebuilt = (v: unknown) => mapJson(v, (k, x) => (DROP.has(k) ? undefined : x));

describe('withoutKeys', () => {
  it('gives what a full rebuild gives, and counts what it drops, on a real package', () => {
    const doc = JSON.parse(TB) as Record<string, unknown>;
    let dropped = 0;
    const out = withoutKeys(doc, DROP, () => dropped++);
    expect(out).toEqual(rebuilt(doc));
    expect(JSON.stringify(out)).not.toMatch(/"(publicAccess|userAccesses)"/);
    expect(dropped).toBe((TB.match(/"(publicAccess|userAccesses)":/g) ?? []).length);
    expect(dropped).toBeGreaterThan(0);
    expect(JSON.stringify(doc)).toBe(JSON.stringify(JSON.parse(TB))); // the input is untouched
  });

  it('returns the input itself where nothing is dropped, and copies only the path to what is', () => {
    const keep = { id: 'a', nested: [{ id: 'x' }] };
    const change = { id: 'b', publicAccess: 'rw------', nested: { deep: [1, { userAccesses: [] }] } };
    const doc = { dataElements: [keep, change], options: [{ id: 'o' }] };
    const out = withoutKeys(doc, DROP) as typeof doc;
    expect(out).not.toBe(doc);
    expect(out.dataElements[0]).toBe(keep);
    expect(out.options).toBe(doc.options);
    expect(out.dataElements[1]).toEqual({ id: 'b', nested: { deep: [1, {}] } });
    expect(change.publicAccess).toBe('rw------');
    const clean = { programs: [{ id: 'p', sharing: { public: 'r-------' } }] };
    expect(withoutKeys(clean, DROP)).toBe(clean);
  });

  it('keeps key order, and a __proto__ key as data', () => {
    const doc = JSON.parse('{"z":1,"publicAccess":"x","__proto__":{"a":1},"b":[2]}') as object;
    const out = withoutKeys(doc, DROP) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['z', '__proto__', 'b']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('exceedsDepth', () => {
  const nested = (levels: number, open: string, close: string) => open.repeat(levels) + close.repeat(levels);

  it('agrees with the character scan on every depth around the limit, arrays and objects', () => {
    for (let levels = 1; levels <= 12; levels++) {
      for (const text of [nested(levels, '[', ']'), `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`]) {
        for (const max of [1, 5, 10]) {
          expect(exceedsDepth(JSON.parse(text), max), `${text} / ${max}`).toBe(scanJson(text, max) !== undefined);
        }
      }
    }
  });

  it('a real package is within the file limit; 100,000 levels are too deep, without overflowing', () => {
    expect(exceedsDepth(JSON.parse(TB), 100)).toBe(false);
    expect(exceedsDepth(JSON.parse(nested(100_000, '[', ']')), 100)).toBe(true);
    for (const v of [null, 1, 'a', true]) expect(exceedsDepth(v, 0)).toBe(false);
  });
});

describe('parseMetadataText on a large, deeply nested text', () => {
  it('refuses it from the scan, before JSON.parse builds it (which would take hundreds of MB)', () => {
    const half = SCAN_FIRST_CHARS / 2 + 1;
    const text = '['.repeat(half) + ']'.repeat(half);
    const before = process.memoryUsage().heapUsed;
    expect(() => parseMetadataText(text, 'p.json')).toThrow(
      'p.json is not valid JSON at line 1, column 101: nested deeper than 100 levels',
    );
    // JSON.parse of it allocates about 30 bytes per character; the scan, nothing per character.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100_000_000);
  });
});
