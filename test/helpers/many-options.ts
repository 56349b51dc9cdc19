/**
 * A large real program made larger: the WHO TB Case Surveillance package (test/fixtures/dhis2/, 2.5 MB)
 * with one of its option sets grown to `count` options, the size of a national facility or drug list.
 * Made here, deterministically, because no public package at hand has thousands of options.
 */
import type { MetadataDocument } from '../../src/metadata/types.ts';
import { fixture } from './fixtures.ts';

export const TB_PROGRAM = 'Lt6P15ps7f6';
/** "Positive/Negative", used by TB data elements; it gets the extra options. */
export const GROWN_OPTION_SET = 'WaV48ymJu9V';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A valid DHIS2 UID (a letter, then 10 letters or digits) for option number n. */
export function optionUid(n: number): string {
  let rest = '';
  for (let v = n, i = 0; i < 9; i++, v = Math.floor(v / 62)) rest = ALPHABET[v % 62] + rest;
  return `Op${rest}`;
}

export function tbWithManyOptions(count: number): MetadataDocument {
  const doc = fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json');
  const optionSets = doc.optionSets as { id: string; options: { id: string }[] }[];
  const set = optionSets.find((o) => o.id === GROWN_OPTION_SET);
  if (!set) throw new Error(`fixture: no option set ${GROWN_OPTION_SET}`);
  const options = doc.options as Record<string, unknown>[];
  const first = set.options.length;
  for (let i = 0; i < count; i++) {
    const id = optionUid(i);
    options.push({
      id,
      code: `FACILITY_${String(i).padStart(5, '0')}`,
      name: `Facility ${String(i).padStart(5, '0')}`,
      sortOrder: first + i + 1,
      optionSet: { id: GROWN_OPTION_SET },
      attributeValues: [],
      translations: [],
    });
    set.options.push({ id });
  }
  return doc;
}
