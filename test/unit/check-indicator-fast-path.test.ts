import { beforeAll, describe, expect, it } from 'vitest';
import { loadEngines, type Engines } from '../../src/check/engines.ts';
import { describeIndicator, readIndicator, surelyParses } from '../../src/check/indicator-semantics.ts';
import { programModel } from '../../src/check/program-model.ts';
import { collection } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

/**
 * The indicator fast path (src/check/indicator-semantics.ts surelyParses): a text our parser reads and finds in
 * the subset of @dhis2/expression-parser's grammar it knows is judged without the JS parser, which costs about
 * 1 ms per kilobyte. Held here to the JS parser itself: every text the fast path takes, the JS parser accepts,
 * and describes the same way; on every indicator of the real packages, and on texts made to probe the edges.
 */
let engines: Engines;
beforeAll(async () => {
  engines = await loadEngines();
}, 60_000);

const FILES: Record<string, string> = {
  'who_TB-REG_TRACKER_V1_DHIS2.33.json': 'Lt6P15ps7f6',
  'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json': 'yDuAzyqYABS',
  'core_e2e_tracker_metadata.json': '',
  'core_metadata_with_program_and_programrules.json': '',
  'psi_HNQIS2_Metadata_Package.json': '',
};

const PROBES = [
  "'a' + 1",
  'true * 2',
  '--1',
  '!!true',
  'not true',
  '1 and 2 or 3',
  '2^-1',
  '(1)',
  '((1 + 2)) * 3',
  '"dq" == \'x\'',
  '1e3 > .5',
  'log(1,2)',
  'log10(5)',
  'firstNonNull(1, 2, 3)',
  'greatest(1,2) + least(3,4)',
  'if(true, 1, 0)',
  'isNull(V{event_date}) || isNotNull(V{due_date})',
  "d2:condition('1 > 2', 1, 0)",
  "d2:relationshipCount('abcdefghijk')",
  'd2:relationshipCount()',
  'd2:zpvc(#{abcdefghijk.bcdefghijkl}, #{abcdefghijk.cdefghijklm})',
  '#{abcdefghijk.bcdefghijkl}.stageOffset(-1) + 1',
  'avg(V{event_count}) + count(1) + max(1) + min(1) + stddev(1) + sum(1)',
  'd2:daysBetween(V{enrollment_date}, V{event_date}) + d2:yearsBetween(V{incident_date}, V{current_date})',
  "d2:countIfCondition(#{abcdefghijk.bcdefghijkl}, '#{abcdefghijk.bcdefghijkl} > 1')",
  'V{scheduled_date} == V{program_name}',
  'A{abcdefghijk} + C{bcdefghijkl}',
  '- d2:zing(1) * d2:oizp(2)',
];

/** Every indicator expression and filter of the fixtures, with the names of its file. */
function texts(): { text: string; names: Map<string, string> }[] {
  const out: { text: string; names: Map<string, string> }[] = [];
  for (const [file, program] of Object.entries(FILES)) {
    const doc = fixture(file);
    const names = new Map<string, string>();
    for (const key of ['programStages', 'dataElements', 'trackedEntityAttributes', 'constants']) {
      for (const o of collection(doc, key)) names.set(String(o.id), String(o.displayName ?? o.name ?? o.id));
    }
    if (program) expect(programModel(doc, program).program).toBeDefined();
    for (const pi of collection(doc, 'programIndicators')) {
      for (const key of ['expression', 'filter']) {
        const text = pi[key];
        if (typeof text === 'string' && text.trim() !== '') out.push({ text, names });
      }
    }
  }
  for (const text of PROBES)
    out.push({
      text,
      names: new Map([
        ['abcdefghijk', 'Stage'],
        ['bcdefghijkl', 'Element'],
      ]),
    });
  return out;
}

describe('the indicator fast path agrees with @dhis2/expression-parser', () => {
  it('every text it takes, the JS parser accepts and describes the same way', () => {
    const all = texts();
    let fast = 0;
    const disagreements: string[] = [];
    for (const { text, names } of all) {
      const tree = readIndicator(text);
      if (!tree || !surelyParses(tree)) continue;
      fast++;
      const { ExpressionJs, ExpressionMode } = engines.expressions;
      let js: string;
      try {
        js = new ExpressionJs(text, ExpressionMode.PROGRAM_INDICATOR_EXPRESSION).describe(names);
      } catch (e) {
        disagreements.push(`${text}: JS refuses it (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      const ours = describeIndicator(tree, names);
      if (ours !== js) disagreements.push(`${text}\n  ours: ${ours}\n  js:   ${js}`);
    }
    expect(disagreements).toEqual([]);
    // The fast path must carry the real packages, or it saves nothing.
    expect(fast / all.length).toBeGreaterThan(0.9);
  });

  it('texts outside its subset go to the JS parser', () => {
    for (const text of [
      'd2:count(V{event_date})',
      "d2:hasValue('x')",
      'V{nope}',
      'C{x}',
      '#{abc}',
      'sum(1,2)',
      'unknown(1)',
    ]) {
      const tree = readIndicator(text);
      expect(tree === undefined || !surelyParses(tree), text).toBe(true);
    }
  });
});
