import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, loadConfigText } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

const FILE = 'dhis2-metadata.yml';

/** The example in docs/interface.md ("The config file"), verbatim. */
const INTERFACE_EXAMPLE = `target: another-server          # current-server | another-server | hnqis2-enabled-server
programs:
  - id: IpHINAT79UW             # DHIS2 program UID (required)
    file: metadata/child.json   # where export writes and restore reads; default metadata/<id>.json
objects: [programs, programStages, dataElements]   # optional: keep only these top-level keys
remove:                         # optional: overrides of the target preset's removals
  sharing: true                 # \`sharing\` (and the legacy publicAccess/externalAccess/userAccesses/userGroupAccesses)
  organisationUnits: true
  userFields: true              # createdBy, lastUpdatedBy
  dates: true                   # date, created, lastUpdated
  categories: false             # category, categoryCombo, categoryOptionCombo, categoryOption and their plurals
  legendSets: false             # legend, legends, legendSet, legendSets
attributes:                     # optional: JSON attributes to drop, per top-level key
  dataElements: [aggregationLevels, zeroIsSignificant]
restore:
  elements: [program, options, programIndicators, trackedEntityTypes, trackedEntityAttributes,
             programTrackedEntityAttributes, programStages, programStageSections,
             programStageDataElements, dataElements]   # default: all; each element brings its parents
  organisationUnits: keep       # keep | overwrite
  sharing: keep                 # keep | overwrite
`;

/** Lines joined with newlines, so that line numbers in the tests are easy to count. */
const yaml = (...lines: string[]) => lines.join('\n') + '\n';

const VALID_HEAD = ['target: another-server', 'programs:', '  - id: IpHINAT79UW'];

function configError(text: string): ConfigError {
  try {
    loadConfigText(text, FILE);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, the config loaded');
}

/** Asserts the error's message and where it points. */
function expectError(text: string, message: string | RegExp, line: number, column: number): ConfigError {
  const e = configError(text);
  if (typeof message === 'string') expect(e.message).toBe(message);
  else expect(e.message).toMatch(message);
  expect(e.location).toEqual({ file: FILE, line, column });
  // One line, no YAML code frame, no stack.
  expect(e.message).not.toContain('\n');
  return e;
}

describe('loadConfigText: valid configs and defaults', () => {
  it('applies every default to a minimal config', () => {
    const config = loadConfigText(yaml(...VALID_HEAD, '  - id: ur1Edk5Oe2n'), FILE);
    expect(config).toEqual({
      path: FILE,
      target: 'another-server',
      programs: [
        { id: 'IpHINAT79UW', file: 'metadata/IpHINAT79UW.json', line: 3 },
        { id: 'ur1Edk5Oe2n', file: 'metadata/ur1Edk5Oe2n.json', line: 4 },
      ],
      remove: {},
      attributes: {},
      restore: {
        elements: [
          'program',
          'options',
          'programIndicators',
          'trackedEntityTypes',
          'trackedEntityAttributes',
          'programTrackedEntityAttributes',
          'programStages',
          'programStageSections',
          'programStageDataElements',
          'dataElements',
        ],
        organisationUnits: 'keep',
        sharing: 'keep',
        payload: 'changed',
      },
    });
    expect('objects' in config).toBe(false);
  });

  it('reads the example config of the interface document', () => {
    const config = loadConfigText(INTERFACE_EXAMPLE, FILE);
    expect(config.target).toBe('another-server');
    expect(config.programs).toEqual([{ id: 'IpHINAT79UW', file: 'metadata/child.json', line: 3 }]);
    expect(config.objects).toEqual(['programs', 'programStages', 'dataElements']);
    expect(config.remove).toEqual({
      sharing: true,
      organisationUnits: true,
      userFields: true,
      dates: true,
      categories: false,
      legendSets: false,
    });
    expect(config.attributes).toEqual({ dataElements: ['aggregationLevels', 'zeroIsSignificant'] });
    expect(config.restore.elements).toHaveLength(10);
  });

  it('keeps only the removals the user wrote, and the values as written', () => {
    const config = loadConfigText(yaml(...VALID_HEAD, 'remove:', '  legendSets: true', '  sharing: false'), FILE);
    expect(config.remove).toEqual({ legendSets: true, sharing: false });
  });

  it('takes restore options as written, with elements in the restore tree order', () => {
    const config = loadConfigText(
      yaml(
        ...VALID_HEAD,
        'restore:',
        '  elements: [dataElements, program, programStages]',
        '  organisationUnits: overwrite',
        '  sharing: overwrite',
        '  payload: all',
      ),
      FILE,
    );
    expect(config.restore).toEqual({
      elements: ['program', 'programStages', 'dataElements'],
      organisationUnits: 'overwrite',
      sharing: 'overwrite',
      payload: 'all',
    });
  });

  it('normalizes program file paths and records each entry line', () => {
    const config = loadConfigText(
      yaml(
        '# a comment line',
        'target: current-server',
        'programs:',
        '  - id: IpHINAT79UW',
        '    file: ./metadata//child.json',
        '',
        '  - file: hnqis/audit.json',
        '    id: ur1Edk5Oe2n',
      ),
      FILE,
    );
    expect(config.programs).toEqual([
      { id: 'IpHINAT79UW', file: 'metadata/child.json', line: 4 },
      { id: 'ur1Edk5Oe2n', file: 'hnqis/audit.json', line: 7 },
    ]);
  });

  it('accepts YAML anchors and aliases, flow style and CRLF line ends', () => {
    const text = yaml(
      'target: current-server',
      'programs: [{id: IpHINAT79UW}]',
      'attributes:',
      '  dataElements: &drop [zeroIsSignificant]',
      '  trackedEntityAttributes: *drop',
    ).replace(/\n/g, '\r\n');
    const config = loadConfigText(text, FILE);
    expect(config.attributes).toEqual({
      dataElements: ['zeroIsSignificant'],
      trackedEntityAttributes: ['zeroIsSignificant'],
    });
    expect(config.programs[0]?.line).toBe(2);
  });

  it('returns data the caller may change without affecting a second load', () => {
    const text = yaml(...VALID_HEAD, 'attributes:', '  dataElements: [a]');
    const first = loadConfigText(text, FILE);
    first.attributes.dataElements?.push('b');
    expect(loadConfigText(text, FILE).attributes).toEqual({ dataElements: ['a'] });
  });
});

describe('loadConfigText: YAML problems', () => {
  it('reports a syntax error with the parser words and position', () => {
    expectError(
      yaml('target: another-server', 'programs:', '  - id: IpHINAT79UW', ' objects: [a]'),
      'invalid YAML: All mapping items must start at the same column',
      4,
      1,
    );
  });

  it('reports an unterminated quote', () => {
    expectError(yaml('target: "another-server', 'programs: []'), /^invalid YAML: Missing closing "quote/, 3, 1);
  });

  it('reports tabs used as indentation', () => {
    expectError(yaml('target: another-server', 'programs:', '\t- id: IpHINAT79UW'), /^invalid YAML: Tabs/, 3, 1);
  });

  it('reports a duplicate key at the second occurrence', () => {
    expectError(
      yaml(...VALID_HEAD, '    file: a.json', 'restore:', '  sharing: keep', '  sharing: overwrite'),
      'duplicate key "sharing" (a key may appear only once in a mapping)',
      7,
      3,
    );
  });

  it('reports a duplicate key that follows an empty value at the key itself', () => {
    // The parser's own position for this one is the line break before the key.
    expectError(
      yaml('target: another-server', 'programs:', '  - id: IpHINAT79UW', 'objects:', 'target: current-server'),
      'duplicate key "target" (a key may appear only once in a mapping)',
      5,
      1,
    );
  });

  it('rejects a second YAML document', () => {
    expectError(yaml(...VALID_HEAD, '---', 'target: x'), /^invalid YAML: the file holds more than one document/, 4, 1);
  });

  it('rejects an alias without its anchor', () => {
    expectError(
      yaml(...VALID_HEAD, 'objects: *keys'),
      'invalid YAML: alias *keys has no matching &keys before it',
      4,
      10,
    );
  });

  it('rejects an unknown tag instead of silently reading it as text', () => {
    expectError(yaml('target: !env TARGET', 'programs: []'), /^invalid YAML: Unresolved tag: !env/, 1, 9);
  });

  it('rejects a list used as a key', () => {
    expectError(
      yaml(...VALID_HEAD, '? [a, b]', ': 1'),
      'invalid YAML: a key must be a plain name, not a list or mapping',
      4,
      3,
    );
  });

  it('rejects an empty file and a file of comments only', () => {
    for (const text of ['', '\n\n', '# nothing here yet\n', '---\n']) {
      expectError(text, 'the config is empty (it needs at least a target and a list of programs)', 1, 1);
    }
  });

  it('rejects a top level that is not a mapping', () => {
    expectError(
      yaml('- target: another-server'),
      'the config must be a mapping of keys (target, programs, ...) at the top level (got a list)',
      1,
      1,
    );
    expectError(
      'another-server\n',
      'the config must be a mapping of keys (target, programs, ...) at the top level (got "another-server")',
      1,
      1,
    );
  });
});

describe('loadConfigText: schema problems', () => {
  it('names an unknown top-level key and lists the allowed ones', () => {
    expectError(
      yaml('target: another-server', 'programs:', '  - id: IpHINAT79UW', '', 'programz:', '  - id: ur1Edk5Oe2n'),
      'unknown key "programz" at the top level (did you mean "programs"? allowed: target, programs, objects, remove, attributes, restore, tests)',
      5,
      1,
    );
  });

  it('names unknown keys at every depth with the allowed keys of that place', () => {
    expectError(
      yaml(...VALID_HEAD, 'remove:', '  sharng: true'),
      'unknown key "sharng" in remove (did you mean "sharing"? allowed: sharing, organisationUnits, userFields, dates, categories, legendSets)',
      5,
      3,
    );
    expectError(
      yaml(...VALID_HEAD, 'restore:', '  element: [program]'),
      'unknown key "element" in restore (did you mean "elements"? allowed: elements, organisationUnits, sharing, payload)',
      5,
      3,
    );
    expectError(
      yaml('target: another-server', 'programs:', '  - id: IpHINAT79UW', '    path: a.json'),
      'unknown key "path" in programs[0] (allowed: id, file)',
      4,
      5,
    );
  });

  it('only DHIS2 collection names the product knows in objects and as keys of attributes, with a did-you-mean', () => {
    expectError(
      yaml(...VALID_HEAD, 'objects: [programs, dataElement]'),
      'objects[1] "dataElement": not a DHIS2 collection this tool knows (did you mean "dataElements"?)',
      4,
      21,
    );
    expectError(
      yaml(...VALID_HEAD, 'attributes:', '  programs: [style]', '  dataElement: [zeroIsSignificant]'),
      'unknown key "dataElement" in attributes: not a DHIS2 collection this tool knows (did you mean "dataElements"?)',
      6,
      3,
    );
    expectError(
      yaml(...VALID_HEAD, 'attributes:', '  ProgramStages: [x]'),
      'unknown key "ProgramStages" in attributes: not a DHIS2 collection this tool knows (did you mean "programStages"?)',
      5,
      3,
    );
    // Nothing close: no guess, but what such a key looks like.
    expectError(
      yaml(...VALID_HEAD, 'objects: [everything]'),
      'objects[0] "everything": not a DHIS2 collection this tool knows (a top-level key of a metadata document, in the plural: programs, programStages, dataElements, optionSets, ...)',
      4,
      11,
    );
    // The keys a document really has are accepted, system and date included.
    const config = loadConfigText(
      yaml(
        ...VALID_HEAD,
        'objects: [programs, programStageSections, system, date]',
        'attributes:',
        '  dataElements: [x]',
      ),
      'c.yml',
    );
    expect(config.objects).toEqual(['programs', 'programStageSections', 'system', 'date']);
    expect(config.attributes).toEqual({ dataElements: ['x'] });
  });

  it('reports a wrong type with the value it got', () => {
    expectError(
      yaml(...VALID_HEAD, 'remove:', '  dates: yes'),
      'remove.dates must be true or false (got "yes")',
      5,
      10,
    );
    expectError(yaml(...VALID_HEAD, 'objects: programs'), 'objects must be a list (got "programs")', 4, 10);
    expectError(
      yaml('target: another-server', 'programs:', '  id: IpHINAT79UW'),
      'programs must be a list (got a mapping)',
      3,
      3,
    );
    expectError(
      yaml(...VALID_HEAD, 'restore: [program]'),
      'restore must be a mapping of keys to values (got a list)',
      4,
      10,
    );
    expectError(
      yaml(...VALID_HEAD, 'attributes:', '  dataElements: zeroIsSignificant'),
      'attributes.dataElements must be a list (got "zeroIsSignificant")',
      5,
      17,
    );
  });

  it('reports an empty value at its key', () => {
    expectError(
      yaml(...VALID_HEAD, 'restore:', '  sharing:'),
      'restore.sharing must be one of: keep, overwrite (got an empty value)',
      5,
      3,
    );
    expectError(yaml(...VALID_HEAD, 'remove:', '  dates:'), 'remove.dates is empty (it must be true or false)', 5, 3);
    expectError(
      yaml(...VALID_HEAD, '    file:'),
      'programs[0].file is empty (give a path ending in .json, or leave the key out for metadata/<id>.json)',
      4,
      5,
    );
  });

  it('lists the allowed values of an enum', () => {
    expectError(
      yaml(...VALID_HEAD, 'restore:', '  sharing: keap'),
      'restore.sharing must be one of: keep, overwrite (got "keap")',
      5,
      12,
    );
    expectError(
      yaml('target: other-server', 'programs:', '  - id: IpHINAT79UW'),
      'target must be one of: current-server, another-server, hnqis2-enabled-server (got "other-server")',
      1,
      9,
    );
    expectError(
      yaml(...VALID_HEAD, 'restore:', '  elements:', '    - program', '    - rules'),
      /^restore\.elements\[1\] must be one of: program, options, programIndicators, .*, dataElements \(got "rules"\)$/,
      7,
      7,
    );
  });

  it('reports a program without an id', () => {
    expectError(
      yaml('target: another-server', 'programs:', '  - id: IpHINAT79UW', '  - file: metadata/b.json'),
      'programs[1] has no id (each program needs its DHIS2 UID)',
      4,
      5,
    );
    expectError(
      yaml('target: another-server', 'programs:', '  - id:'),
      'programs[0].id is empty (each program needs its DHIS2 UID: 11 letters and digits, starting with a letter)',
      3,
      5,
    );
  });

  it('reports an id that is not a DHIS2 UID', () => {
    expectError(
      yaml(...VALID_HEAD, '  - id: abc'),
      'programs[1].id "abc" is not a DHIS2 UID (11 letters and digits, starting with a letter)',
      4,
      9,
    );
    for (const bad of ['1pHINAT79UW', 'IpHINAT79UW1', 'IpHINAT79U', 'IpHINAT7-UW', 'IpHINAT79UÜ']) {
      expectError(yaml('target: another-server', 'programs:', `  - id: ${bad}`), /is not a DHIS2 UID/, 3, 9);
    }
    // YAML reads this one as a number: still a UID problem, not a "must be text" one.
    expectError(
      yaml('target: another-server', 'programs:', '  - id: 12345678901'),
      'programs[0].id 12345678901 is not a DHIS2 UID (11 letters and digits, starting with a letter)',
      3,
      9,
    );
  });

  it('reports a missing target or programs, and an empty programs list', () => {
    expectError(
      yaml('programs:', '  - id: IpHINAT79UW'),
      'the config has no target (set it to one of: current-server, another-server, hnqis2-enabled-server)',
      1,
      1,
    );
    expectError(
      yaml('# config', 'target: current-server'),
      'the config has no programs (list the programs to manage, each with its DHIS2 UID as id)',
      2,
      1,
    );
    expectError(
      yaml('target: current-server', 'programs: []'),
      'programs is empty (list at least one program, each with its DHIS2 UID)',
      2,
      11,
    );
  });

  it('reports the first problem in the file, not the first the validator meets', () => {
    // The schema checks `target` first; the file has the `restore` problem first.
    expectError(
      yaml('restore:', '  sharing: keap', 'target: nowhere', 'programs:', '  - id: IpHINAT79UW'),
      'restore.sharing must be one of: keep, overwrite (got "keap")',
      2,
      12,
    );
    // A misspelt key explains the missing one: it is reported, even though `target` is checked first.
    expectError(
      yaml('programs:', '  - id: IpHINAT79UW', 'targte: another-server'),
      /^unknown key "targte" at the top level/,
      3,
      1,
    );
  });

  it('reports duplicate list items', () => {
    expectError(
      yaml(...VALID_HEAD, 'objects: [programs, dataElements, programs]'),
      'objects[2] "programs" is listed twice (also at objects[0])',
      4,
      35,
    );
    expectError(
      yaml(...VALID_HEAD, 'restore:', '  elements: [program, program]'),
      'restore.elements[1] "program" is listed twice (also at restore.elements[0])',
      5,
      23,
    );
  });

  it('reports an empty objects list', () => {
    expectError(
      yaml(...VALID_HEAD, 'objects: []'),
      'objects is empty (list at least one item, or leave the key out)',
      4,
      10,
    );
  });
});

describe('loadConfigText: programs and files', () => {
  it('rejects the same program twice', () => {
    expectError(
      yaml(...VALID_HEAD, '    file: a.json', '  - id: ur1Edk5Oe2n', '  - id: IpHINAT79UW', '    file: b.json'),
      'programs[2].id "IpHINAT79UW" is listed twice (also at programs[0])',
      6,
      9,
    );
  });

  it('rejects two programs writing one file, ignoring case', () => {
    expectError(
      yaml(...VALID_HEAD, '    file: metadata/Child.json', '  - id: ur1Edk5Oe2n', '    file: ./metadata/child.json'),
      'programs[1] would write "metadata/child.json", which programs[0] already uses (give each program its own file)',
      6,
      11,
    );
    // The clash with another program's default file points at the explicit one.
    expectError(
      yaml(...VALID_HEAD, '  - id: ur1Edk5Oe2n', '    file: metadata/IpHINAT79UW.json'),
      /^programs\[1\] would write "metadata\/IpHINAT79UW\.json", which programs\[0\] already uses/,
      5,
      11,
    );
  });

  it('rejects a file outside the workspace', () => {
    const fileError = (file: string) => yaml(...VALID_HEAD, `    file: ${file}`);
    expectError(
      fileError('../other/child.json'),
      'programs[0].file "../other/child.json" must stay inside the workspace (no ".." in the path)',
      4,
      11,
    );
    expectError(fileError('metadata/../../child.json'), /must stay inside the workspace/, 4, 11);
    expectError(fileError('metadata/..'), /must stay inside the workspace/, 4, 11);
    expectError(
      fileError('/etc/child.json'),
      'programs[0].file "/etc/child.json" must be a path relative to the workspace, not an absolute path',
      4,
      11,
    );
    expectError(fileError("'C:\\metadata\\child.json'"), /must be a path relative to the workspace/, 4, 11);
    expectError(fileError("'metadata\\child.json'"), /must use forward slashes/, 4, 11);
  });

  it('rejects a file that is not .json', () => {
    expectError(
      yaml(...VALID_HEAD, '    file: metadata/child.yml'),
      'programs[0].file "metadata/child.yml" must end in .json (it holds a DHIS2 metadata document)',
      4,
      11,
    );
  });

  it('accepts names with dots that do not leave the workspace', () => {
    const config = loadConfigText(yaml(...VALID_HEAD, '    file: metadata/..child..v2.json'), FILE);
    expect(config.programs[0]?.file).toBe('metadata/..child..v2.json');
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhis2-metadata-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and names it by its display path', () => {
    const abs = join(dir, 'cfg.yml');
    writeFileSync(abs, yaml(...VALID_HEAD));
    const config = loadConfigFile(abs, 'configs/cfg.yml');
    expect(config.path).toBe('configs/cfg.yml');
    expect(config.programs[0]?.id).toBe('IpHINAT79UW');

    writeFileSync(abs, yaml(...VALID_HEAD, 'remove:', '  dates: yes'));
    const e = (() => {
      try {
        loadConfigFile(abs, 'configs/cfg.yml');
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).location).toEqual({ file: 'configs/cfg.yml', line: 5, column: 10 });
  });

  it('says which file is missing and how to point at another', () => {
    expect(() => loadConfigFile(join(dir, 'nope.yml'), FILE)).toThrowError(
      new ConfigError('config file dhis2-metadata.yml not found in the workspace (set the `config` input)'),
    );
    try {
      loadConfigFile(join(dir, 'nope.yml'), FILE);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
    }
  });

  it('says when the path is a folder', () => {
    mkdirSync(join(dir, 'folder.yml'));
    expect(() => loadConfigFile(join(dir, 'folder.yml'), 'folder.yml')).toThrowError(
      'config file folder.yml is a folder, not a file (set the `config` input)',
    );
  });
});
