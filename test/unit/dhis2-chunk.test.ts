import { describe, expect, it } from 'vitest';
import { chunkByUrlLength } from '../../src/dhis2/chunk.ts';
import { buildQuery, encodeQueryComponent, withQuery } from '../../src/dhis2/query.ts';
import { Dhis2Error } from '../../src/errors.ts';

/** Deterministic 11-character DHIS2-like UIDs. */
function uids(n: number): string[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from({ length: n }, (_, i) => {
    let s = 'A';
    let x = i * 7919 + 13;
    for (let k = 0; k < 10; k++) {
      s += alphabet[x % alphabet.length];
      x = Math.floor(x / alphabet.length) + k * 31;
    }
    return s;
  });
}

const base = 'http://127.0.0.1:8080/dhis/api/dataElements';
const urlFor = (chunk: string[]): string =>
  withQuery(base, { fields: ':owner', paging: false, filter: `id:in:[${chunk.join(',')}]` });

describe('query building', () => {
  it('keeps : and , readable, encodes brackets and everything else', () => {
    expect(encodeQueryComponent('id:in:[a,b]')).toBe('id:in:%5Ba,b%5D');
    expect(encodeQueryComponent('name:ilike:a b&c=d')).toBe('name:ilike:a%20b%26c%3Dd');
    expect(buildQuery({ fields: ':owner', paging: false, skip: undefined, n: 3 })).toBe(
      'fields=:owner&paging=false&n=3',
    );
    expect(buildQuery({ filter: ['a:eq:1', 'b:eq:2'] })).toBe('filter=a:eq:1&filter=b:eq:2');
    expect(withQuery('http://h/api/x', {})).toBe('http://h/api/x');
    expect(withQuery('http://h/api/x?a=1', { b: 2 })).toBe('http://h/api/x?a=1&b=2');
  });

  it('round-trips through URLSearchParams (what a server decodes)', () => {
    const url = new URL(urlFor(['abc', 'def']));
    expect(url.searchParams.get('filter')).toBe('id:in:[abc,def]');
    expect(url.searchParams.get('fields')).toBe(':owner');
  });
});

describe('chunkByUrlLength', () => {
  it('returns no chunk for no ids and one chunk when everything fits', () => {
    expect(chunkByUrlLength([], urlFor, 8000)).toEqual([]);
    const ids = uids(10);
    expect(chunkByUrlLength(ids, urlFor, 8000)).toEqual([ids]);
  });

  it('splits 3000 UIDs so that every URL fits, keeping every id once and in order', () => {
    const ids = uids(3000);
    const chunks = chunkByUrlLength(ids, urlFor, 8000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(urlFor(chunk).length).toBeLessThanOrEqual(8000);
    expect(chunks.flat()).toEqual(ids);
  });

  it('packs greedily: adding the next id to any chunk would overflow it', () => {
    const ids = uids(2000);
    const chunks = chunkByUrlLength(ids, urlFor, 3000);
    for (let i = 0; i < chunks.length - 1; i++) {
      const next = chunks[i + 1]![0]!;
      expect(urlFor([...chunks[i]!, next]).length).toBeGreaterThan(3000);
    }
  });

  it('counts encoded length: ids with characters that expand are measured as sent', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `code with spaces & [brackets] ${i}`);
    const chunks = chunkByUrlLength(ids, urlFor, 2000);
    for (const chunk of chunks) expect(urlFor(chunk).length).toBeLessThanOrEqual(2000);
    expect(chunks.flat()).toEqual(ids);
  });

  it('re-splits when the estimate is short (urlFor not shaped like one comma list)', () => {
    // Each id appears twice in this URL: the linear estimate undercounts, the real check must catch it.
    const doubled = (chunk: string[]): string => `${urlFor(chunk)}&again=${chunk.join(',')}`;
    const ids = uids(1000);
    const chunks = chunkByUrlLength(ids, doubled, 4000);
    for (const chunk of chunks) expect(doubled(chunk).length).toBeLessThanOrEqual(4000);
    expect(chunks.flat()).toEqual(ids);
  });

  it('throws a Dhis2Error when one id alone does not fit', () => {
    expect(() => chunkByUrlLength(['x'.repeat(500)], urlFor, 300)).toThrow(Dhis2Error);
  });
});
