import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  backupDate,
  BACKUPS_NAMESPACE,
  buildBackupRecord,
  defaultBackupName,
  describeBackups,
  findBackup,
  formatDate,
  mergeBackups,
  parseBackupsValue,
  processMetadata,
  recordKey,
  sizeWarning,
  SIZE_WARNING_BYTES,
  summarizeBackup,
  validateBackupName,
  type BackupRecord,
} from '../../src/backups/records.ts';
import { ConfigError, Dhis2Error } from '../../src/errors.ts';

const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/made/pca_backup_record.json'), 'utf8'),
) as BackupRecord;

const STAMPS = { created: 'c', createdBy: { id: 'u' }, lastUpdated: 'l', lastUpdatedBy: { id: 'u' } };
/** An object carrying every key processMetadata might remove. */
const full = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  ...STAMPS,
  access: { read: true },
  categoryCombo: { id: 'bjDvmb4bfuf' },
  sharing: { public: 'rw------' },
  ...extra,
});

function sampleExport() {
  return {
    system: { id: 'sys', version: '2.41.3' },
    date: '2024-06-10T14:53:54.102',
    categories: [full('cat')],
    categoryCombos: [full('cc')],
    categoryOptions: [full('co')],
    categoryOptionCombos: [full('coc')],
    programs: [
      full('prog', {
        version: 4,
        organisationUnits: [{ id: 'ou' }],
        programTrackedEntityAttributes: [full('ptea')],
      }),
    ],
    programStages: [full('stage', { programStageDataElements: [full('psde')] })],
    programStageSections: [full('section')],
    programStageDataElements: [full('psde')],
    programTrackedEntityAttributes: [full('ptea')],
    options: [full('opt')],
    optionSets: [full('os')],
    attributes: [full('att')],
    dataElements: [full('de'), full('NAaHST5ZDTE'), full('nswci5V4j0d')],
    trackedEntityTypes: [full('tet', { trackedEntityTypeAttributes: [full('teta')] }), full('oNwpeWkfoWc')],
    trackedEntityAttributes: [full('tea'), full('ulU9KKgSLYe'), full('nHg1hGgtJwm')],
    programRules: [full('rule')],
    programIndicators: [full('pi')],
  };
}

const keysOf = (v: unknown) => Object.keys(v as object).sort();
const ALL = [
  'access',
  'categoryCombo',
  'created',
  'createdBy',
  'id',
  'lastUpdated',
  'lastUpdatedBy',
  'name',
  'sharing',
];
const without = (...gone: string[]) => ALL.filter((k) => !gone.includes(k));

describe('processMetadata (BackupScreen.jsx processMetadata, step by step)', () => {
  const input = sampleExport();
  const snapshot = JSON.stringify(input);
  const out = processMetadata(input) as Record<string, Record<string, unknown>[]>;
  const first = (key: string) => out[key]![0] as Record<string, unknown>;

  it('drops the top-level date and category collections, keeps system', () => {
    for (const k of ['date', 'categories', 'categoryCombos', 'categoryOptions', 'categoryOptionCombos']) {
      expect(out, k).not.toHaveProperty(k);
    }
    expect(out.system).toEqual({ id: 'sys', version: '2.41.3' });
  });

  it('removes exactly what the app removes, object type by object type', () => {
    const program = first('programs');
    expect(keysOf(program).filter((k) => ALL.includes(k))).toEqual(
      without('created', 'createdBy', 'lastUpdated', 'lastUpdatedBy', 'categoryCombo'),
    );
    expect(program.organisationUnits).toEqual([{ id: 'ou' }]);
    expect(keysOf((program.programTrackedEntityAttributes as unknown[])[0])).toEqual(
      without('created', 'createdBy', 'lastUpdated', 'access'),
    );
    // Stage sections keep createdBy (the app forgets it).
    expect(keysOf(first('programStageSections'))).toEqual(without('created', 'lastUpdated', 'lastUpdatedBy'));
    const stage = first('programStages');
    expect(keysOf(stage).filter((k) => ALL.includes(k))).toEqual(
      without('created', 'createdBy', 'lastUpdated', 'lastUpdatedBy'),
    );
    expect(keysOf((stage.programStageDataElements as unknown[])[0])).toEqual(
      without('created', 'lastUpdated', 'access'),
    );
    expect(keysOf(first('options'))).toEqual(without('created', 'lastUpdated'));
    expect(keysOf(first('attributes'))).toEqual(without('created', 'createdBy', 'lastUpdated', 'lastUpdatedBy'));
    expect(keysOf(first('programTrackedEntityAttributes'))).toEqual(without('created', 'lastUpdated'));
    expect(keysOf(first('programStageDataElements'))).toEqual(without('created', 'lastUpdated'));
    expect(keysOf(first('optionSets'))).toEqual(without('created', 'createdBy', 'lastUpdated', 'lastUpdatedBy'));
    const filtered = without('created', 'createdBy', 'lastUpdated', 'lastUpdatedBy', 'categoryCombo');
    expect(keysOf(first('dataElements'))).toEqual(filtered);
    expect(keysOf(first('trackedEntityAttributes'))).toEqual(filtered);
    const tet = first('trackedEntityTypes');
    expect(keysOf(tet).filter((k) => ALL.includes(k))).toEqual(filtered);
    expect(keysOf((tet.trackedEntityTypeAttributes as unknown[])[0])).toEqual(
      without('created', 'createdBy', 'lastUpdated', 'access'),
    );
    // Untouched by the app: rules and indicators keep everything.
    expect(keysOf(first('programRules'))).toEqual(ALL);
    expect(keysOf(first('programIndicators'))).toEqual(ALL);
  });

  it('leaves out the HNQIS package objects (6 data elements, 4 attributes, the assessment type)', () => {
    expect(out.dataElements!.map((o) => o.id)).toEqual(['de']);
    expect(out.trackedEntityTypes!.map((o) => o.id)).toEqual(['tet']);
    expect(out.trackedEntityAttributes!.map((o) => o.id)).toEqual(['tea']);
  });

  it('does not change its input', () => {
    expect(JSON.stringify(input)).toBe(snapshot);
  });

  it('always has the three filtered collections, as the app assigns them back', () => {
    const bare = processMetadata({ programs: [{ id: 'p' }] });
    expect(bare).toEqual({
      programs: [{ id: 'p' }],
      dataElements: [],
      trackedEntityTypes: [],
      trackedEntityAttributes: [],
    });
  });

  it('is idempotent on an app record: processing the fixture metadata again changes nothing', () => {
    expect(processMetadata(FIXTURE.metadata)).toEqual(FIXTURE.metadata);
  });
});

describe('names and dates (BackupScreen.jsx formatDate, local time)', () => {
  const at = new Date(2024, 0, 5, 3, 4, 5); // local time, whatever the TZ of the test machine

  it('formats like the app', () => {
    expect(formatDate(at, '_', '_')).toBe('2024_01_05 03_04_05');
    expect(backupDate(at)).toBe('2024-01-05 03:04:05');
  });

  it('the default name is the first 30 characters of the program name, _, the time: 50 at most', () => {
    const long = 'Malaria follow-up (PCA backup fixture)';
    expect(defaultBackupName(long, at)).toBe('Malaria follow-up (PCA backup _2024_01_05 03_04_05');
    expect(defaultBackupName(long, at)).toHaveLength(50);
    expect(defaultBackupName('TB', at)).toBe('TB_2024_01_05 03_04_05');
  });

  it('does not cut an emoji in half', () => {
    const name = `${'a'.repeat(29)}😀 program`;
    const made = defaultBackupName(name, at);
    expect(made.startsWith(`${'a'.repeat(29)}_`)).toBe(true);
    expect(made.length).toBeLessThanOrEqual(50);
  });

  it('validates the name: not blank, at most 50 characters, saying the limit', () => {
    expect(() => validateBackupName('x'.repeat(50))).not.toThrow();
    expect(() => validateBackupName('x'.repeat(51))).toThrow(ConfigError);
    expect(() => validateBackupName('x'.repeat(51))).toThrow(/51 characters.*at most 50/);
    expect(() => validateBackupName('   ')).toThrow(/must not be blank/);
  });
});

describe('buildBackupRecord', () => {
  const now = new Date(2024, 5, 10, 14, 53, 54, 567);

  it('has exactly the keys and types of an app record, in the app order', () => {
    const record = buildBackupRecord('prog', sampleExport(), {}, now);
    expect(Object.keys(record)).toEqual(Object.keys(FIXTURE));
    for (const key of Object.keys(FIXTURE) as (keyof BackupRecord)[]) {
      expect(typeof record[key], key).toBe(typeof FIXTURE[key]);
    }
    expect(record.id).toBe(now.valueOf());
    expect(record.name).toBe('prog_2024_06_10 14_53_54');
    expect(record.backup_date).toBe('2024-06-10 14:53:54');
    expect(record.version).toBe('4');
    expect(record.comment).toBe('');
    expect(record.metadata).toEqual(processMetadata(sampleExport()));
  });

  it('takes the given name, version and comment', () => {
    const record = buildBackupRecord('prog', sampleExport(), { name: 'n', version: 'v2', comment: 'why' }, now);
    expect([record.name, record.version, record.comment]).toEqual(['n', 'v2', 'why']);
  });

  it('requires a version: the program has none and none was given', () => {
    const doc = sampleExport();
    delete (doc.programs[0] as Record<string, unknown>).version;
    expect(() => buildBackupRecord('prog', doc, {}, now)).toThrow(/backup-version is required/);
    expect(buildBackupRecord('prog', doc, { version: '1' }, now).version).toBe('1');
  });

  it('refuses a name over 50 characters and a program missing from the export', () => {
    expect(() => buildBackupRecord('prog', sampleExport(), { name: 'y'.repeat(60) }, now)).toThrow(/at most 50/);
    expect(() => buildBackupRecord('other', sampleExport(), {}, now)).toThrow(Dhis2Error);
  });
});

describe('the dataStore value', () => {
  it('reads the app shape and keeps other keys', () => {
    expect(parseBackupsValue({ backups: [FIXTURE], note: 1 }, 'p')).toEqual({ backups: [FIXTURE], rest: { note: 1 } });
  });

  it.each([[null], [[1, 2]], ['text'], [{}], [{ backups: {} }]])('refuses %j, naming the key', (value) => {
    expect(() => parseBackupsValue(value, 'prog')).toThrow(`dataStore ${BACKUPS_NAMESPACE}/prog`);
  });

  it('summarizes records, tolerating odd ones', () => {
    expect(summarizeBackup(FIXTURE)).toEqual({
      id: 1718031234567,
      name: FIXTURE.name,
      version: '3',
      date: '2024-06-10 14:53:54',
      comment: 'Before the June form changes',
    });
    expect(summarizeBackup({ name: 5, version: 2 })).toEqual({
      id: null,
      name: '5',
      version: '2',
      date: '',
      comment: '',
    });
  });

  it('warns past 5 MB, with how to prune', () => {
    expect(sizeWarning('p', SIZE_WARNING_BYTES, 3)).toBeUndefined();
    const warning = sizeWarning('p', SIZE_WARNING_BYTES + 1, 3);
    expect(warning).toMatch(/3 backups of program p take 5\.0 MB/);
    expect(warning).toMatch(/Datastore Manager/);
    expect(warning).toContain(`/api/dataStore/${BACKUPS_NAMESPACE}/p`);
  });
});

describe('mergeBackups', () => {
  const rec = (id: number, name = `b${id}`): BackupRecord => ({
    id,
    name,
    backup_date: '',
    version: '1',
    comment: '',
    metadata: {},
  });

  it('appends ours after what the server has', () => {
    const merged = mergeBackups([rec(1), rec(2)], [], rec(3));
    expect(merged.backups).toEqual([rec(1), rec(2), rec(3)]);
    expect(merged.mine).toEqual(rec(3));
  });

  it('puts back records of our previous write that a concurrent writer dropped', () => {
    const merged = mergeBackups([rec(1), rec(9)], [rec(1), rec(2), rec(3)], rec(3));
    expect(merged.backups.map(recordKey)).toEqual(['id:1', 'id:9', 'id:2', 'id:3']);
  });

  it('does not add ours twice', () => {
    const merged = mergeBackups([rec(1), rec(3), rec(4)], [rec(1), rec(3)], rec(3));
    expect(merged.backups).toEqual([rec(1), rec(3), rec(4)]);
  });

  it('gives ours a free id when another record has it (same millisecond)', () => {
    const merged = mergeBackups([rec(5, 'theirs'), rec(6, 'also theirs')], [], rec(5, 'mine'));
    expect(merged.mine.id).toBe(7);
    expect(merged.backups.map((r) => (r as BackupRecord).name)).toEqual(['theirs', 'also theirs', 'mine']);
  });

  it('keeps records without an id, by content', () => {
    const odd = { name: 'hand-made' };
    expect(mergeBackups([odd], [odd], rec(1)).backups).toEqual([odd, rec(1)]);
  });
});

describe('findBackup', () => {
  const list = [
    { ...FIXTURE, id: 100, name: 'nightly' },
    { ...FIXTURE, id: 200, name: 'nightly' },
    { ...FIXTURE, id: 300, name: '100' },
    { ...FIXTURE, id: 400, name: 'release 1.2' },
  ];

  it('finds by id (as text) before name', () => {
    const found = findBackup(list, '100');
    expect(found.kind === 'found' && found.record.name).toBe('nightly');
    const byName = findBackup(list, ' release 1.2 ');
    expect(byName.kind === 'found' && byName.record.id).toBe(400);
  });

  it('says when a name is ambiguous or nothing matches', () => {
    const ambiguous = findBackup(list, 'nightly');
    expect(ambiguous.kind).toBe('ambiguous');
    expect(ambiguous.kind === 'ambiguous' && ambiguous.matches.map((m) => m.id)).toEqual([100, 200]);
    expect(findBackup(list, 'nope').kind).toBe('missing');
  });

  it('describes the available backups newest first, a few at most', () => {
    expect(describeBackups(list, 2)).toBe(
      `"release 1.2" (id 400, ${FIXTURE.backup_date}), "100" (id 300, ${FIXTURE.backup_date}), and 2 older (list-backups shows them all)`,
    );
  });
});
