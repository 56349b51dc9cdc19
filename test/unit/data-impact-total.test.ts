/** How the records of several changes add up (src/data-impact/count.ts), and the output that never reads 0 for "unknown". */
import { describe, expect, it } from 'vitest';
import type { ImpactQuery } from '../../src/data-impact/changes.ts';
import { impactTotal, uncounted, type CountedImpact } from '../../src/data-impact/count.ts';
import { impactOutput, summarise } from '../../src/data-impact/section.ts';

const item = (query: Partial<ImpactQuery>, records: number | null): CountedImpact => ({
  change: 'option-removed',
  object: { id: 'jumQ0TEDlf4', collection: 'optionSets' },
  field: 'options',
  detail: {},
  at: { uid: 'jumQ0TEDlf4', property: 'options' },
  query: {
    kind: 'events',
    program: 'P',
    programStage: { id: 'S' },
    element: { id: 'DE', collection: 'dataElements' },
    ...query,
  },
  records,
  requests: [],
});

describe('impactTotal', () => {
  it('the same question asked by two changes counts once', () => {
    expect(impactTotal([item({ codes: ['TWIN'] }, 2), item({ codes: ['TWIN'] }, 2)])).toBe(2);
  });
  it('per field, "any value" holds the counts of some codes: a set losing a code while the element changes set', () => {
    expect(impactTotal([item({ codes: ['SINGLETON'] }, 1), item({}, 3)])).toBe(3);
  });
  it('different fields, stages and codes add up', () => {
    expect(
      impactTotal([
        item({ codes: ['TWIN'] }, 2),
        item({ codes: ['TRIPLET'] }, 1),
        item({ programStage: { id: 'S2' } }, 4),
        item(
          {
            kind: 'trackedEntities',
            programStage: undefined,
            element: { id: 'A', collection: 'trackedEntityAttributes' },
          },
          5,
        ),
      ]),
    ).toBe(12);
  });
  it('a count not made is not 0: the output is unknown, and each question counts once', () => {
    const items = [item({ codes: ['TWIN'] }, null), item({ codes: ['TWIN'] }, null), item({}, 0)];
    expect(uncounted(items)).toBe(1);
    const summary = summarise([{ program: { id: 'P' }, items }]);
    expect(summary).toEqual({ total: 0, failed: 1 });
    expect(impactOutput(summary)).toBe('unknown');
    expect(impactOutput({ total: 0, failed: 0 })).toBe('0');
  });
});
