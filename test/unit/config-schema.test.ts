import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigText } from '../../src/config/load-config.ts';
import { configSchema, presetSchema, schemaValidator } from '../../src/config/schema.ts';
import { REMOVAL_GROUPS, RESTORE_ELEMENTS, TARGETS } from '../../src/config/types.ts';

const ROOT = join(import.meta.dirname, '../..');

type Schema = Record<string, unknown>;

/** Every property schema (with its path), every `additionalProperties` schema and every `items`. */
function walk(schema: Schema, path: string, visit: (s: Schema, path: string, isProperty: boolean) => void): void {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, sub] of Object.entries(properties)) {
    visit(sub, `${path}.${key}`, true);
    walk(sub, `${path}.${key}`, visit);
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const sub = schema[key];
    if (sub && typeof sub === 'object') {
      visit(sub as Schema, `${path}[${key}]`, false);
      walk(sub as Schema, `${path}[${key}]`, visit);
    }
  }
  const definitions = (schema.definitions ?? {}) as Record<string, Schema>;
  for (const [key, sub] of Object.entries(definitions)) {
    visit(sub, `#${key}`, false);
    walk(sub, `#${key}`, visit);
  }
}

describe.each([
  ['config', configSchema as Schema],
  ['preset', presetSchema as Schema],
] as const)('schema/%s.schema.json', (name, schema) => {
  it('compiles in ajv strict mode', () => {
    expect(() => schemaValidator(name)).not.toThrow();
  });

  it('has a title and a description on every property (editors show them)', () => {
    const missing: string[] = [];
    walk(schema, '', (sub, path, isProperty) => {
      if (!isProperty || '$ref' in sub) return;
      if (typeof sub.title !== 'string' || typeof sub.description !== 'string') missing.push(path);
    });
    expect(missing).toEqual([]);
    expect(schema.title).toBeTypeOf('string');
    expect(schema.description).toBeTypeOf('string');
  });

  it('rejects unknown keys everywhere', () => {
    const open: string[] = [];
    const visit = (sub: Schema, path: string) => {
      if (sub.type !== 'object') return;
      // A map of names to values (attributes:) constrains its values by a schema instead of `false`.
      if (sub.additionalProperties !== false && typeof sub.additionalProperties !== 'object') open.push(path);
    };
    visit(schema, '(root)');
    walk(schema, '', visit);
    expect(open).toEqual([]);
  });
});

describe('schema/config.schema.json', () => {
  const validate = schemaValidator('config');
  const props = configSchema.properties;

  it('lists exactly the targets, restore elements and removal groups of the typed config', () => {
    expect(props.target.enum).toEqual([...TARGETS]);
    expect(props.restore.properties.elements.items.enum).toEqual([...RESTORE_ELEMENTS]);
    expect(Object.keys(props.remove.properties)).toEqual([...REMOVAL_GROUPS]);
    for (const group of REMOVAL_GROUPS) expect(props.remove.properties[group].type).toBe('boolean');
    expect(props.restore.properties.sharing.enum).toEqual(['keep', 'overwrite']);
    expect(props.restore.properties.organisationUnits.enum).toEqual(['keep', 'overwrite']);
  });

  it('validates the example config of the interface document', () => {
    // docs/interface.md, "The config file" (comments dropped, values as written).
    const example = {
      target: 'another-server',
      programs: [{ id: 'IpHINAT79UW', file: 'metadata/child.json' }],
      objects: ['programs', 'programStages', 'dataElements'],
      remove: {
        sharing: true,
        organisationUnits: true,
        userFields: true,
        dates: true,
        categories: false,
        legendSets: false,
      },
      attributes: { dataElements: ['aggregationLevels', 'zeroIsSignificant'] },
      restore: {
        elements: [...RESTORE_ELEMENTS],
        organisationUnits: 'keep',
        sharing: 'keep',
      },
    };
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...example, programz: [] })).toBe(false);
  });

  it('validates the config examples of the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? '')
      .filter((text) => /yaml-language-server: \$schema=\S*config\.schema\.json/.test(text));
    expect(blocks.length).toBeGreaterThan(0);
    for (const text of blocks) {
      expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
      expect(() => loadConfigText(text, 'README.md')).not.toThrow();
    }
  });

  it('takes only DHIS2 UIDs as program ids', () => {
    const idOk = (id: unknown) => validate({ target: 'current-server', programs: [{ id }] });
    expect(idOk('IpHINAT79UW')).toBe(true);
    expect(idOk('a0000000000')).toBe(true);
    for (const bad of ['', 'IpHINAT79U', 'IpHINAT79UWx', '0pHINAT79UW', 'IpHINAT79_W', 12345678901, null]) {
      expect(idOk(bad), String(bad)).toBe(false);
    }
  });

  it('takes only relative .json paths inside the workspace as files', () => {
    const fileOk = (file: string) => validate({ target: 'current-server', programs: [{ id: 'IpHINAT79UW', file }] });
    for (const good of ['a.json', 'metadata/child.json', './metadata/child.json', 'x/..y/z...json', 'a/.json']) {
      expect(fileOk(good), good).toBe(true);
    }
    for (const bad of [
      '',
      'a.yml',
      'a.json/',
      '/abs/a.json',
      'C:/a.json',
      'c:a.json',
      'a\\b.json',
      '../a.json',
      'x/../../a.json',
      'x/../a.json',
      '..',
    ]) {
      expect(fileOk(bad), bad).toBe(false);
    }
  });

  it('requires target and programs, and at least one program', () => {
    expect(validate({ programs: [{ id: 'IpHINAT79UW' }] })).toBe(false);
    expect(validate({ target: 'current-server' })).toBe(false);
    expect(validate({ target: 'current-server', programs: [] })).toBe(false);
  });
});
