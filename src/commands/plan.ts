/**
 * The one code path from a program's metadata (the repo file, or an in-server backup) to the payload
 * that `restore` imports and `dry-run` validates, plus what would really change. Dry run and restore both
 * plan through draftPlan and analysePlan (dry-run.ts planAndValidate), so the reviewed plan is exactly the restored one.
 */
import type { ProgramEntry, RestorePayload, Settings } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { Dhis2Error, isUserError, UserError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';
import { planFingerprint } from '../metadata/canonical.ts';
import {
  changedIds,
  changedOnly,
  templateUidUpdates,
  withoutActions,
  type CommitOnlyFailure,
} from '../metadata/changed-payload.ts';
import { diffMetadata, VOLATILE_KEYS, type MetadataDiff } from '../metadata/diff.ts';
import { documentIds, encodeServerState, serverState, type TouchedObjects } from '../metadata/server-state.ts';
import { REMOVAL_KEYS } from '../metadata/keys.ts';
import {
  buildRestorePlan,
  DEFAULT_UNMANAGED,
  payloadIds,
  type RestorePlan,
  type Unmanaged,
} from '../metadata/restore-plan.ts';
import { indexTopLevel, type MetadataDocument, type MetadataObject } from '../metadata/types.ts';
import { BackupNotFoundError, readBackupMetadata } from '../backups/index.ts';
import { ensurePrivateDir, readTextInside } from '../util/paths.ts';
import { parseMetadataText, readMetadataFile, type MetadataFile } from './json-file.ts';

export interface ProgramPlan {
  entry: ProgramEntry;
  /** Where the metadata came from (a file in the repo, for annotations). */
  file: MetadataFile;
  /** The program exists on the server (else restore creates it). */
  onServer: boolean;
  /** The program's dependency export the plan was made against (restore's rollback point starts from it). */
  current?: MetadataDocument;
  /** The whole program as restore plans it (what `restore.payload: all` sends, and what verify checks). */
  plan: RestorePlan;
  /** The server's copy of every payload object it has, by id. */
  serverObjects: Map<string, MetadataObject>;
  /** DHIS2 minor version of the target (42 for 2.42.x). */
  minor: number;
  diff: MetadataDiff;
  /** Exactly what dry-run validates and restore imports: with `restore.payload: changed`, the new and changed objects. */
  payload: MetadataDocument;
  /** Updates in `payload` that this DHIS2 version refuses at COMMIT although VALIDATE accepts them. */
  commitFailures: CommitOnlyFailure[];
  /** The reviewed plan's fingerprint: `payload` and the deletions (`plan.stale`). */
  fingerprint: string;
  /** The server's side of the review: its copy of every object the plan touches (metadata/server-state.ts), encoded. */
  serverState: string;
}

/** The program's dependency export on the server, or undefined when the program is not there yet. */
async function currentExport(client: Dhis2Client, programId: string): Promise<MetadataDocument | undefined> {
  try {
    return await client.getProgramMetadata(programId);
  } catch (e) {
    if (e instanceof Dhis2Error && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * Keys the diff ignores: the stamps the server keeps itself (dates, who created and changed the object,
 * the version counter), which an export may strip and an import never sets. Everything else the payload carries is compared:
 * what the file does not manage was filled in from the server by the plan (DEFAULT_UNMANAGED).
 */
export const DIFF_IGNORE_KEYS: ReadonlySet<string> = new Set([
  ...REMOVAL_KEYS.dates,
  ...REMOVAL_KEYS.userFields,
  // DHIS2 increments `version` on every update of a program or option set (seen on a real 2.43.1,
  // dhis2-api.md): a counter for clients to re-download, not configuration. Compared, it would make every
  // restored program "changed" again until the next export, and each restore would bump it again.
  'version',
]);

/** What the plan takes from the server when the file lacks it: categories, legend sets, `attributes:` removals. */
export function unmanagedKeys(settings: Settings): Unmanaged {
  return { ...DEFAULT_UNMANAGED, perCollection: settings.config.attributes };
}

/** A plan before its analysis: what was read from the server and the payload built from it. */
export type DraftPlan = Omit<ProgramPlan, 'diff' | 'payload' | 'commitFailures' | 'fingerprint' | 'serverState'> & {
  mode: RestorePayload;
};

/** Reads what the plan needs from the server and builds the payload. */
export async function draftPlan(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
  file: MetadataFile,
): Promise<DraftPlan> {
  const current = await currentExport(client, entry.id);
  const server = { current, existing: new Map<string, MetadataObject>(), minor: client.system.minor };
  // The payload's ids don't depend on what exists (only sharing does): plan, read what the dependency
  // export lacks, and plan again only if that found anything (objects of `current` already count).
  const unmanaged = unmanagedKeys(settings);
  const draft = buildRestorePlan(file.doc, entry.id, settings.config.restore, server, unmanaged);

  const serverObjects = new Map<string, MetadataObject>();
  indexTopLevel(current, serverObjects);
  const missing = new Map<string, string[]>();
  for (const [id, collection] of payloadIds(draft.payload)) {
    if (serverObjects.has(id)) continue;
    missing.set(collection, [...(missing.get(collection) ?? []), id]);
  }
  const fetched = (
    await Promise.all([...missing].map(([collection, ids]) => client.getObjects(collection, ids, ':owner')))
  ).flat();
  for (const obj of fetched) if (obj.id) serverObjects.set(obj.id, obj);

  const plan =
    fetched.length === 0
      ? draft
      : buildRestorePlan(
          file.doc,
          entry.id,
          settings.config.restore,
          { ...server, existing: serverObjects },
          unmanaged,
        );
  return {
    entry,
    file,
    onServer: current !== undefined,
    current,
    plan,
    serverObjects,
    minor: client.system.minor,
    mode: settings.config.restore.payload,
  };
}

/**
 * What would really change, what is sent, and the reviewed plan's fingerprint: CPU work, no I/O.
 * `changed` sends the new and changed objects only; `all` the whole program, except the unchanged rule
 * actions with a templateUid, which DHIS2 2.42+ cannot update (re-sending them unchanged gains nothing).
 */
export function analysePlan(draft: DraftPlan): ProgramPlan {
  const { mode, ...rest } = draft;
  const diff = diffMetadata(draft.plan.payload, draft.serverObjects, DIFF_IGNORE_KEYS);
  let payload = mode === 'changed' ? changedOnly(draft.plan.payload, diff) : draft.plan.payload;
  let plan = draft.plan;
  if (mode === 'all') {
    const changedActions = changedIds(diff).get('programRuleActions') ?? new Set<string>();
    const unchanged = templateUidUpdates(payload, draft.serverObjects, draft.minor).filter(
      (f) => !changedActions.has(f.id),
    );
    if (unchanged.length > 0) {
      payload = withoutActions(payload, new Set(unchanged.map((f) => f.id)));
      const note =
        `Left out ${unchanged.length} unchanged program rule action${unchanged.length === 1 ? '' : 's'} with a ` +
        `notification template (SENDMESSAGE/SCHEDULEMESSAGE): DHIS2 2.${draft.minor} fails to update them.`;
      plan = { ...plan, notes: [...plan.notes, note] };
    }
  }
  const commitFailures = templateUidUpdates(payload, draft.serverObjects, draft.minor);
  return {
    ...rest,
    plan,
    diff,
    payload,
    commitFailures,
    fingerprint: planFingerprint(payload, plan.stale),
    serverState: encodeServerState(
      serverState(touchedObjects(diff, payload, plan.stale), draft.serverObjects, STATE_IGNORE),
    ),
  };
}

/** Keys the server's side of the review leaves out: what the diff ignores (stamps, links, the version counter). */
const STATE_IGNORE: ReadonlySet<string> = new Set([...VOLATILE_KEYS, ...DIFF_IGNORE_KEYS]);

/** What the plan touches: named, the objects it really changes, creates or deletes; the rest of what it sends. */
function touchedObjects(
  diff: MetadataDiff,
  payload: MetadataDocument,
  deletions: Readonly<Record<string, readonly string[]>>,
): TouchedObjects {
  const named = new Set<string>(Object.values(deletions).flat());
  for (const c of diff.collections) {
    for (const o of c.changed) named.add(o.id);
    for (const id of c.created) if (!id.startsWith('(')) named.add(id);
  }
  return { named: [...named], others: documentIds(payload).filter((id) => !named.has(id)) };
}

export function readProgramFile(settings: Settings, entry: ProgramEntry): MetadataFile {
  return readMetadataFile(settings.workspace, entry.file, `program ${entry.id}: run export first, or set its file`);
}

/**
 * The `file` input's file (one program): in the workspace, or a rollback point in the report folder, which
 * must still be this user's private folder (src/util/paths.ts ensurePrivateDir) before anything is read from it.
 */
function readSourceFile(settings: Settings, entry: ProgramEntry): MetadataFile {
  const source = settings.sourceFile;
  if (!source) return readProgramFile(settings, entry);
  if (source.inRepo) return readMetadataFile(settings.workspace, source.path, 'input file');
  ensurePrivateDir(settings.reportDir);
  const text = readTextInside({ root: source.root, name: source.rootName }, source.path, 'file');
  if (text === undefined) throw new UserError(`${source.shown} not found (input file)`);
  return { ...parseMetadataText(text, source.shown), inRepo: false };
}

/**
 * The metadata to restore or dry-run: the program's file in the repo (or the `file` input's), or with
 * `backup-id` the in-server backup (the Program Config App's record), which then goes through exactly the
 * same plan.
 */
export async function loadProgramSource(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
): Promise<MetadataFile> {
  if (!settings.backup.id) return readSourceFile(settings, entry);
  const { record, doc } = await readBackupMetadata(client, entry.id, settings.backup.id);
  return { path: `backup "${record.name}" (${record.id}) of program ${entry.id}`, inRepo: false, text: '', doc };
}

export type ProgramSource = { entry: ProgramEntry; file: MetadataFile } | { entry: ProgramEntry; error: UserError };

/**
 * Each program's metadata for dry-run and restore (a failure is kept per program, for its report row). With
 * `backup-id` and several programs, a program that has no such backup is left out with a notice, as
 * download-backup does; only when none has it is that an error.
 */
export async function programSources(
  client: Dhis2Client,
  settings: Settings,
  reporter: Reporter,
): Promise<ProgramSource[]> {
  const sources: ProgramSource[] = [];
  const skipped: string[] = [];
  for (const entry of settings.programs) {
    try {
      sources.push({ entry, file: await loadProgramSource(client, settings, entry) });
    } catch (e) {
      if (!isUserError(e)) throw e;
      if (e instanceof BackupNotFoundError && e.reason === 'missing' && settings.programs.length > 1) {
        skipped.push(entry.id);
        continue;
      }
      sources.push({ entry, error: e });
    }
  }
  if (skipped.length === settings.programs.length) {
    throw new UserError(`no program of ${settings.config.path} has a backup "${settings.backup.id}" (by id or name)`);
  }
  if (skipped.length > 0) {
    reporter.notice(
      `Left out ${skipped.join(', ')}: no backup "${settings.backup.id}" for ${skipped.length === 1 ? 'it' : 'them'}.`,
    );
  }
  return sources;
}
