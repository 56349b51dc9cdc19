/**
 * A DHIS2 Web API emulator for tests: real HTTP on 127.0.0.1, faithful to /work/shared/docs/dhis2-api.md
 * for what this project uses (system info, auth, program dependency export, collection reads, metadata
 * import with version-specific reports, async import tasks, dataStore), plus fault injection and a request
 * log. The contract is in ./types.ts.
 */
import { DEFAULT_TOKEN, LEGACY_TOKEN } from './auth.ts';
import { Faults } from './faults.ts';
import { derivedUid } from './schema.ts';
import { seedStore } from './seed.ts';
import { startServer } from './server.ts';
import { TrackerData, seedTracker } from './tracker.ts';
import type { EmulatorUser, State } from './state.ts';
import type { Emulator, EmulatorOptions, RequestLogEntry } from './types.ts';
import { parseVersion } from './version.ts';

export type {
  Emulator,
  EmulatorOptions,
  Fault,
  FaultRule,
  FaultTiming,
  MetadataStore,
  RequestLogEntry,
  SampleProgram,
  StaleJobOptions,
  TrackerDataView,
  TrackedEntityRecord,
  EnrollmentRecord,
  EventRecord,
  TrackerCounts,
} from './types.ts';
export { DEFAULT_TOKEN, LEGACY_TOKEN } from './auth.ts';
export { SAMPLE_PROGRAMS, SAMPLE_SEED, PROGRAM_TYPE_ATTRIBUTE } from './seed.ts';
export { DEFAULT_IDS } from './schema.ts';

export const DEFAULT_VERSION = '2.41.3';
/** How long an async import job runs by default (EmulatorOptions.jobDurationMs). */
export const DEFAULT_JOB_DURATION_MS = 25;
/** The id of the default `admin` user (the one of the Sierra Leone demo database). */
export const DEFAULT_ADMIN_ID = 'M5zQapPyTZI';

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const version = parseVersion(options.version ?? DEFAULT_VERSION);
  const contextPath = normalizeContextPath(options.contextPath ?? '');
  const users: EmulatorUser[] = (
    options.users ?? [{ username: 'admin', password: 'district', id: DEFAULT_ADMIN_ID }]
  ).map((u) => ({ username: u.username, password: u.password, id: u.id ?? derivedUid(`user/${u.username}`) }));
  if (users.length === 0) throw new Error('Emulator: at least one user is needed');
  const store = seedStore(options.seed);
  // The server's own users exist as metadata too (sharing may name them).
  for (const u of users) {
    if (!store.rawHas('users', u.id)) {
      store.putRaw('users', {
        id: u.id,
        username: u.username,
        firstName: u.username,
        surname: '(emulator)',
        userRoles: [],
      });
    }
  }
  const state: State = {
    version,
    store,
    dataStore: new Map(),
    users,
    tokens: options.tokens ?? [DEFAULT_TOKEN, LEGACY_TOKEN],
    contextPath,
    loginRedirect: options.loginRedirect ?? false,
    baseUrl: '',
    jobs: new Map(),
    systemId: derivedUid(`system/${version.text}`),
    jobDurationMs: options.jobDurationMs ?? DEFAULT_JOB_DURATION_MS,
    tracker: new TrackerData(),
  };
  if (!(state.jobDurationMs >= 0)) throw new Error(`Emulator: jobDurationMs must be >= 0, got ${state.jobDurationMs}`);
  if (options.trackerData !== undefined) seedTracker(state, options.trackerData);
  const faults = new Faults();
  const requests: RequestLogEntry[] = [];
  const server = await startServer(state, faults, requests, options.port ?? 0);
  state.baseUrl = `http://127.0.0.1:${server.port}${contextPath}`;
  let closed: Promise<void> | undefined;
  return {
    url: state.baseUrl,
    version: version.text,
    store,
    dataStore: state.dataStore,
    requests,
    tracker: state.tracker,
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    leaveStaleImportJob: (opts) => server.jobs.leaveStale(opts),
    clearStaleJobs: () => server.jobs.housekeeping(),
    close: () => (closed ??= server.close()),
  };
}

function normalizeContextPath(p: string): string {
  const trimmed = p.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
