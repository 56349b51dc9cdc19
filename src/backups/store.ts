/**
 * The backups' dataStore shell: read a program's backups, append one without losing anyone else's, and
 * read one back for download, dry-run and restore.
 *
 * The app (BackupScreen.jsx) reads the value when its dialog opens and later POSTs it (key missing) or PUTs
 * it whole with the new record pushed: anything saved in between is lost. The dataStore has no
 * compare-and-set, so saveBackup does the next best thing:
 * 1. read the value right before writing, and merge by record id (ours appended, the others kept as stored);
 * 2. POST when the key is missing (a 409 means someone created it meanwhile: start over, which PUTs); else
 *    PUT (a 404 before 2.41 means someone deleted it meanwhile: start over, which POSTs);
 * 3. read back: ours must be there, and so must every record we wrote; if a concurrent writer replaced the
 *    value (its PUT came after ours but was built from an older read), merge again, putting back what it
 *    dropped;
 * 4. once it holds, wait a moment and read back once more, to catch a concurrent writer whose PUT lands just
 *    after our first read-back. The wait is twice our own read-to-write time (another run of this tool
 *    needs about as long between its read and its write), at least SETTLE_MIN_MS.
 * So two runs of this tool at once both keep their record, unless one's write reaches the server more than
 * that pause after the other's (the pause is sized on our own round trip, which theirs resembles: same key,
 * same size, same server). What nothing here can protect is a record the app saves from a dialog opened
 * before our write: the app writes its stale copy back without reading again.
 */
import type { DataStore } from '../dhis2/datastore.ts';
import { Dhis2Error, UserError } from '../errors.ts';
import { isRecord } from '../metadata/json.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import {
  BACKUPS_NAMESPACE,
  describeBackups,
  findBackup,
  holdsRecord,
  mergeBackups,
  parseBackupsValue,
  pruneAdvice,
  recordKey,
  valueBytes,
  type BackupRecord,
} from './records.ts';

/** Rounds of read-merge-write-verify before giving up (a value that keeps changing under us). */
export const MAX_SAVE_ATTEMPTS = 4;
export const SETTLE_MIN_MS = 500;
export const SETTLE_MAX_MS = 10_000;

export interface StoredBackups {
  /** Whether the key exists. */
  exists: boolean;
  /** The records as stored (normally app records). */
  backups: unknown[];
  /** Size of the whole value (compact JSON). */
  bytes: number;
}

/** The program's backups; none when the key does not exist. Throws on a value that is not the app's shape. */
export async function readBackups(dataStore: DataStore, programId: string): Promise<StoredBackups> {
  const value = await dataStore.get<unknown>(BACKUPS_NAMESPACE, programId);
  if (value === undefined) return { exists: false, backups: [], bytes: 0 };
  return { exists: true, backups: parseBackupsValue(value, programId).backups, bytes: valueBytes(value) };
}

export interface SaveOptions {
  maxAttempts?: number;
  /** Fixed wait before the second read-back; default: twice the read-to-write time, within the bounds above. */
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string) => void;
}

export interface SaveResult {
  /** Ours as saved (its id is one more than planned when another record had that id). */
  record: BackupRecord;
  /** Records in the value after the save, and its size. */
  count: number;
  bytes: number;
  attempts: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Appends `record` to the program's backups (see the top of this file for how). */
export async function saveBackup(
  dataStore: DataStore,
  programId: string,
  record: BackupRecord,
  options: SaveOptions = {},
): Promise<SaveResult> {
  const maxAttempts = options.maxAttempts ?? MAX_SAVE_ATTEMPTS;
  const sleep = options.sleep ?? defaultSleep;
  const log = options.log ?? (() => {});
  const where = `${BACKUPS_NAMESPACE}/${programId}`;
  let mine = record;
  let written: unknown[] = [];
  let problem = '';

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const started = Date.now();
    const current = await dataStore.get<unknown>(BACKUPS_NAMESPACE, programId);
    const parsed = current === undefined ? undefined : parseBackupsValue(current, programId);
    const merged = mergeBackups(parsed?.backups ?? [], written, mine);
    if (merged.mine.id !== mine.id) log(`${where}: id ${mine.id} is taken, saving as ${merged.mine.id}`);
    mine = merged.mine;
    const value = { ...parsed?.rest, backups: merged.backups };
    try {
      if (current === undefined) await dataStore.create(BACKUPS_NAMESPACE, programId, value);
      else await dataStore.update(BACKUPS_NAMESPACE, programId, value);
    } catch (e) {
      if (e instanceof Dhis2Error && (e.status === 409 || e.status === 404)) {
        problem = e.status === 409 ? 'the key was created meanwhile' : 'the key was deleted meanwhile';
        log(`${where}: ${problem}; reading it again`);
        continue;
      }
      if (e instanceof Dhis2Error && e.status === 413) {
        throw new Dhis2Error(
          `${e.message}. The backups of program ${programId} are ${valueBytes(value)} bytes in one value. ` +
            pruneAdvice(programId),
          413,
        );
      }
      throw e;
    }
    written = merged.backups;
    const window = Date.now() - started;

    let check = await verify(dataStore, programId, mine, written);
    if (check.ok) {
      const settle = options.settleMs ?? Math.min(SETTLE_MAX_MS, Math.max(SETTLE_MIN_MS, 2 * window));
      if (settle > 0) {
        await sleep(settle);
        check = await verify(dataStore, programId, mine, written);
      }
    }
    if (check.ok) return { record: mine, count: check.count, bytes: check.bytes, attempts: attempt };
    problem = check.problem;
    log(`${where}: ${problem}; merging again (attempt ${attempt + 1} of ${maxAttempts})`);
  }
  throw new Dhis2Error(
    `could not save the backup of program ${programId}: dataStore ${where} kept changing under it ` +
      `(${maxAttempts} attempts; last: ${problem}). Try again when no one else is saving backups of this program`,
  );
}

type Check = { ok: true; count: number; bytes: number } | { ok: false; problem: string };

/** Reads the value back: ours must be there, and every record we wrote with it. */
async function verify(dataStore: DataStore, programId: string, mine: BackupRecord, written: unknown[]): Promise<Check> {
  const value = await dataStore.get<unknown>(BACKUPS_NAMESPACE, programId);
  if (value === undefined) return { ok: false, problem: 'the key is gone (deleted by someone else)' };
  const { backups } = parseBackupsValue(value, programId);
  if (!holdsRecord(backups, mine)) return { ok: false, problem: 'another writer replaced the value without ours' };
  const present = new Set(backups.map(recordKey));
  const lost = written.filter((r) => !present.has(recordKey(r))).length;
  if (lost > 0) return { ok: false, problem: `another writer replaced the value, dropping ${lost} other backups` };
  return { ok: true, count: backups.length, bytes: valueBytes(value) };
}

/** The backup a command asked for cannot be used: none has that id or name, several share the name, or its record holds no metadata for the program. */
export class BackupNotFoundError extends UserError {
  constructor(
    message: string,
    readonly reason: 'missing' | 'ambiguous' | 'invalid',
  ) {
    super(message);
  }
}

/**
 * The record `backupId` (its id or its name) of the program, and its metadata: for download-backup, and for
 * dry-run/restore with `backup-id`. Throws a one-line UserError when there is no such backup (listing the
 * ones there are), when a name is ambiguous, or when the record has no usable metadata for the program.
 */
export async function readBackupMetadata(
  client: { dataStore: DataStore },
  programId: string,
  backupId: string,
): Promise<{ record: BackupRecord; doc: MetadataDocument }> {
  const { backups } = await readBackups(client.dataStore, programId);
  return backupMetadata(backups, programId, backupId);
}

/** readBackupMetadata on records already read. */
export function backupMetadata(
  backups: readonly unknown[],
  programId: string,
  backupId: string,
): { record: BackupRecord; doc: MetadataDocument } {
  const where = `dataStore ${BACKUPS_NAMESPACE}/${programId}`;
  const found = findBackup(backups, backupId);
  if (found.kind === 'missing') {
    throw new BackupNotFoundError(
      `program ${programId} has no backup "${backupId}" (by id or name) in ${where}: ` +
        (backups.length === 0 ? 'it has no backups' : `it has ${describeBackups(backups)}`),
      'missing',
    );
  }
  if (found.kind === 'ambiguous') {
    throw new BackupNotFoundError(
      `${found.matches.length} backups of program ${programId} are named "${backupId}": use the id of one of ` +
        found.matches.map((m) => `${m.id ?? 'none'} (${m.date || 'no date'})`).join(', '),
      'ambiguous',
    );
  }
  const { record } = found;
  const doc = record.metadata;
  const label = `backup "${record.name}" (id ${record.id}) of program ${programId}`;
  if (!isRecord(doc)) throw new BackupNotFoundError(`${label} has no metadata document`, 'invalid');
  const programs = Array.isArray(doc.programs) ? doc.programs : [];
  if (!programs.some((p) => isRecord(p) && p.id === programId)) {
    throw new BackupNotFoundError(`${label} does not hold program ${programId} in its metadata`, 'invalid');
  }
  return { record, doc };
}
