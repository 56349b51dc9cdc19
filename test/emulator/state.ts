/** The state one emulator instance works on, shared by its route handlers. */
import type { Store } from './store.ts';
import type { TrackerData } from './tracker.ts';
import type { Version } from './version.ts';

export interface EmulatorUser {
  id: string;
  username: string;
  password: string;
}

export type JobStatus = 'SCHEDULED' | 'RUNNING' | 'DISABLED';
export type JobOutcome = 'NOT_STARTED' | 'COMPLETED' | 'FAILED' | 'STOPPED';

/**
 * A METADATA_IMPORT job configuration, with the columns of dhis2-core's jobconfiguration table the scheduler
 * uses (HibernateJobConfigurationStore): jobstatus, lastexecutedstatus, enabled, cancel, lastexecuted,
 * lastfinished, lastalive.
 */
export interface ImportJob {
  id: string;
  /** "METADATA_IMPORT (<epoch ms>)", as JobConfiguration(type) names a ONCE_ASAP job. */
  name: string;
  created: string;
  lastUpdated: string;
  /** Oldest first; the API lists them newest first, as DHIS2's notifier does. */
  notifications: Record<string, unknown>[];
  /** The import report (the unwrapped one), once the job has run. */
  summary?: Record<string, unknown>;
  jobParameters: Record<string, unknown>;
  jobStatus: JobStatus;
  lastExecutedStatus: JobOutcome;
  enabled: boolean;
  /** Set by POST .../cancel on a RUNNING job (tryCancel scenario 1). */
  cancel: boolean;
  lastExecuted?: string;
  lastFinished?: string;
  lastAlive?: string;
  executedBy: string;
  /** Left RUNNING by a killed server: nothing runs it, nothing finishes it but housekeeping. */
  dead: boolean;
  /** Runs the import; set for jobs this emulator started. */
  run?: () => void;
}

export interface State {
  readonly version: Version;
  readonly store: Store;
  readonly dataStore: Map<string, Map<string, unknown>>;
  readonly users: EmulatorUser[];
  readonly tokens: string[];
  readonly contextPath: string;
  readonly loginRedirect: boolean;
  /** Set once the server listens: http://127.0.0.1:PORT + contextPath. */
  baseUrl: string;
  readonly jobs: Map<string, ImportJob>;
  /** Fixed per emulator, as a server's systemId is. */
  readonly systemId: string;
  /** How long an async import job runs, from start to finish (EmulatorOptions.jobDurationMs). */
  readonly jobDurationMs: number;
  /** Tracked entities, enrollments and events (tracker.ts). */
  readonly tracker: TrackerData;
}

/** What a route handler answers; the server serializes it. */
export interface Reply {
  status: number;
  body?: unknown;
  /** text/html and friends; default application/json. */
  contentType?: string;
  headers?: Record<string, string>;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  302: 'Found',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** DHIS2's WebMessage for a plain status: {httpStatus, httpStatusCode, status, message}. */
export function webMessage(status: number, message?: string, extra: Record<string, unknown> = {}): Reply {
  return {
    status,
    body: {
      httpStatus: reasonPhrase(status),
      httpStatusCode: status,
      status: status < 300 ? 'OK' : 'ERROR',
      ...(message !== undefined ? { message } : {}),
      ...extra,
    },
  };
}

export function now(): string {
  return timestamp(Date.now());
}

/** DHIS2's date format: ISO without the zone, milliseconds kept. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '');
}
