import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigText } from '../../src/config/load-config.ts';
import { allPresets, getPreset, parsePreset, PRESET_TEXTS, resolveTransform } from '../../src/config/presets.ts';
import { schemaValidator } from '../../src/config/schema.ts';
import type { ProgramKind, Removals, Target } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';

const PRESETS_DIR = join(import.meta.dirname, '../../presets');

/*
 * The reference app's semantics, written out from pca-reference.md ("Removals", "Presets") and
 * Program-Config-App's selectPreset() / Constants.jsx, independently of the YAML files under test.
 *   local ("Current Server"):    all six checkboxes off, every object kept.
 *   external ("Another Server"): sharings, ous, redates, reuser on; recats, relegends off; `system` deselected.
 *   h2External ("HNQIS2-Enabled Server", HNQIS2/HNQIS3 only): all six on, H2_ENABLED_IMPORT_REMOVE_KEYS
 *   deselected, attributes cut to H2_ATTRIBUTES_TO_KEEP.
 */
const NONE: Removals = {
  sharing: false,
  organisationUnits: false,
  userFields: false,
  dates: false,
  categories: false,
  legendSets: false,
};
const EXTERNAL: Removals = { ...NONE, sharing: true, organisationUnits: true, userFields: true, dates: true };
const ALL: Removals = { ...EXTERNAL, categories: true, legendSets: true };
const H2_ENABLED_IMPORT_REMOVE_KEYS = [
  'date',
  'categories',
  'categoryCombos',
  'categoryOptionCombos',
  'categoryOptions',
  'trackedEntityTypes',
  'trackedEntityAttributes',
  'system',
];
const H2_ATTRIBUTES_TO_KEEP = ['haUflNqP85K', 'LP171jpctBm', 'yB5tFAAN7bI', 'DVzuBdj9kli', 'yhKEe6BLEer'];

const EXPECTED: { kind: ProgramKind; target: Target; name: string; remove: Removals; dropObjects: string[] }[] = [
  { kind: 'tracker', target: 'current-server', name: 'tracker-current-server', remove: NONE, dropObjects: [] },
  {
    kind: 'tracker',
    target: 'another-server',
    name: 'tracker-another-server',
    remove: EXTERNAL,
    dropObjects: ['system'],
  },
  { kind: 'hnqis2', target: 'current-server', name: 'hnqis2-current-server', remove: NONE, dropObjects: [] },
  {
    kind: 'hnqis2',
    target: 'another-server',
    name: 'hnqis2-another-server',
    remove: EXTERNAL,
    dropObjects: ['system'],
  },
  {
    kind: 'hnqis2',
    target: 'hnqis2-enabled-server',
    name: 'hnqis2-enabled-server',
    remove: ALL,
    dropObjects: H2_ENABLED_IMPORT_REMOVE_KEYS,
  },
];

const config = (...lines: string[]) => loadConfigText(lines.join('\n') + '\n', 'dhis2-metadata.yml');

describe('built-in presets', () => {
  it.each(EXPECTED)('$name has the reference app semantics', ({ kind, target, name, remove, dropObjects }) => {
    const preset = getPreset(kind, target);
    expect(preset.name).toBe(name);
    expect(preset.kind).toBe(kind);
    expect(preset.target).toBe(target);
    expect(preset.remove).toEqual(remove);
    expect(preset.dropObjects).toEqual(dropObjects);
    expect(preset.description.length).toBeGreaterThan(20);
    if (target === 'hnqis2-enabled-server') {
      expect(preset.hnqis).toEqual({ keepAttributes: H2_ATTRIBUTES_TO_KEEP });
    } else {
      expect(preset.hnqis).toBeUndefined();
    }
  });

  it('lists every preset once', () => {
    expect(allPresets().map((p) => p.name)).toEqual(EXPECTED.map((e) => e.name));
  });

  it('refuses the HNQIS2-enabled target for a tracker program, naming the program', () => {
    const call = () =>
      getPreset('tracker', 'hnqis2-enabled-server', {
        programId: 'IpHINAT79UW',
        location: { file: 'dhis2-metadata.yml', line: 3 },
      });
    expect(call).toThrowError(ConfigError);
    expect(call).toThrowError(
      'target hnqis2-enabled-server only applies to HNQIS2 programs; program IpHINAT79UW is a tracker program ' +
        '(no PROGRAM_TYPE HNQIS2/HNQIS3 attribute)',
    );
    try {
      call();
    } catch (e) {
      expect((e as ConfigError).location).toEqual({ file: 'dhis2-metadata.yml', line: 3 });
    }
  });

  it('hands out copies: a caller changing one does not change the next', () => {
    const first = getPreset('tracker', 'another-server');
    first.remove.sharing = false;
    first.dropObjects.push('programs');
    const second = getPreset('tracker', 'another-server');
    expect(second.remove.sharing).toBe(true);
    expect(second.dropObjects).toEqual(['system']);
  });
});

describe('preset files', () => {
  const files = readdirSync(PRESETS_DIR).filter((f) => f.endsWith('.yml'));

  it('are all bundled, and every bundled text is the file on disk', () => {
    expect(files.map((f) => f.replace(/\.yml$/, '')).sort()).toEqual(Object.keys(PRESET_TEXTS).sort());
    for (const f of files) {
      expect(PRESET_TEXTS[f.replace(/\.yml$/, '')]).toBe(readFileSync(join(PRESETS_DIR, f), 'utf8'));
    }
  });

  it.each(files)('%s validates against schema/preset.schema.json and points editors at it', (f) => {
    const text = readFileSync(join(PRESETS_DIR, f), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/preset.schema.json');
    expect(text).toContain('psi-org/Program-Config-App');
    const validate = schemaValidator('preset');
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('a broken preset is a plain Error (a bug), not a user error', () => {
    const good = PRESET_TEXTS['tracker-current-server'] ?? '';
    const broken = [
      good.replace('dates: false', 'dates: no'),
      good + 'extra: 1\n',
      good.replace('kind: tracker', 'kind: hnqis2'),
      good + 'hnqis:\n  keepAttributes: [haUflNqP85K]\n',
      'name: [\n',
    ];
    for (const text of broken) {
      let error: unknown;
      try {
        parsePreset(text, 'tracker-current-server');
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(Error);
      expect(error, text).not.toBeInstanceOf(ConfigError);
    }
    expect(parsePreset(good, 'tracker-current-server').name).toBe('tracker-current-server');
  });

  it('a preset named for another file is a bug', () => {
    expect(() => parsePreset(PRESET_TEXTS['tracker-current-server'] ?? '', 'tracker-another-server')).toThrowError(
      /is named tracker-current-server/,
    );
  });
});

describe('resolveTransform', () => {
  it('applies the preset when the config overrides nothing', () => {
    for (const { kind, target, name, remove, dropObjects } of EXPECTED) {
      const resolved = resolveTransform(
        config(`target: ${target}`, 'programs:', '  - id: IpHINAT79UW'),
        kind,
        'IpHINAT79UW',
      );
      expect(resolved.preset.name).toBe(name);
      expect(resolved.removals).toEqual(remove);
      expect(resolved.dropObjects).toEqual(dropObjects);
      expect(resolved.objects).toBeUndefined();
      expect(resolved.attributes).toEqual({});
      expect(resolved.hnqis).toEqual(
        target === 'hnqis2-enabled-server' ? { keepAttributes: H2_ATTRIBUTES_TO_KEEP } : undefined,
      );
    }
  });

  it('lets the config removals win over the preset, group by group', () => {
    const resolved = resolveTransform(
      config(
        'target: another-server',
        'programs:',
        '  - id: IpHINAT79UW',
        'remove:',
        '  sharing: false',
        '  legendSets: true',
      ),
      'tracker',
      'IpHINAT79UW',
    );
    expect(resolved.removals).toEqual({ ...EXTERNAL, sharing: false, legendSets: true });
    // The preset itself is unchanged.
    expect(resolved.preset.remove).toEqual(EXTERNAL);
  });

  it('takes objects and attributes from the config; an object listed there is not dropped', () => {
    const resolved = resolveTransform(
      config(
        'target: hnqis2-enabled-server',
        'programs:',
        '  - id: IpHINAT79UW',
        'objects: [programs, dataElements, trackedEntityTypes]',
        'attributes:',
        '  dataElements: [zeroIsSignificant]',
      ),
      'hnqis2',
      'IpHINAT79UW',
    );
    expect(resolved.objects).toEqual(['programs', 'dataElements', 'trackedEntityTypes']);
    expect(resolved.attributes).toEqual({ dataElements: ['zeroIsSignificant'] });
    expect(resolved.dropObjects).toEqual(H2_ENABLED_IMPORT_REMOVE_KEYS.filter((k) => k !== 'trackedEntityTypes'));
    expect(resolved.removals).toEqual(ALL);
  });

  it('refuses hnqis2-enabled-server for a tracker program, pointing at its entry', () => {
    const cfg = config('target: hnqis2-enabled-server', 'programs:', '  - id: IpHINAT79UW', '  - id: ur1Edk5Oe2n');
    expect(resolveTransform(cfg, 'hnqis2', 'IpHINAT79UW').preset.name).toBe('hnqis2-enabled-server');
    let error: unknown;
    try {
      resolveTransform(cfg, 'tracker', 'ur1Edk5Oe2n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('program ur1Edk5Oe2n is a tracker program');
    expect((error as ConfigError).location).toEqual({ file: 'dhis2-metadata.yml', line: 4 });
  });

  it('does not share arrays with the config', () => {
    const cfg = config(
      'target: current-server',
      'programs:',
      '  - id: IpHINAT79UW',
      'objects: [programs]',
      'attributes:',
      '  programs: [a]',
    );
    const resolved = resolveTransform(cfg, 'tracker', 'IpHINAT79UW');
    resolved.objects?.push('x');
    resolved.attributes.programs?.push('b');
    expect(cfg.objects).toEqual(['programs']);
    expect(cfg.attributes).toEqual({ programs: ['a'] });
  });
});
