import { describe, expect, it } from 'vitest';
import { Dhis2Error } from '../../src/errors.ts';
import { programKind, programTypeValue } from '../../src/metadata/program-kind.ts';
import type { MetadataDocument, MetadataObject } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

const PROGRAM_PACKAGES = [
  'who_TB-REG_TRACKER_V1_DHIS2.33.json',
  'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json',
  'core_metadata_with_program_and_programrules.json',
  'core_e2e_tracker_metadata.json',
];

/** The TB package with its program typed by `attributeValues`, next to the package's own attributes. */
function typed(attributeValues: unknown[], extra: MetadataDocument = {}): { doc: MetadataDocument; id: string } {
  const doc = fixture(PROGRAM_PACKAGES[0]!);
  const program = (doc.programs as MetadataObject[])[0]!;
  program.attributeValues = attributeValues;
  return { doc: { ...doc, ...extra }, id: program.id! };
}

describe('programKind', () => {
  it.each(PROGRAM_PACKAGES)('says tracker for programs without a program type (%s)', (name) => {
    const doc = fixture(name);
    const programs = doc.programs as MetadataObject[];
    expect(programs.length).toBeGreaterThan(0);
    for (const p of programs) {
      expect(programTypeValue(doc, p.id!)).toBeUndefined();
      expect(programKind(doc, p.id!)).toBe('tracker');
    }
  });

  it.each([
    ['HNQIS2', 'hnqis2'],
    ['HNQIS3', 'hnqis2'],
    [' HNQIS2 ', 'hnqis2'],
    ['HNQIS', 'tracker'],
    ['RDQA', 'tracker'],
    ['EDS', 'tracker'],
    ['hnqis2', 'tracker'],
    ['', 'tracker'],
  ])('reads PROGRAM_TYPE %j as %s', (value, kind) => {
    const { doc, id } = typed([
      { attribute: { id: 'vudyDP7jUy5' }, value: 'HNQIS2' }, // another attribute: never read
      { attribute: { id: 'yB5tFAAN7bI' }, value },
    ]);
    expect(programKind(doc, id)).toBe(kind);
  });

  it('recognises the attribute by code on the value or in the export’s attributes', () => {
    const byValueCode = typed([{ attribute: { id: 'OtherUid001', code: 'PROGRAM_TYPE' }, value: 'HNQIS3' }]);
    expect(programKind(byValueCode.doc, byValueCode.id)).toBe('hnqis2');

    const attributes = [{ id: 'OtherUid002', code: 'PROGRAM_TYPE', name: 'Program Type' }];
    const byAttributeCode = typed([{ attribute: { id: 'OtherUid002' }, value: 'HNQIS2' }], { attributes });
    expect(programKind(byAttributeCode.doc, byAttributeCode.id)).toBe('hnqis2');

    const unknown = typed([{ attribute: { id: 'OtherUid002' }, value: 'HNQIS2' }]);
    expect(programKind(unknown.doc, unknown.id)).toBe('tracker');
  });

  it('fails clearly when the program is not in the export', () => {
    const doc = fixture(PROGRAM_PACKAGES[2]!);
    expect(() => programKind(doc, 'NoSuchPrg01')).toThrow(Dhis2Error);
    expect(() => programKind(doc, 'NoSuchPrg01')).toThrow(/NoSuchPrg01/);
  });
});
