/**
 * The one code path from a program's metadata (the repo file, or an in-server backup) to the payload
 * that `restore` imports and `dry-run` validates, plus what would really change. Dry run and restore both
 * plan through draftPlan and analysePlan (plan/validate-plan.ts planAndValidate), so the reviewed plan is exactly the restored one.
 */
import type { ProgramEntry, RestorePayload, Settings } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { Dhis2Error, isUserError, UserError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';
import { checkServerDepth } from '../metadata/assemble.ts';
import { planFingerprint } from '../metadata/canonical.ts';
import {
  changedIds,
  changedOnly,
  objectCount,
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
import { parseMetadataText, readMetadataFile, type MetadataFile } from './metadata-file.ts';

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

/** The program's dependency export on the server now; undefined when the server has no such program. */
export async function readCurrentExport(client: Dhis2Client, programId: string): Promise<MetadataDocument | undefined> {
  try {
    const current = await client.getProgramMetadata(programId);
    checkServerDepth(current, `GET /api/programs/${programId}/metadata.json`);
    return current;
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
  /** Progress lines of a big program's plan (PLAN_PROGRESS), carried to its analysis. */
  progress?: PlanProgress;
};

/**
 * Progress of long local work (issue 17, 8c): a program of `objects` objects or more (a national facility
 * list: 1,000,000 options take minutes to read, plan and compare) says what its plan does, step by step,
 * and every `everyMs` while it waits for the server. Smaller programs plan in a moment, silently.
 */
export const PLAN_PROGRESS = { objects: 50_000, everyMs: 15_000 };

/** Where a run's progress lines go: its reporter, registered by programSources (dry-run and restore plan after it). */
const progressSinks = new WeakMap<Settings, (message: string) => void>();

/** The lines of one big program's plan, each prefixed "planning <program>:" and with the time since it began. */
class PlanProgress {
  private readonly started = Date.now();

  constructor(
    private readonly say: (message: string) => void,
    private readonly label: string,
  ) {}

  private seconds(): number {
    return Math.round((Date.now() - this.started) / 1000);
  }

  /** The step that starts now. */
  step(what: string): void {
    this.say(`${this.label}: ${what} (${this.seconds()} s)…`);
  }

  /** A step that waits for the server: its line, then one every PLAN_PROGRESS.everyMs until it is over. */
  async during<T>(what: string, work: Promise<T>): Promise<T> {
    this.step(what);
    const timer = setInterval(
      () => this.say(`${this.label}: still ${what} (${this.seconds()} s)…`),
      PLAN_PROGRESS.everyMs,
    );
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  done(what: string): void {
    this.say(`${this.label}: ${what}, in ${this.seconds()} s`);
  }
}

function planProgress(settings: Settings, entry: ProgramEntry, file: MetadataFile): PlanProgress | undefined {
  const say = progressSinks.get(settings);
  const count = objectCount(file.doc);
  if (!say || count < PLAN_PROGRESS.objects) return undefined;
  say(`planning ${entry.id}: ${count.toLocaleString('en-US')} objects in ${file.path}…`);
  return new PlanProgress(say, `planning ${entry.id}`);
}

/** Reads what the plan needs from the server and builds the payload. */
export async function draftPlan(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
  file: MetadataFile,
  reading: Promise<MetadataDocument | undefined> = readCurrentExport(client, entry.id),
): Promise<DraftPlan> {
  const progress = planProgress(settings, entry, file);
  const current = progress ? await progress.during('reading the program from the server', reading) : await reading;
  const server = { current, existing: new Map<string, MetadataObject>(), minor: client.system.minor };
  // The payload's ids don't depend on what exists (only sharing does): plan, read what the dependency
  // export lacks, and plan again only if that found anything (objects of `current` already count).
  const unmanaged = unmanagedKeys(settings);
  progress?.step('building the payload');
  const draft = buildRestorePlan(file.doc, entry.id, settings.config.restore, server, unmanaged);

  const serverObjects = new Map<string, MetadataObject>();
  indexTopLevel(current, serverObjects);
  const missing = new Map<string, string[]>();
  for (const [id, collection] of payloadIds(draft.payload)) {
    if (serverObjects.has(id)) continue;
    // Pushed, not spread into a new array: a copy per id was quadratic (minutes for 100,000 new options).
    const ids = missing.get(collection);
    if (ids) ids.push(id);
    else missing.set(collection, [id]);
  }
  const fetching = Promise.all([...missing].map(([collection, ids]) => client.getObjects(collection, ids, ':owner')));
  const lacking = [...missing.values()].reduce((n, ids) => n + ids.length, 0);
  const what = `looking up ${lacking.toLocaleString('en-US')} objects the program's export lacks`;
  const fetched = (progress && lacking > 0 ? await progress.during(what, fetching) : await fetching).flat();
  checkServerDepth(fetched, 'the payload objects the dependency export lacks');
  for (const obj of fetched) if (obj.id) serverObjects.set(obj.id, obj);

  if (fetched.length > 0) progress?.step('building the payload again with what it found');
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
    ...(progress ? { progress } : {}),
  };
}

/**
 * What would really change, what is sent, and the reviewed plan's fingerprint: CPU work, no I/O.
 * `changed` sends the new and changed objects only; `all` the whole program, except the unchanged rule
 * actions with a templateUid, which DHIS2 2.42+ cannot update (re-sending them unchanged gains nothing).
 */
export function analysePlan(draft: DraftPlan): ProgramPlan {
  const { mode, progress, ...rest } = draft;
  progress?.step(`comparing ${objectCount(draft.plan.payload).toLocaleString('en-US')} objects with the server's`);
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
  progress?.step('fingerprinting the plan and what the server holds of it');
  const planned: ProgramPlan = {
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
  const n = (count: number) => count.toLocaleString('en-US');
  const { created, changed, unchanged } = diff.totals;
  progress?.done(`planned (${n(created)} new, ${n(changed)} changed, ${n(unchanged)} unchanged)`);
  return planned;
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
  const hint = `program ${entry.id}: run export first, or set its file`;
  return readMetadataFile(settings.workspace, entry.file, hint, progressSinks.get(settings));
}

/**
 * The `file` input's file (one program): in the workspace, or a rollback point in the report folder, which
 * must still be this user's private folder (src/util/paths.ts ensurePrivateDir) before anything is read from it.
 */
function readSourceFile(settings: Settings, entry: ProgramEntry): MetadataFile {
  const source = settings.sourceFile;
  if (!source) return readProgramFile(settings, entry);
  const say = progressSinks.get(settings);
  if (source.inRepo) return readMetadataFile(settings.workspace, source.path, 'input file', say);
  ensurePrivateDir(settings.reportDir);
  const text = readTextInside({ root: source.root, name: source.rootName }, source.path, 'file');
  if (text === undefined) throw new UserError(`${source.shown} not found (input file)`);
  return { ...parseMetadataText(text, source.shown, say), inRepo: false };
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

/**
 * One program's metadata, read at its turn (`load`, which throws the UserError that fails only this program):
 * a run keeps no program's file longer than it works on that program.
 */
export interface ProgramSource {
  entry: ProgramEntry;
  load(): Promise<MetadataFile>;
}

/**
 * Each program's metadata for dry-run and restore (a failure is kept per program, for its report row). With
 * `backup-id` and several programs, a program that has no such backup is left out with a notice, as
 * download-backup does; only when none has it is that an error (so backups are looked up first; files are
 * read as each program's turn comes).
 */
export async function programSources(
  client: Dhis2Client,
  settings: Settings,
  reporter: Reporter,
): Promise<ProgramSource[]> {
  progressSinks.set(settings, (message) => reporter.info(message));
  if (!settings.backup.id) {
    return settings.programs.map((entry) => ({ entry, load: async () => readSourceFile(settings, entry) }));
  }
  const sources: ProgramSource[] = [];
  const skipped: string[] = [];
  for (const entry of settings.programs) {
    try {
      const file = await loadProgramSource(client, settings, entry);
      sources.push({ entry, load: async () => file });
    } catch (e) {
      if (!isUserError(e)) throw e;
      if (e instanceof BackupNotFoundError && e.reason === 'missing' && settings.programs.length > 1) {
        skipped.push(entry.id);
        continue;
      }
      sources.push({
        entry,
        load: async () => {
          throw e;
        },
      });
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
