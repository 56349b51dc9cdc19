/**
 * JsonKeyLocator: the line and column of a key of the object defining a uid, from one scan of the text.
 * Checked on every object of a real package written as a metadata file is (2-space JSON): each key it
 * places is on a line holding that key, inside the object that defines the uid (not a reference to it).
 */
import { describe, expect, it } from 'vitest';
import { JsonKeyLocator } from '../../src/check/json-locator.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('JsonKeyLocator', () => {
  const doc = fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json');
  const text = JSON.stringify(doc, null, 2);
  const lines = text.split('\n');
  const locator = new JsonKeyLocator('tb.json', text);

  // The objects the checks annotate. (An object some other object embeds whole before its own place in the
  // file, a category in a category combo say, is found there: the first copy with more than an id.)
  const ANNOTATED = ['programRules', 'programRuleActions', 'programRuleVariables', 'programIndicators'];

  it('places every key of every object the checks annotate on its own line, in that object', () => {
    let placed = 0;
    for (const list of ANNOTATED.map((c) => doc[c])) {
      if (!Array.isArray(list)) continue;
      for (const obj of list as Record<string, unknown>[]) {
        if (typeof obj.id !== 'string' || Object.keys(obj).length < 2) continue;
        const start = locator.locate(obj.id);
        for (const key of Object.keys(obj)) {
          const at = locator.locate(obj.id, key);
          expect(at.file).toBe('tb.json');
          const line = lines[(at.line as number) - 1] as string;
          expect(line.slice((at.column as number) - 1)).toMatch(
            new RegExp(`^${JSON.stringify(key).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}:`),
          );
          expect(at.line as number).toBeGreaterThanOrEqual(start.line as number);
          placed++;
        }
      }
    }
    expect(placed).toBeGreaterThan(2_000);
  });

  it('finds the defining object, not a reference to it, and only the file for an unknown uid', () => {
    const rule = (doc.programRules as { id: string }[])[0]!;
    const at = locator.locate(rule.id, 'condition');
    expect(lines[(at.line as number) - 1]).toContain('"condition":');
    expect(locator.locate('NoSuchUid00')).toEqual({ file: 'tb.json' });
  });

  it('reads ids and keys with escapes, and skips strings that hold braces and quotes', () => {
    const tricky = JSON.stringify(
      {
        a: [
          { name: 'x { "id": "fake" } [', id: 'A\\u0041b', 'we"ird': 1 },
          { id: 'Bbbbbbbbbbb', condition: '}' },
        ],
      },
      null,
      2,
    );
    const l = new JsonKeyLocator('t.json', tricky);
    expect(l.locate('A\\u0041b', 'we"ird').line).toBe(6);
    expect(l.locate('fake')).toEqual({ file: 't.json' });
    expect(l.locate('Bbbbbbbbbbb', 'condition').line).toBe(10);
  });
});
