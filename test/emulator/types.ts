/**
 * The emulator's public contract (see .tmp/emulator-contract.md). Product tests are written against these
 * names, so they change only with the contract.
 */
import type { TrackerDataView } from './tracker.ts';

export type { TrackerDataView, TrackedEntityRecord, EnrollmentRecord, EventRecord, TrackerCounts } from './tracker.ts';

export interface EmulatorOptions {
  /** DHIS2 version emulated, default '2.41.3'. Drives report shapes, status codes, PAT prefix, dataStore PUT, sharing. */
  version?: string;
  /** e.g. '/dhis': the API then lives at http://127.0.0.1:PORT/dhis/api. */
  contextPath?: string;
  /** Metadata documents loaded at start; default: the sample programs (SAMPLE_SEED). */
  seed?: Record<string, unknown>[];
  /** Default [{ username: 'admin', password: 'district' }]. */
  users?: { username: string; password: string; id?: string }[];
  /** Accepted personal access tokens; default DEFAULT_TOKEN and LEGACY_TOKEN (each only where its prefix is valid). */
  tokens?: string[];
  /**
   * Old-server behaviour: a request without valid credentials gets 302 to
   * <contextPath>/dhis-web-commons/security/login.action, which serves HTML 200.
   */
  loginRedirect?: boolean;
  /** Default 0 (a random free port); the host is always 127.0.0.1. */
  port?: number;
  /**
   * How long an async import job runs once started, in ms (default 25). The import is applied when the job
   * finishes, so a job that outlives the client's wait still commits afterwards, as on a real server.
   */
  jobDurationMs?: number;
  /**
   * Tracker data loaded at start, after the seed: the nested `trackedEntities` array (each with its `enrollments`,
   * each with its `events`) as test/fixtures/dhis2/real-2.43.1/tracker-data-created.json holds it, or the POST body
   * `{ trackedEntities, enrollments?, events? }`. Imported as POST /api/tracker?async=false&importStrategy=CREATE; a
   * payload the import refuses throws.
   */
  trackerData?: unknown[] | Record<string, unknown>;
}

export interface StaleJobOptions {
  /** How long ago the killed server last saw the job alive (its lastAlive); default 10 minutes. */
  ageMs?: number;
}

export interface RequestLogEntry {
  method: string;
  /** Without the context path and query, e.g. '/api/metadata'. */
  path: string;
  /**
   * Raw query parameters, e.g. { importMode: 'VALIDATE' }. A repeated parameter is logged with its FIRST value,
   * the one that takes effect (the emulator, like DHIS2's getParameter, reads the first).
   */
  query: Record<string, string>;
  /** The status answered; 0 when the connection was dropped (a `drop` fault) and no answer was sent. */
  status: number;
  auth: 'basic' | 'token' | 'none' | 'invalid';
  /** Parsed JSON request body, if any. */
  body?: unknown;
}

/**
 * `when` (default 'before'): 'before' faults hit instead of the request (nothing is imported, no job starts);
 * 'after' ones hit once the request was handled (the import happened, the async job started): `status`
 * answers its status and body instead of the real answer, `drop` destroys the connection without an answer,
 * `latency` holds the real answer back for `ms`.
 *
 * A `status` fault without a body answers a 5xx as an nginx error page (text/html), what a reverse proxy in
 * front of DHIS2 sends, and other statuses as a DHIS2 JSON WebMessage. A body is sent as given
 * (application/json when it parses as JSON, text/plain otherwise).
 */
export type FaultTiming = 'before' | 'after';
export type Fault =
  | { kind: 'status'; status: number; body?: string; when?: FaultTiming }
  | { kind: 'drop'; when?: FaultTiming }
  | { kind: 'latency'; ms: number; when?: FaultTiming };

export interface FaultRule {
  /** Default any. */
  method?: string;
  /** Matched against RequestLogEntry.path; default any. */
  path?: string | RegExp;
  /** 1-based: first applies to the nth matching request after the rule was added (default 1). */
  nth?: number;
  /** How many matching requests (from nth on) it applies to; default 1; Infinity = all. */
  times?: number;
  fault: Fault;
}

export interface MetadataStore {
  /** A deep copy. */
  get(collection: string, id: string): Record<string, unknown> | undefined;
  /** Deep copies. */
  list(collection: string): Record<string, unknown>[];
  /** Insert or replace by id. */
  put(collection: string, obj: Record<string, unknown>): void;
  remove(collection: string, id: string): boolean;
  collections(): string[];
  /** Canonical serialization of the whole store, to assert "nothing changed". */
  snapshot(): string;
}

export interface Emulator {
  /** Base URL without /api, including the context path, e.g. http://127.0.0.1:41234/dhis. */
  readonly url: string;
  readonly version: string;
  readonly store: MetadataStore;
  /** namespace -> key -> JSON value. */
  readonly dataStore: Map<string, Map<string, unknown>>;
  readonly requests: RequestLogEntry[];
  /**
   * The tracker data held (seeded by EmulatorOptions.trackerData, changed by POST /api/tracker): `counts()` of the
   * objects that are not soft-deleted, and deep copies of the stored `trackedEntities()`, `enrollments()`, `events()`
   * in creation order (`{ includeDeleted: true }` lists soft-deleted ones too).
   */
  readonly tracker: TrackerDataView;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /**
   * 2.41+: leaves a METADATA_IMPORT job RUNNING as a server killed mid-import does (old lastAlive; shape of
   * real-2.43.1/async-stale-running-job.jobConfiguration.json) and answers its id. While it exists, every new async
   * import stays SCHEDULED (NOT_STARTED), tasks [], and runs only after clearStaleJobs(). Cancelling it (POST
   * /api/jobConfigurations/{id}/cancel) answers 204 and changes nothing visible; DELETE answers 409.
   */
  leaveStaleImportJob(options?: StaleJobOptions): string;
  /**
   * DHIS2's housekeeping (HousekeepingJob): stale RUNNING jobs become DISABLED with lastExecutedStatus FAILED,
   * cancelled queued jobs DISABLED; then waiting jobs start. Answers how many stale jobs it cleared.
   */
  clearStaleJobs(): number;
  close(): Promise<void>;
}

export interface SampleProgram {
  id: string;
  name: string;
  kind: 'tracker' | 'hnqis2';
  /** Fixture file the program came from (the last one that defined it), relative to test/fixtures. */
  source: string;
}
