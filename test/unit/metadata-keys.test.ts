/**
 * ONE list of the top-level keys the product knows (the config schema's metadataKey, as METADATA_KEYS):
 * everything else that names collections must stay inside it, and it must match what DHIS2 (as the emulator
 * models it) calls its collections.
 */
import { describe, expect, it } from 'vitest';
import { allPresets } from '../../src/config/presets.ts';
import { closest } from '../../src/util/closest.ts';
import { METADATA_KEYS } from '../../src/metadata/keys.ts';
import { ELEMENT_COLLECTIONS, EMBEDDED_LISTS } from '../../src/metadata/restore-plan.ts';
import { KLASS } from '../emulator/schema.ts';

describe('the one list of metadata keys', () => {
  it('holds every collection restore sends, every key a preset drops, and nothing twice', () => {
    const known = new Set(METADATA_KEYS);
    expect(known.size).toBe(METADATA_KEYS.length);
    for (const keys of Object.values(ELEMENT_COLLECTIONS)) for (const k of keys) expect(known).toContain(k);
    for (const { collection, property } of EMBEDDED_LISTS) {
      expect(known).toContain(collection);
      expect(known).toContain(property);
    }
    for (const preset of allPresets()) for (const k of preset.dropObjects) expect(known).toContain(k);
  });

  it('is DHIS2’s collection names (as the emulator knows them) plus system and date', () => {
    expect([...METADATA_KEYS].sort()).toEqual([...Object.keys(KLASS), 'date', 'system'].sort());
  });

  it('suggests the nearest name for a slip, and nothing for a word far from all', () => {
    expect(closest('dataElement', METADATA_KEYS)).toBe('dataElements');
    expect(closest('programstages', METADATA_KEYS)).toBe('programStages');
    expect(closest('progarms', METADATA_KEYS)).toBe('programs');
    expect(closest('optionSet', METADATA_KEYS)).toBe('optionSets');
    expect(closest('everything', METADATA_KEYS)).toBeUndefined();
    expect(closest('x', METADATA_KEYS)).toBeUndefined();
  });
});
