import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/check/run-checks.ts';

/** DHIS2 says only "1 error(s)" of a condition naming a variable the program lacks: the annotation names it. */
describe('a mistyped rule variable', () => {
  it('is named, with the closest variable of the program', async () => {
    const text = readFileSync(
      new URL('../fixtures/dhis2/who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json', import.meta.url),
      'utf8',
    );
    const doc = JSON.parse(text);
    const rule = doc.programRules.find((r: { id: string }) => r.id === 'ZT3tLrXXadf');
    rule.condition = rule.condition.replace('#{Vaccine_type}', '#{Vaccine_typ}');
    const result = await runChecks([{ id: 'yDuAzyqYABS', file: 'covac.json', text, doc }], []);
    const problem = result.problems.find((p) => p.message.includes('Vaccine_typ}'));
    expect(problem?.message).toMatch(
      /is not valid: 1 error\(s\), 0 warning\(s\) \(no program rule variable is named Vaccine_typ \(did you mean #\{Vaccine_type\}\?\)\)$/,
    );
  }, 60_000);
});
