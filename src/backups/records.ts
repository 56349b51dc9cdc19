/**
 * The Program Config App's in-server backups, as plain data (pca-reference.md, "In-server backup"): one
 * dataStore key per program, `programconfigapp_backups/<programId>`, holding `{"backups": [record, ...]}`.
 * Everything here follows psi-org/Program-Config-App src/components/PRG_List/BackupScreen.jsx (v3.1.1:
 * `programBackupHandler`, `processMetadata`, `filterComponent`, `formatDate`), so that a record written by
 * this tool is listed, restored and downloaded by the app, and the other way round. RestoreScreen.jsx and
 * RestoreItem.jsx read the same fields: `backups.map(...)`, `name`, `version`, `backup_date`,
 * `comment.substring(0, 100)` (so `comment` must be a string, never missing) and `metadata`.
 *
 * No I/O here: the dataStore shell is store.ts.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import { ConfigError, Dhis2Error } from '../errors.ts';
import { cloneJson, isRecord, type JsonRecord } from '../metadata/json.ts';
import { HNQIS_SHARED_OBJECTS } from '../metadata/restore-plan.ts';
import type { MetadataDocument } from '../metadata/types.ts';

/** Constants.jsx: `BACKUPS_NAMESPACE = \`${NAMESPACE}_backups\`` with NAMESPACE = 'programconfigapp'. */
export const BACKUPS_NAMESPACE = 'programconfigapp_backups';

/** BackupScreen.jsx: the name field has `inputProps={{ maxLength: 50 }}`. */
export const MAX_NAME_LENGTH = 50;

/** BackupScreen.jsx: the default name starts with `truncateString(program.name, 30, false)`. */
export const DEFAULT_NAME_PROGRAM_CHARS = 30;

/**
 * When the backups of one program (one dataStore value) get big enough to be a problem: 5 MB.
 * - The app GETs the whole value to open its Backup and its Restore dialog, and every backup (the app's
 *   and ours) PUTs the whole value back: each new backup uploads all the old ones again.
 * - DHIS2's installation guide puts nginx in front of Tomcat with `client_max_body_size 10M`
 *   (docs.dhis2.org, "Reverse proxy configuration"; nginx's own default is 1M). Past 10 MB, neither the
 *   app nor this tool can save another backup behind such a proxy (HTTP 413).
 * Half of that limit leaves room for a few more backups of the same program while there is time to prune.
 */
export const SIZE_WARNING_BYTES = 5 * 1024 * 1024;

/** One backup, exactly as BackupScreen.jsx builds it (same keys, same order, same types). */
export interface BackupRecord {
  /** `new Date().valueOf()`: epoch milliseconds. A number in every record the app or this tool writes. */
  id: number | string;
  name: string;
  /** `YYYY-MM-DD HH:MM:SS`, local time of whoever made it. */
  backup_date: string;
  /** Text (the app reads it from a text field), e.g. "3". */
  version: string;
  /** Text, "" when none (RestoreItem.jsx calls `comment.substring`). */
  comment: string;
  metadata: MetadataDocument;
}

/** What list-backups shows of a record (and its `backups` output holds). */
export interface BackupSummary {
  id: number | string | null;
  name: string;
  version: string;
  date: string;
  comment: string;
}

/** A dataStore value of the backups namespace, split into its records and whatever else it holds. */
export interface BackupsValue {
  /** As stored: normally app records, but anything someone put there is kept as it is. */
  backups: unknown[];
  /** Other top-level keys of the value (none in the app's shape); written back untouched. */
  rest: JsonRecord;
}

const stableStringify = configure({ deterministic: true, circularValue: TypeError, bigint: false });

// BackupScreen.jsx, `processMetadata`: hnqis_elements, hnqis_tet_exception and hnqis_attributes, the HNQIS
// package objects every HNQIS program shares (ids from src/configs/Constants.jsx). The same lists as the
// restore's, which the app takes from the same constants. pca-reference.md names only three attributes:
// the code has four (COMPETENCY_ATTRIBUTE ulU9KKgSLYe too).
const HNQIS_DATA_ELEMENTS = HNQIS_SHARED_OBJECTS.dataElements ?? [];
const HNQIS_TRACKED_ENTITY_TYPES = HNQIS_SHARED_OBJECTS.trackedEntityTypes ?? [];
const HNQIS_TRACKED_ENTITY_ATTRIBUTES = HNQIS_SHARED_OBJECTS.trackedEntityAttributes ?? [];

function records(value: unknown): JsonRecord[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function drop(obj: JsonRecord, keys: readonly string[]): void {
  for (const key of keys) delete obj[key];
}

/**
 * BackupScreen.jsx `filterComponent`: a new array without the listed ids, each kept object losing its
 * created/createdBy/lastUpdated/lastUpdatedBy/categoryCombo. Always an array, even when the collection was
 * missing (the app assigns the result back, so the key then exists, empty).
 */
function filterComponent(elements: unknown, excluded: readonly string[]): unknown[] {
  if (!Array.isArray(elements)) return [];
  const kept: unknown[] = [];
  for (const element of elements) {
    if (isRecord(element)) {
      if (typeof element.id === 'string' && excluded.includes(element.id)) continue;
      drop(element, ['created', 'createdBy', 'lastUpdated', 'lastUpdatedBy', 'categoryCombo']);
    }
    kept.push(element);
  }
  return kept;
}

/**
 * The metadata a backup stores, from the program's dependency export (GET programs/{id}/metadata.json, as
 * the app reads it: no legend sets or program sections added, stage data elements and program attributes
 * both embedded and at the top level), processed exactly as BackupScreen.jsx `processMetadata` does, step
 * by step and in its order. Notably it keeps `sharing`, `organisationUnits` and `system`, and it leaves
 * `createdBy` on stage sections and data elements' `categoryCombo` only where the app does. Returns a new
 * document.
 */
export function processMetadata(doc: MetadataDocument): MetadataDocument {
  const metadata = cloneJson(doc);
  drop(metadata, ['date', 'categories', 'categoryCombos', 'categoryOptions', 'categoryOptionCombos']);

  for (const program of records(metadata.programs)) {
    drop(program, ['created', 'createdBy', 'lastUpdated', 'lastUpdatedBy', 'categoryCombo']);
    for (const ptea of records(program.programTrackedEntityAttributes)) {
      drop(ptea, ['created', 'createdBy', 'lastUpdated', 'access']);
    }
  }
  for (const section of records(metadata.programStageSections)) {
    drop(section, ['created', 'lastUpdated', 'lastUpdatedBy']);
  }
  for (const stage of records(metadata.programStages)) {
    drop(stage, ['created', 'createdBy', 'lastUpdated', 'lastUpdatedBy']);
    for (const psde of records(stage.programStageDataElements)) drop(psde, ['created', 'lastUpdated', 'access']);
  }
  for (const option of records(metadata.options)) drop(option, ['created', 'lastUpdated']);
  for (const attribute of records(metadata.attributes)) {
    drop(attribute, ['created', 'createdBy', 'lastUpdated', 'lastUpdatedBy']);
  }
  for (const ptea of records(metadata.programTrackedEntityAttributes)) drop(ptea, ['created', 'lastUpdated']);

  metadata.dataElements = filterComponent(metadata.dataElements, HNQIS_DATA_ELEMENTS);
  metadata.trackedEntityTypes = filterComponent(metadata.trackedEntityTypes, HNQIS_TRACKED_ENTITY_TYPES);
  for (const tet of records(metadata.trackedEntityTypes)) {
    for (const teta of records(tet.trackedEntityTypeAttributes)) {
      drop(teta, ['created', 'createdBy', 'lastUpdated', 'access']);
    }
  }
  metadata.trackedEntityAttributes = filterComponent(metadata.trackedEntityAttributes, HNQIS_TRACKED_ENTITY_ATTRIBUTES);

  for (const psde of records(metadata.programStageDataElements)) drop(psde, ['created', 'lastUpdated']);
  for (const optionSet of records(metadata.optionSets)) {
    drop(optionSet, ['created', 'createdBy', 'lastUpdated', 'lastUpdatedBy']);
  }
  return metadata;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * BackupScreen.jsx `formatDate(date, dateSplit, hourSplit)`: local time, as the app runs in the user's
 * browser. On a GitHub-hosted runner local time is UTC unless the step sets `TZ`.
 */
export function formatDate(date: Date, dateSplit: string, hourSplit: string): string {
  return (
    [date.getFullYear(), pad2(date.getMonth() + 1), pad2(date.getDate())].join(dateSplit) +
    ' ' +
    [pad2(date.getHours()), pad2(date.getMinutes()), pad2(date.getSeconds())].join(hourSplit)
  );
}

/** `backup_date`: `YYYY-MM-DD HH:MM:SS`. */
export function backupDate(date: Date): string {
  return formatDate(date, '-', ':');
}

/**
 * The app's default name: the program name's first 30 characters, `_`, then `YYYY_MM_DD HH_MM_SS`
 * (50 characters at most). Characters are UTF-16 code units, as JavaScript's substring counts them; unlike
 * the app, a cut that would split a surrogate pair (an emoji) stops before it.
 */
export function defaultBackupName(programName: string, date: Date): string {
  let prefix = programName.substring(0, DEFAULT_NAME_PROGRAM_CHARS);
  const last = prefix.charCodeAt(prefix.length - 1);
  if (prefix.length === DEFAULT_NAME_PROGRAM_CHARS && last >= 0xd800 && last <= 0xdbff) prefix = prefix.slice(0, -1);
  return `${prefix}_${formatDate(date, '_', '_')}`;
}

export interface BackupFields {
  name?: string;
  version?: string;
  comment?: string;
}

/** The name as the app accepts it: not blank, at most 50 characters. Throws a ConfigError naming the input. */
export function validateBackupName(name: string): void {
  if (name.trim() === '') throw new ConfigError('input backup-name must not be blank');
  if (name.length > MAX_NAME_LENGTH) {
    throw new ConfigError(
      `input backup-name is ${name.length} characters long; the Program Config App allows at most ` +
        `${MAX_NAME_LENGTH}: "${name}"`,
    );
  }
}

/**
 * Builds the record the app would build for this program at `now` (BackupScreen.jsx `programBackupHandler`),
 * from the program's dependency export. Defaults as in the app: the name from the program name and the time,
 * the version from the program's `version`, an empty comment. Name and version are required.
 */
export function buildBackupRecord(
  programId: string,
  dependencyExport: MetadataDocument,
  fields: BackupFields,
  now: Date,
): BackupRecord {
  const program = records(dependencyExport.programs).find((p) => p.id === programId);
  if (!program) throw new Dhis2Error(`program ${programId} is not in the metadata the server exported for it`);
  const programName = typeof program.name === 'string' ? program.name : programId;
  const name = fields.name ?? defaultBackupName(programName, now);
  validateBackupName(name);
  const version = fields.version ?? versionText(program.version);
  if (version === undefined || version.trim() === '') {
    throw new ConfigError(
      `input backup-version is required: program ${programId} has no version on the server to use by default`,
    );
  }
  return {
    id: now.valueOf(),
    name,
    backup_date: backupDate(now),
    version,
    comment: fields.comment ?? '',
    metadata: processMetadata(dependencyExport),
  };
}

/** The program's version as the app's text field holds it ("3"); undefined when there is none. */
function versionText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return value;
  return undefined;
}

/**
 * Reads a value of the backups namespace. The app's shape is `{"backups": [...]}`; anything else was not
 * written by the app or this tool, and is refused rather than overwritten (the message says what is there).
 */
export function parseBackupsValue(value: unknown, programId: string): BackupsValue {
  const where = `dataStore ${BACKUPS_NAMESPACE}/${programId}`;
  if (!isRecord(value)) {
    throw new Dhis2Error(
      `${where} holds ${describeJson(value)}, not the Program Config App's {"backups": [...]}: ` +
        'fix or delete that key before using backups of this program',
    );
  }
  const { backups, ...rest } = value;
  if (!Array.isArray(backups)) {
    throw new Dhis2Error(
      `${where} has ${backups === undefined ? 'no "backups" list' : `"backups" as ${describeJson(backups)}`}, ` +
        `not the Program Config App's {"backups": [...]}: fix or delete that key before using backups of this program`,
    );
  }
  return { backups, rest };
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** What a listing shows of a stored record, whatever its shape (missing fields read as ""). */
export function summarizeBackup(record: unknown): BackupSummary {
  const r = isRecord(record) ? record : {};
  const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  return {
    id: typeof r.id === 'number' || typeof r.id === 'string' ? r.id : null,
    name: text(r.name),
    version: text(r.version),
    date: text(r.backup_date),
    comment: text(r.comment),
  };
}

/** Identity of a stored record for merging: its id, or (no id) its whole content. */
export function recordKey(record: unknown): string {
  if (isRecord(record) && (typeof record.id === 'number' || typeof record.id === 'string')) {
    return `id:${String(record.id)}`;
  }
  return `json:${stableStringify(record) ?? ''}`;
}

/** sha256 of a record's canonical text: two records are the same backup when these are equal. */
export function recordDigest(record: unknown): string {
  return createHash('sha256')
    .update(stableStringify(record) ?? '')
    .digest('hex');
}

/** Whether `list` holds `record` itself (same id and same content), not just another one with its id. */
export function holdsRecord(list: readonly unknown[], record: BackupRecord, digest = recordDigest(record)): boolean {
  const key = recordKey(record);
  return list.some((r) => recordKey(r) === key && recordDigest(r) === digest);
}

/**
 * The list to write: what the server has now, plus the records of our previous write that a concurrent
 * writer dropped, plus ours at the end, the way the app appends (unless it is already there). Ours gets a
 * new id (+1 ms) while another record has its id, so that ids stay unique and "by id" means one record.
 */
export function mergeBackups(
  current: readonly unknown[],
  previouslyWritten: readonly unknown[],
  mine: BackupRecord,
): { backups: unknown[]; mine: BackupRecord } {
  const digest = recordDigest(mine);
  const out = [...current];
  const keys = new Set(out.map(recordKey));
  const mineKey = recordKey(mine);
  for (const r of previouslyWritten) {
    const key = recordKey(r);
    if (key === mineKey && recordDigest(r) === digest) continue;
    if (!keys.has(key)) {
      out.push(r);
      keys.add(key);
    }
  }
  if (holdsRecord(out, mine, digest)) return { backups: out, mine };
  let record = mine;
  while (keys.has(recordKey(record))) record = { ...record, id: Number(record.id) + 1 };
  out.push(record);
  return { backups: out, mine: record };
}

export type BackupLookup =
  { kind: 'found'; record: BackupRecord } | { kind: 'missing' } | { kind: 'ambiguous'; matches: BackupSummary[] };

/**
 * The record `backupId` names: its id (as text, e.g. "1718031234567"), else its name. An id names one record
 * (ids are unique); a name several records share is ambiguous rather than guessed.
 */
export function findBackup(list: readonly unknown[], backupId: string): BackupLookup {
  const wanted = backupId.trim();
  const byId = list.filter(
    (r) => isRecord(r) && (typeof r.id === 'number' || typeof r.id === 'string') && String(r.id) === wanted,
  );
  const matches = byId.length > 0 ? byId : list.filter((r) => isRecord(r) && r.name === wanted);
  if (matches.length === 0) return { kind: 'missing' };
  if (matches.length > 1) return { kind: 'ambiguous', matches: matches.map(summarizeBackup) };
  return { kind: 'found', record: matches[0] as BackupRecord };
}

/** "name (id 123)", "name (id 123), ... and 4 more", newest (last stored) first. */
export function describeBackups(list: readonly unknown[], max = 10): string {
  const all = list.map(summarizeBackup).reverse();
  const shown = all.slice(0, max).map((s) => `"${s.name}" (id ${s.id ?? 'none'}${s.date ? `, ${s.date}` : ''})`);
  const more = all.length - shown.length;
  return shown.join(', ') + (more > 0 ? `, and ${more} older (list-backups shows them all)` : '');
}

/** Size of a value as the dataStore receives it (compact JSON, UTF-8). */
export function valueBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** How to prune a program's backups: the app cannot delete one. */
export function pruneAdvice(programId: string): string {
  return (
    `The Program Config App cannot delete backups: prune old ones from the "backups" list of key ${programId} ` +
    `in namespace ${BACKUPS_NAMESPACE} with the DHIS2 Datastore Manager app, or PUT ` +
    `/api/dataStore/${BACKUPS_NAMESPACE}/${programId} with {"backups": [the records to keep]} ` +
    '(a DELETE of that key removes them all).'
  );
}

/** The warning for a value past SIZE_WARNING_BYTES, or undefined. */
export function sizeWarning(programId: string, bytes: number, count: number): string | undefined {
  if (bytes <= SIZE_WARNING_BYTES) return undefined;
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return (
    `the ${count} backups of program ${programId} take ${mb(bytes)} in one dataStore value, which the app ` +
    `loads whole and every backup uploads whole again (a proxy's 10 MB body limit then refuses it). ` +
    pruneAdvice(programId)
  );
}
