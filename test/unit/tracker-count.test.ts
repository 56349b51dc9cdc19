/** The tracker count requests per DHIS2 version (src/dhis2/tracker-count.ts; docs/dhis2-tracker-counts.md). */
import { describe, expect, it } from 'vitest';
import {
  countRefusal,
  totalOf,
  trackerCountParams,
  trackerFilters,
  UncountableError,
} from '../../src/dhis2/tracker-count.ts';
import { parseVersion, versionAtLeast } from '../../src/dhis2/version.ts';

const on = (v: string) => {
  const parsed = parseVersion(v)!;
  return (minor: number, patch = 0) => versionAtLeast(parsed, minor, patch);
};
const q = { kind: 'events' as const, program: 'SSLpOM0r1U7', programStage: 'RcbCl5ww8XY', element: 'LtlzGAPWWo8' };

describe('tracker count requests', () => {
  it('2.43: the recorded request (real-2.43.1/tracker-events-count-in, -notnull, tracker-te-count-eq)', () => {
    expect(trackerCountParams({ ...q, codes: ['TWIN', 'SINGLETON'] }, on('2.43.1'))).toEqual([
      {
        program: 'SSLpOM0r1U7',
        programStage: 'RcbCl5ww8XY',
        filter: 'LtlzGAPWWo8:in:TWIN;SINGLETON',
        orgUnitMode: 'ALL',
        pageSize: 1,
        totalPages: true,
        fields: 'event',
      },
    ]);
    expect(trackerFilters({ element: 'X', codes: undefined }, on('2.43.1'))).toEqual(['X:!null']);
    const te = trackerCountParams(
      { kind: 'trackedEntities', program: 'P', element: 'oindugucx72', codes: ['FEMALE'] },
      on('2.42.1'),
    );
    expect(te).toEqual([
      {
        program: 'P',
        filter: 'oindugucx72:in:FEMALE',
        orgUnitMode: 'ALL',
        pageSize: 1,
        totalPages: true,
        fields: 'trackedEntity',
      },
    ]);
  });

  it('a single code is asked with in: too (eq compares option names before 2.42)', () => {
    expect(trackerFilters({ element: 'X', codes: ['TWIN'] }, on('2.39.4'))).toEqual(['X:in:TWIN']);
  });

  it('any value: !null from 2.42, a bare uid on 2.41, not countable before', () => {
    expect(trackerFilters({ element: 'X' }, on('2.42.0'))).toEqual(['X:!null']);
    expect(trackerFilters({ element: 'X' }, on('2.41.3'))).toEqual(['X']);
    expect(() => trackerFilters({ element: 'X' }, on('2.40.4'))).toThrow(UncountableError);
  });

  it('ouMode before 2.41, orgUnitMode from 2.41', () => {
    expect(trackerCountParams({ ...q, codes: ['A'] }, on('2.40.2'))[0]).toHaveProperty('ouMode', 'ALL');
    expect(trackerCountParams({ ...q, codes: ['A'] }, on('2.41.0'))[0]).toHaveProperty('orgUnitMode', 'ALL');
    expect(trackerCountParams({ ...q, codes: ['A'] }, on('2.41.0'))[0]).not.toHaveProperty('ouMode');
  });

  it('codes with : , / are escaped with / from 2.40.1; one with ; gets its own eq filter from 2.42', () => {
    expect(trackerFilters({ element: 'X', codes: ['A:B', 'C,D', 'E/F'] }, on('2.41.1'))).toEqual([
      'X:in:A/:B;C/,D;E//F',
    ]);
    expect(trackerFilters({ element: 'X', codes: ['A', 'B;C'] }, on('2.43.1'))).toEqual(['X:in:A', 'X:eq:B;C']);
    expect(() => trackerFilters({ element: 'X', codes: ['B;C'] }, on('2.41.1'))).toThrow(/before 2.42/);
    expect(() => trackerFilters({ element: 'X', codes: ['A:B'] }, on('2.40.0'))).toThrow(/before 2.40.1/);
    expect(trackerFilters({ element: 'X', codes: ['A:B'] }, on('2.40.1'))).toEqual(['X:in:A/:B']);
  });

  it('reads pager.total (2.41+) or the flat total (2.38-2.40); anything else is no count', () => {
    expect(totalOf({ pager: { page: 1, pageSize: 1, total: 2, pageCount: 2 }, events: [] }, 'p')).toBe(2);
    expect(totalOf({ page: 1, pageSize: 1, total: 0, pageCount: 0, instances: [] }, 'p')).toBe(0);
    expect(() => totalOf({ pager: { page: 1, pageSize: 1 }, events: [] }, 'p')).toThrow(/without a record count/);
    expect(() => totalOf({ pager: { total: -1 } }, 'p')).toThrow();
    expect(() => totalOf('<html>', 'p')).toThrow();
  });

  it('a refusal to search all org units names what allows it', () => {
    expect(countRefusal('User is not authorized to query across all organisation units')).toMatch(
      /F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS/,
    );
    expect(countRefusal('other')).toBe('other');
    expect(countRefusal('Non-searchable attribute(s) can not be used during global search')).toMatch(/not searchable/);
    expect(countRefusal('At least 1 attributes should be mentioned in the search criteria.')).toMatch(/minimum/);
  });
});
