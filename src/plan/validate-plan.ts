/**
 * The step dry-run and restore share: plan the program, validate exactly the payload restore would send
 * (importMode=VALIDATE), and add what DHIS2 accepts at VALIDATE but refuses at COMMIT. Both commands call
 * planAndValidate, so the reviewed plan is exactly the restored one.
 */
import type { Settings } from '../config/types.ts';
import type { Dhis2Client, ImportError, ImportReport } from '../dhis2/client.ts';
import { nothingImported } from '../dhis2/import-report.ts';
import { isEmptyPayload, type CommitOnlyFailure } from '../metadata/changed-payload.ts';
import { collection } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import type { ProgramOutcome } from '../report/import-summary.ts';
import { ObjectLocator, type MetadataFile } from './metadata-file.ts';
import { analysePlan, draftPlan, readCurrentExport, type ProgramPlan, type ProgramSource } from './plan.ts';

/** The only import parameters a dry run ever sends. importMode must be exactly VALIDATE (dhis2-api.md). */
export const VALIDATE_PARAMS = {
  importMode: 'VALIDATE',
  importStrategy: 'CREATE_AND_UPDATE',
  atomicMode: 'ALL',
} as const;

/** The error code this product gives a known COMMIT-only failure (DHIS2's own codes are E + 4 digits). */
export const COMMIT_FAILURE_CODE = 'COMMIT_FAILS';

/** The payload collection of a DHIS2 class name (ProgramStage -> programStages, Category -> categories). */
function collectionFor(objectType: string, payload: Record<string, unknown>): string | undefined {
  const base = objectType.charAt(0).toLowerCase() + objectType.slice(1);
  return [`${base}s`, base.replace(/y$/, 'ies')].find((key) => Array.isArray(payload[key]));
}

/** UID-shaped words in an error's text (DHIS2 writes a reference as `[uid]` or `uid (Type)`). */
const UID_IN_TEXT = /(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]{10}(?![A-Za-z0-9])/g;

/** Annotates each import error on the line of its object in the file (shown in the PR's diff view). */
export function annotateErrors(reporter: Reporter, planned: ProgramPlan, report: ImportReport): void {
  const locator = new ObjectLocator(planned.file);
  const payload = planned.payload;
  for (const e of report.errors) {
    // mainId names the object an error is really about when it is embedded (a stage's data element), but
    // for a uniqueness error (E5003) it is the OTHER object that already holds the value.
    let uid = e.code === 'E5003' ? e.uid : (e.mainId ?? e.uid);
    if (uid === undefined && e.index !== undefined) {
      // No uid: the report still gives the object's type and index, which are the payload's, not the file's.
      const key = collectionFor(e.objectType, payload);
      const obj = key ? (payload[key] as { id?: string }[])[e.index] : undefined;
      uid = obj?.id;
    }
    // On the line the error is about: the wrong reference (E5002's missing uid, from its args or message),
    // else the field DHIS2 names (errorProperty), else the object.
    const references = [...(e.args ?? []), e.message].flatMap((t) => t.match(UID_IN_TEXT) ?? []);
    reporter.error(
      `${e.code} ${e.objectType}${e.uid ? ` ${e.uid}` : ''}: ${e.message}`,
      locator.locate(uid, { references, property: e.property }),
    );
  }
}

/** A COMMIT-only failure as an import error, with the way out. */
function commitFailureError(f: CommitOnlyFailure, minor: number): ImportError {
  return {
    code: COMMIT_FAILURE_CODE,
    objectType: 'ProgramRuleAction',
    klass: 'org.hisp.dhis.programrule.ProgramRuleAction',
    uid: f.id,
    message:
      `DHIS2 2.${minor} cannot update a ${f.type || 'program rule'} action that has a notification template ` +
      `(templateUid ${f.templateUid}): importMode=VALIDATE accepts it but the import fails ` +
      '(TransientPropertyValueException), since 2.42. To apply this change, give the action a new UID in the file ' +
      "(and in its rule's programRuleActions): DHIS2 creates the new action, which works, and restore removes " +
      'the old one after the import. Or make the change in the DHIS2 Maintenance app.',
  };
}

/**
 * Plans the program and validates what restore would send (`whileReading` works on the file while the server
 * answers; `onPlanned` is given the plan before it is validated, to read more beside the VALIDATE). Nothing to
 * send is not sent: the report then says OK with no counts. The known COMMIT-only failures make the report
 * ERROR, as the import would.
 */
export async function planAndValidate(
  client: Dhis2Client,
  settings: Settings,
  source: ProgramSource,
  reporter: Reporter,
  whileReading?: (file: MetadataFile) => Promise<void>,
  onPlanned?: (planned: ProgramPlan) => void,
): Promise<{ planned: ProgramPlan; report: ImportReport }> {
  const { entry } = source;
  // The server's copy is asked for first: the file is read (and, by `whileReading`, checked) meanwhile.
  const reading = readCurrentExport(client, entry.id);
  reading.catch(() => {}); // awaited by draftPlan; a rejection while the file fails to load is not unhandled
  // The request goes out on a later turn of the event loop (axios's interceptors are promises): let it leave
  // before the file's synchronous read and parse, which would otherwise come first.
  await new Promise((resolve) => setImmediate(resolve));
  const file = await source.load();
  await whileReading?.(file);
  const planned = analysePlan(await draftPlan(client, settings, entry, file, reading));
  onPlanned?.(planned);
  const report = isEmptyPayload(planned.payload)
    ? nothingImported()
    : await client.importMetadata(planned.payload, VALIDATE_PARAMS);
  if (planned.commitFailures.length > 0) {
    report.errors.push(...planned.commitFailures.map((f) => commitFailureError(f, planned.minor)));
    report.status = 'ERROR';
  }
  if (report.errors.length > 0) annotateErrors(reporter, planned, report);
  // A failing step always has its ::error:: line, even when DHIS2 gives no details.
  else if (report.status === 'ERROR')
    reporter.error(`program ${entry.id}: DHIS2 reports the import would fail (ERROR)`);
  return { planned, report };
}

export function outcomeOf(planned: ProgramPlan, report?: ImportReport): ProgramOutcome {
  const program = collection(planned.plan.payload, 'programs')[0];
  return {
    id: planned.entry.id,
    name: typeof program?.name === 'string' ? program.name : undefined,
    file: planned.file.path,
    fingerprint: planned.fingerprint,
    serverState: planned.serverState,
    report,
    diff: planned.diff,
    plan: { stale: planned.plan.stale, notes: planned.plan.notes },
    onServer: planned.onServer,
  };
}
