/** The state one emulator instance works on, shared by its route handlers. */
import type { Store } from './store.ts';
import type { Version } from './version.ts';

export interface EmulatorUser {
  id: string;
  username: string;
  password: string;
}

export interface ImportJob {
  id: string;
  created: string;
  /** Oldest first; the API lists them newest first, as DHIS2's notifier does. */
  notifications: Record<string, unknown>[];
  /** The import report (the unwrapped one), once the job has run. */
  summary?: Record<string, unknown>;
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
  return new Date().toISOString().replace('Z', '');
}
