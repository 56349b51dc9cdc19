/**
 * Issue 17, finding 8a: server JSON nested deeper than MAX_SERVER_DEPTH is refused with a TooDeepError naming
 * the problem, by walks that cannot overflow the stack themselves (src/metadata/assemble.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  assembleExport,
  checkServerDepth,
  MAX_SERVER_DEPTH,
  referencedLegendSetIds,
  TooDeepError,
} from '../../src/metadata/assemble.ts';
import { Dhis2Error, isUserError } from '../../src/errors.ts';
import { fixture } from '../helpers/fixtures.ts';

/** `levels` objects one inside the other: {"x":{"x":...{"x":1}}}. */
function objects(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { x: v };
  return v;
}

/** `levels` arrays one inside the other: [[...[]]]. */
function arrays(levels: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}

const DEEP = 100_000;

describe('checkServerDepth', () => {
  it(`accepts ${MAX_SERVER_DEPTH} levels, refuses one more`, () => {
    expect(() => checkServerDepth(objects(MAX_SERVER_DEPTH), 'x')).not.toThrow();
    expect(() => checkServerDepth(arrays(MAX_SERVER_DEPTH), 'x')).not.toThrow();
    expect(() => checkServerDepth(objects(MAX_SERVER_DEPTH + 1), 'x')).toThrow(TooDeepError);
    expect(() => checkServerDepth(arrays(MAX_SERVER_DEPTH + 1), 'x')).toThrow(TooDeepError);
  });

  it('100,000 levels: a user error naming the answer and the limit, no stack overflow', () => {
    for (const deep of [objects(DEEP), arrays(DEEP), { programs: [{ id: 'a', nested: objects(DEEP) }] }]) {
      let error: unknown;
      try {
        checkServerDepth(deep, 'GET /api/programs/abc/metadata.json');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Dhis2Error);
      expect(isUserError(error)).toBe(true);
      expect((error as Error).message).toBe(
        "the server's answer (GET /api/programs/abc/metadata.json) is nested deeper than 1000 levels: DHIS2 metadata " +
          'never is (a few dozen at most), so it was not used; check what answers at that address (a proxy, another application)',
      );
    }
  });

  it('a real program export passes; scalars and empty values too', () => {
    expect(() => checkServerDepth(fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json'), 'x')).not.toThrow();
    for (const v of [null, undefined, 1, 'a', [], {}]) expect(() => checkServerDepth(v, 'x')).not.toThrow();
  });

  it('a wide answer is walked in one pass (a million options: well under a second)', () => {
    const options = Array.from({ length: 1_000_000 }, (_, i) => ({ id: `o${i}`, optionSet: { id: 's' } }));
    const started = Date.now();
    checkServerDepth({ options }, 'x');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('the walks of assemble.ts over the server answer', () => {
  it('referencedLegendSetIds: 100,000 levels are a TooDeepError, not "Maximum call stack size exceeded"', () => {
    expect(() => referencedLegendSetIds({ programs: [{ id: 'p', x: objects(DEEP) }] })).toThrow(TooDeepError);
    expect(() => referencedLegendSetIds({ programs: arrays(DEEP) as unknown[] })).toThrow(
      /the server's answer \(the program's dependency export\) is nested deeper than 1000 levels/,
    );
  });

  it('referencedLegendSetIds still finds every kind of reference at any reasonable depth', () => {
    const doc = {
      dataElements: [{ id: 'de', legendSets: [{ id: 'LsA' }], nested: { deeper: objects(500) } }],
      programIndicators: [{ id: 'pi', legendSet: { id: 'LsB' } }],
      visualizations: [{ id: 'v', legend: { set: { id: 'LsC' } } }],
      legendSets: [{ id: 'Ignored' }],
    };
    expect(referencedLegendSetIds(doc)).toEqual(['LsA', 'LsB', 'LsC']);
  });

  it.each([
    [
      'dependencyExport',
      { dependencyExport: { programs: [{ id: 'p', x: objects(DEEP) }] } },
      "program's dependency export",
    ],
    ['programSections', { dependencyExport: {}, programSections: [{ id: 's', x: objects(DEEP) }] }, 'program sections'],
    ['legendSets', { dependencyExport: {}, legendSets: [{ id: 'l', x: arrays(DEEP) }] }, 'legend sets'],
  ])('assembleExport refuses a deep %s before copying it', (_part, parts, named) => {
    expect(() => assembleExport(parts as Parameters<typeof assembleExport>[0])).toThrow(
      new RegExp(`the server's answer \\(the ${named}\\) is nested deeper than 1000 levels`),
    );
  });
});
