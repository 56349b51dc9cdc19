import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUPS_NAMESPACE, type BackupRecord } from '../../src/backups/records.ts';
import { BackupNotFoundError, readBackupMetadata, readBackups, saveBackup } from '../../src/backups/store.ts';
import type { DataStore } from '../../src/dhis2/datastore.ts';
import { Dhis2Error } from '../../src/errors.ts';

const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/made/pca_backup_record.json'), 'utf8'),
) as BackupRecord;
const PROGRAM = 'wriKFoFj7Fw';

type Op = 'get' | 'create' | 'update';

/**
 * An in-memory dataStore with DHIS2's rules (POST 409 on an existing key; PUT 404 on a missing one before
 * 2.41) and a hook run before each operation, where a test plays the concurrent writer.
 */
class FakeDataStore implements DataStore {
  readonly values = new Map<string, unknown>();
  readonly log: string[] = [];
  before?: (op: Op, n: number) => void;
  private counts: Record<Op, number> = { get: 0, create: 0, update: 0 };

  constructor(private readonly putUpserts = false) {}

  private tick(op: Op): void {
    this.counts[op]++;
    this.log.push(op);
    this.before?.(op, this.counts[op]);
  }
  async get<T>(ns: string, key: string): Promise<T | undefined> {
    this.tick('get');
    const v = this.values.get(`${ns}/${key}`);
    return v === undefined ? undefined : (structuredClone(v) as T);
  }
  async create(ns: string, key: string, value: unknown): Promise<void> {
    this.tick('create');
    if (this.values.has(`${ns}/${key}`)) throw new Dhis2Error('exists', 409);
    this.values.set(`${ns}/${key}`, structuredClone(value));
  }
  async update(ns: string, key: string, value: unknown): Promise<void> {
    this.tick('update');
    if (!this.values.has(`${ns}/${key}`) && !this.putUpserts) throw new Dhis2Error('missing', 404);
    this.values.set(`${ns}/${key}`, structuredClone(value));
  }
  async keys(): Promise<string[]> {
    return [];
  }
  async remove(): Promise<boolean> {
    return false;
  }
  /** What a concurrent writer does: replace the whole value. */
  put(backups: unknown[]): void {
    this.values.set(`${BACKUPS_NAMESPACE}/${PROGRAM}`, { backups });
  }
  stored(): BackupRecord[] {
    return (
      (this.values.get(`${BACKUPS_NAMESPACE}/${PROGRAM}`) as { backups: BackupRecord[] } | undefined)?.backups ?? []
    );
  }
}

const rec = (id: number, name = `backup ${id}`): BackupRecord => ({ ...FIXTURE, id, name });
const NO_WAIT = { settleMs: 0 };
const ids = (list: { id: unknown }[]) => list.map((r) => r.id);

describe('saveBackup', () => {
  it('creates the key with POST when it is missing (every version)', async () => {
    const ds = new FakeDataStore();
    const saved = await saveBackup(ds, PROGRAM, rec(1), NO_WAIT);
    expect(ds.log).toEqual(['get', 'create', 'get']);
    expect(ds.stored()).toEqual([rec(1)]);
    expect(saved).toMatchObject({ count: 1, attempts: 1, record: rec(1) });
  });

  it('appends with a PUT of the whole value, keeping the others and any other key', async () => {
    const ds = new FakeDataStore();
    ds.values.set(`${BACKUPS_NAMESPACE}/${PROGRAM}`, { backups: [rec(1)], extra: 'kept' });
    await saveBackup(ds, PROGRAM, rec(2), NO_WAIT);
    expect(ds.log).toEqual(['get', 'update', 'get']);
    expect(ds.values.get(`${BACKUPS_NAMESPACE}/${PROGRAM}`)).toEqual({ extra: 'kept', backups: [rec(1), rec(2)] });
  });

  it('a 409 on POST (created meanwhile) reads again and PUTs: both records survive', async () => {
    const ds = new FakeDataStore();
    ds.before = (op) => {
      if (op === 'create') ds.put([rec(7, 'theirs')]);
    };
    const saved = await saveBackup(ds, PROGRAM, rec(1), NO_WAIT);
    expect(ds.log).toEqual(['get', 'create', 'get', 'update', 'get']);
    expect(ids(ds.stored())).toEqual([7, 1]);
    expect(saved.attempts).toBe(2);
  });

  it('a 404 on PUT before 2.41 (deleted meanwhile) creates the key again', async () => {
    const ds = new FakeDataStore(false);
    ds.put([rec(1)]);
    ds.before = (op, n) => {
      if (op === 'update' && n === 1) ds.values.clear();
    };
    await saveBackup(ds, PROGRAM, rec(2), NO_WAIT);
    expect(ds.log).toEqual(['get', 'update', 'get', 'create', 'get']);
    // Whoever deleted the key meant it: only ours is written (our PUT never landed, so nothing else was ours).
    expect(ids(ds.stored())).toEqual([2]);
  });

  it('a concurrent writer that won (its PUT after ours, from an older read) is merged: all survive', async () => {
    const ds = new FakeDataStore();
    ds.put([rec(1)]);
    ds.before = (op, n) => {
      // Right after our PUT, the other writer PUTs what it read before it: [1] + its own.
      if (op === 'get' && n === 2) ds.put([rec(1), rec(9, 'theirs')]);
    };
    const saved = await saveBackup(ds, PROGRAM, rec(5), NO_WAIT);
    expect(ids(ds.stored())).toEqual([1, 9, 5]);
    expect(saved.attempts).toBe(2);
    expect(saved.count).toBe(3);
  });

  it('puts back another record a concurrent writer dropped, not just ours', async () => {
    const ds = new FakeDataStore();
    ds.put([rec(1), rec(2)]);
    ds.before = (op, n) => {
      // Someone else's stale write: it knew only record 1, so record 2 and ours are gone.
      if (op === 'get' && n === 2) ds.put([rec(1), rec(9, 'theirs')]);
    };
    await saveBackup(ds, PROGRAM, rec(5), NO_WAIT);
    expect(ids(ds.stored())).toEqual([1, 9, 2, 5]);
  });

  it('reads back once more after a pause, catching a writer whose PUT lands just after the first read-back', async () => {
    const ds = new FakeDataStore();
    ds.put([rec(1)]);
    const waits: number[] = [];
    let late = true;
    const sleep = async (ms: number) => {
      waits.push(ms);
      if (late) ds.put([rec(1), rec(8, 'late writer')]);
      late = false;
    };
    const saved = await saveBackup(ds, PROGRAM, rec(5), { sleep });
    expect(ids(ds.stored())).toEqual([1, 8, 5]);
    expect(saved.attempts).toBe(2);
    expect(waits).toHaveLength(2);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(500);
  });

  it('gives ours another id when a record of the same millisecond exists', async () => {
    const ds = new FakeDataStore();
    ds.put([rec(5, 'theirs, same ms')]);
    const saved = await saveBackup(ds, PROGRAM, rec(5, 'mine'), NO_WAIT);
    expect(saved.record.id).toBe(6);
    expect(ds.stored().map((r) => [r.id, r.name])).toEqual([
      [5, 'theirs, same ms'],
      [6, 'mine'],
    ]);
  });

  it('gives up after a few rounds when the value keeps changing, with a clear message', async () => {
    const ds = new FakeDataStore();
    ds.put([]);
    ds.before = (op, n) => {
      if (op === 'get' && n % 2 === 0) ds.put([rec(100 + n, 'stubborn')]);
    };
    await expect(saveBackup(ds, PROGRAM, rec(5), { ...NO_WAIT, maxAttempts: 3 })).rejects.toThrow(
      /could not save the backup of program wriKFoFj7Fw: .* kept changing .*3 attempts/,
    );
  });

  it('never overwrites a value that is not the app shape', async () => {
    const ds = new FakeDataStore();
    ds.values.set(`${BACKUPS_NAMESPACE}/${PROGRAM}`, ['not', 'the app']);
    await expect(saveBackup(ds, PROGRAM, rec(1), NO_WAIT)).rejects.toThrow(/holds a list, not the Program Config App/);
    expect(ds.log).toEqual(['get']);
    expect(ds.values.get(`${BACKUPS_NAMESPACE}/${PROGRAM}`)).toEqual(['not', 'the app']);
  });

  it('a value too large for the proxy says how to prune', async () => {
    const ds = new FakeDataStore();
    ds.put([rec(1)]);
    ds.update = async () => {
      throw new Dhis2Error('server refused PUT as too large (HTTP 413 Payload Too Large)', 413);
    };
    await expect(saveBackup(ds, PROGRAM, rec(2), NO_WAIT)).rejects.toThrow(/413.*Datastore Manager/);
  });
});

describe('readBackups and readBackupMetadata', () => {
  it('no key: no backups', async () => {
    expect(await readBackups(new FakeDataStore(), PROGRAM)).toEqual({ exists: false, backups: [], bytes: 0 });
  });

  it('finds a record by id or name and returns its metadata', async () => {
    const ds = new FakeDataStore();
    ds.put([FIXTURE, rec(2, 'other')]);
    const byId = await readBackupMetadata({ dataStore: ds }, PROGRAM, String(FIXTURE.id));
    expect(byId.record).toEqual(FIXTURE);
    expect(byId.doc).toEqual(FIXTURE.metadata);
    const byName = await readBackupMetadata({ dataStore: ds }, PROGRAM, 'other');
    expect(byName.record.id).toBe(2);
  });

  it('an unknown backup lists what there is (name and id)', async () => {
    const ds = new FakeDataStore();
    ds.put([FIXTURE]);
    const error = await readBackupMetadata({ dataStore: ds }, PROGRAM, 'nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupNotFoundError);
    expect((error as BackupNotFoundError).reason).toBe('missing');
    expect((error as Error).message).toContain(`"${FIXTURE.name}" (id ${FIXTURE.id}`);
    await expect(readBackupMetadata({ dataStore: new FakeDataStore() }, PROGRAM, 'x')).rejects.toThrow(
      /it has no backups/,
    );
  });

  it('refuses an ambiguous name and a record without the program', async () => {
    const ds = new FakeDataStore();
    ds.put([rec(1, 'same'), rec(2, 'same'), { ...rec(3, 'empty'), metadata: { programs: [{ id: 'another' }] } }]);
    await expect(readBackupMetadata({ dataStore: ds }, PROGRAM, 'same')).rejects.toThrow(
      /2 backups of program wriKFoFj7Fw are named "same": use the id of one of 1 .*, 2 /,
    );
    await expect(readBackupMetadata({ dataStore: ds }, PROGRAM, '3')).rejects.toThrow(
      /does not hold program wriKFoFj7Fw/,
    );
  });
});
