import { describe, expect, it } from 'vitest';
import { ObjectLocator, parseMetadataText } from '../../src/plan/metadata-file.ts';

const DOC = {
  dataElements: [{ code: 'AGE', id: 'deAAAAAAAA1', name: 'Age' }],
  programStages: [
    {
      id: 'psAAAAAAAA1',
      name: 'Stage',
      programStageDataElements: [
        { compulsory: false, dataElement: { id: 'deAAAAAAAA1' }, id: 'psdeAAAAAA0' },
        { compulsory: true, dataElement: { id: 'Missing0001' }, id: 'psdeAAAAAA1' },
      ],
    },
  ],
  programRules: [{ id: 'prAAAAAAAA1', name: 'R', programRuleActions: [{ id: 'praAAAAAAA1' }, { id: 'Missing0002' }] }],
};
const TEXT = `${JSON.stringify(DOC, null, 2)}\n`;
const LINES = TEXT.split('\n');
/** 1-based line of the first line containing `text` after the line containing `after`. */
function lineOf(text: string, after = ''): number {
  const from = after ? LINES.findIndex((l) => l.includes(after)) : 0;
  return LINES.findIndex((l, i) => i >= from && l.includes(text)) + 1;
}

describe('ObjectLocator: the line an import error is about', () => {
  const file = parseMetadataText(TEXT, 'metadata/p.json');

  it('an embedded object’s wrong reference (E5002 on a stage data element): the reference’s line', () => {
    const at = new ObjectLocator(file).locate('psdeAAAAAA1', {
      references: ['Missing0001', 'psdeAAAAAA1'],
      property: 'dataElement',
    });
    expect(at).toMatchObject({ file: 'metadata/p.json', line: lineOf('"id": "Missing0001"') });
    // Not the object's opening brace.
    expect(at.line).not.toBe(lineOf('"compulsory": true') - 1);
  });

  it('a wrong reference in a list of references: that item’s line', () => {
    const at = new ObjectLocator(file).locate('prAAAAAAAA1', { references: ['Missing0002'] });
    expect(at.line).toBe(lineOf('"id": "Missing0002"'));
  });

  it('a field DHIS2 names (errorProperty): the key’s line in that object', () => {
    const at = new ObjectLocator(file).locate('deAAAAAAAA1', { property: 'code' });
    expect(at.line).toBe(lineOf('"code": "AGE"'));
    expect(new ObjectLocator(file).locate('psAAAAAAAA1', { property: 'name' }).line).toBe(lineOf('"name": "Stage"'));
  });

  it('nothing more precise: the object, then the file', () => {
    const objectLine = lineOf('"code": "AGE"') - 1;
    expect(LINES[objectLine - 1]).toMatch(/\{$/);
    expect(new ObjectLocator(file).locate('deAAAAAAAA1', { property: 'absent' }).line).toBe(objectLine);
    // A reference the object does not hold does not move the annotation elsewhere.
    expect(new ObjectLocator(file).locate('deAAAAAAAA1', { references: ['Missing0001'] }).line).toBe(objectLine);
    expect(new ObjectLocator(file).locate('NotThere001')).toEqual({ file: 'metadata/p.json' });
    expect(new ObjectLocator({ ...file, inRepo: false }).locate('deAAAAAAAA1', { property: 'code' })).toEqual({});
  });
});
