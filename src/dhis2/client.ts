/**
 * The DHIS2 client: connects once (GET /api/system/info), adapts to the server's version, and offers the few
 * calls the commands need. HTTP details (auth, retries, error messages) are in http.ts.
 */
import type { Auth } from '../config/types.ts';
import { ConfigError, Dhis2Error } from '../errors.ts';
import type { MetadataDocument, MetadataObject } from '../metadata/types.ts';
import { chunkByUrlLength } from './chunk.ts';
import { DataStoreApi, type DataStore } from './datastore.ts';
import { Http } from './http.ts';
import type { ImportReport } from './import-report.ts';
import { isRecord } from './json.ts';
import type { JobWait } from './import-job.ts';
import { importMetadata, type ImportParams } from './metadata-import.ts';
import { buildQuery, type QueryParams } from './query.ts';
import {
  countRefusal,
  totalOf,
  trackerCountParams,
  UncountableError,
  type TrackerCountQuery,
} from './tracker-count.ts';
import pLimit from 'p-limit';
import { normaliseServerUrl } from './server-url.ts';
import { parseVersion, versionAtLeast } from './version.ts';

export type { DataStore } from './datastore.ts';
export type { ImportParams } from './metadata-import.ts';
export type { TrackerCountQuery } from './tracker-count.ts';
export { ImportJobError } from './import-job.ts';
export type { ImportError, ImportReport, ImportStats, TypeReport } from './import-report.ts';

export interface ClientOptions {
  /** Base URL, with or without a context path (https://host/dhis); a trailing slash or /api is tolerated. */
  url: string;
  auth?: Auth;
  /** Per request (each attempt); default 60 000. */
  timeoutMs?: number;
  /** Retries after the first attempt, where a retry is safe; default 4. */
  retries?: number;
  /** Base of the exponential backoff; default 500 (tests pass a few ms). */
  retryDelayMs?: number;
  /** No URL is longer than this (ids are split over several requests); default 6000. */
  maxUrlLength?: number;
  /** Async imports: time between two polls of the job; default 1000. */
  pollIntervalMs?: number;
  /** Async imports: stop waiting for a running job after this long (and try to cancel it); default 30 minutes. */
  asyncTimeoutMs?: number;
  /** Async imports: a job still queued after this long is looked into (what blocks it) and cancelled; default 2 minutes. */
  startTimeoutMs?: number;
  /** Async imports: a progress line this often while the job runs; default 20 s. */
  progressIntervalMs?: number;
  /** Progress lines of long operations (the job log). */
  progress?: (message: string) => void;
  /** Debug lines (already free of secrets). */
  log?: (message: string) => void;
}

export interface SystemInfo {
  /** As the server reports it, e.g. 2.40.4.1 or 2.43.0-rc1. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  revision?: string;
  serverDate?: string;
}

export const DEFAULTS = {
  timeoutMs: 60_000,
  retries: 4,
  retryDelayMs: 500,
  // Tomcat and Jetty refuse a request whose line AND headers pass 8 KB: leave room for the headers
  // (Authorization with a long token, cookies a proxy adds).
  maxUrlLength: 6000,
  pollIntervalMs: 1000,
  asyncTimeoutMs: 30 * 60_000,
  // DHIS2's scheduler starts a queued one-off job within seconds; two minutes of nothing means a blocked queue.
  startTimeoutMs: 2 * 60_000,
  progressIntervalMs: 20_000,
} as const;

/** Tracker counts at once over a run: each is a count query the server computes over the stored values. */
const COUNT_CONCURRENCY = 4;

export class Dhis2Client {
  readonly system: SystemInfo;
  /** Normalised base URL: no /api, no trailing slash. */
  readonly url: string;
  readonly dataStore: DataStore;
  private readonly http: Http;
  private readonly maxUrlLength: number;
  private readonly importOptions: JobWait;
  /** The tracker counts of the whole run, a few at a time (countTracker). */
  private readonly counting = pLimit(COUNT_CONCURRENCY);

  private constructor(http: Http, system: SystemInfo, options: ClientOptions) {
    this.http = http;
    this.url = http.server;
    this.system = system;
    this.maxUrlLength = options.maxUrlLength ?? DEFAULTS.maxUrlLength;
    this.importOptions = {
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      asyncTimeoutMs: options.asyncTimeoutMs ?? DEFAULTS.asyncTimeoutMs,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      progressIntervalMs: options.progressIntervalMs ?? DEFAULTS.progressIntervalMs,
      progress: options.progress,
    };
    this.dataStore = new DataStoreApi(http, (minor, patch) => this.atLeast(minor, patch));
  }

  /** Reads /api/system/info once (retried: a server that is still starting refuses connections). */
  static async connect(options: ClientOptions): Promise<Dhis2Client> {
    const { base, notes } = normaliseServerUrl(options.url);
    const http = new Http({
      server: base,
      auth: options.auth,
      timeoutMs: positive('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs),
      retries: nonNegative('retries', options.retries, DEFAULTS.retries),
      retryDelayMs: nonNegative('retryDelayMs', options.retryDelayMs, DEFAULTS.retryDelayMs),
      log: options.log ?? (() => {}),
    });
    positive('maxUrlLength', options.maxUrlLength, DEFAULTS.maxUrlLength);
    for (const note of notes) http.log(note);

    const res = await http.request({ method: 'GET', path: 'system/info', retry: true, expect: [404] });
    if (res.status === 404) throw new Dhis2Error(`not a DHIS2 API: ${base}/api/system/info answered 404`, 404);
    const system = systemInfo(res.body, base);
    const who = options.auth?.kind === 'basic' ? `as ${options.auth.username}` : options.auth ? 'with a token' : '';
    http.log(
      `connected to DHIS2 ${system.version}${system.revision ? ` (${system.revision})` : ''} at ${base} ${who}`.trim(),
    );
    return new Dhis2Client(http, system, options);
  }

  /** True when the server is 2.<minor>.<patch> or newer. */
  atLeast(minor: number, patch = 0): boolean {
    return versionAtLeast(this.system, minor, patch);
  }

  /** GET a JSON resource; `path` is relative to /api (e.g. `programs/abc.json`). */
  async getJson<T>(path: string, params?: Record<string, string | number | boolean | undefined>): Promise<T> {
    const res = await this.http.request({ method: 'GET', path, query: params, retry: true });
    return res.body as T;
  }

  /** The program's dependency export (GET programs/{id}/metadata.json). */
  async getProgramMetadata(programId: string): Promise<MetadataDocument> {
    const path = `programs/${encodeURIComponent(programId)}/metadata.json`;
    const res = await this.http.request({ method: 'GET', path, retry: true, expect: [404] });
    if (res.status === 404) {
      throw new Dhis2Error(
        `program ${programId} does not exist on ${this.url} (GET /api/${path} answered 404), ` +
          'or the user cannot see it',
        404,
      );
    }
    if (!isRecord(res.body)) {
      throw new Dhis2Error(`${this.url} answered GET /api/${path} with something that is not a metadata document`);
    }
    return res.body;
  }

  /**
   * The objects of `collection` with these ids (filter=id:in:[...], paging=false), split over as many
   * requests as needed so that no URL exceeds maxUrlLength, returned in the order of `ids`. Ids the server
   * does not have (or the user cannot see) are simply absent.
   */
  async getObjects(collection: string, ids: string[], fields = ':owner'): Promise<MetadataObject[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const path = encodeURIComponent(collection);
    const query = (chunk: string[]): QueryParams => ({ fields, paging: false, filter: `id:in:[${chunk.join(',')}]` });
    const chunks = chunkByUrlLength(unique, (chunk) => this.http.url(path, query(chunk)), this.maxUrlLength);
    if (chunks.length > 1) this.http.log(`${unique.length} ${collection} ids: ${chunks.length} requests`);
    const byId = new Map<string, MetadataObject>();
    for (const chunk of chunks) {
      const res = await this.http.request({ method: 'GET', path, query: query(chunk), retry: true });
      for (const obj of collectionOf(res.body, collection, this.url)) {
        if (typeof obj.id === 'string') byId.set(obj.id, obj);
      }
    }
    return unique.flatMap((id) => {
      const obj = byId.get(id);
      return obj ? [obj] : [];
    });
  }

  /** Every object of a collection matching `params` (paging=false). */
  async getCollection(collection: string, params: Record<string, string>): Promise<MetadataObject[]> {
    const res = await this.http.request({
      method: 'GET',
      path: encodeURIComponent(collection),
      query: { ...params, paging: 'false' },
      retry: true,
    });
    return collectionOf(res.body, collection, this.url);
  }

  /** The requests that count these tracker records, relative to /api (for reports: no credentials in them). */
  trackerCountRequests(q: TrackerCountQuery): string[] {
    try {
      return this.trackerCountQueries(q).map((query) => `tracker/${q.kind}?${buildQuery(query)}`);
    } catch {
      return [];
    }
  }

  /**
   * How many tracker records match (tracker-count.ts): GETs with pageSize=1 read from their pager, summed (a long
   * list of codes is split so that no URL exceeds maxUrlLength; each record holds one value, so none is counted
   * twice). At most COUNT_CONCURRENCY of them run at once over the whole run: DHIS2 computes each total with a
   * count query over the values, not an index. Throws UncountableError when this version cannot ask it.
   */
  async countTracker(q: TrackerCountQuery): Promise<number> {
    const path = `tracker/${q.kind}`;
    const totals = await Promise.all(
      this.trackerCountQueries(q).map((query) =>
        this.counting(async () => {
          try {
            return totalOf((await this.http.request({ method: 'GET', path, query, retry: true })).body, path);
          } catch (e) {
            if (e instanceof Dhis2Error && !(e instanceof UncountableError)) {
              throw new Dhis2Error(countRefusal(e.message), e.status);
            }
            throw e;
          }
        }),
      ),
    );
    return totals.reduce((a, b) => a + b, 0);
  }

  private trackerCountQueries(q: TrackerCountQuery): QueryParams[] {
    const atLeast = (minor: number, patch?: number) => this.atLeast(minor, patch);
    if (q.codes === undefined || q.codes.length === 0) return trackerCountParams(q, atLeast);
    // Codes that differ only in case go in the same request: the server compares values without case.
    const groups = new Map<string, string[]>();
    for (const code of q.codes) groups.set(code.toLowerCase(), [...(groups.get(code.toLowerCase()) ?? []), code]);
    const SEP = '\u0000';
    const codesOf = (chunk: string[]) => chunk.flatMap((g) => g.split(SEP));
    const path = `tracker/${q.kind}`;
    const chunks = chunkByUrlLength(
      [...groups.values()].map((g) => g.join(SEP)),
      (chunk) => this.http.url(path, trackerCountParams({ ...q, codes: codesOf(chunk) }, atLeast)[0]),
      this.maxUrlLength,
    );
    return chunks.flatMap((chunk) => trackerCountParams({ ...q, codes: codesOf(chunk) }, atLeast));
  }

  /**
   * POST /api/metadata. A 409 is a report, not a failure: the returned report's status says how it went.
   * The parameters are checked at runtime before anything is sent (an unknown importMode would COMMIT).
   */
  importMetadata(payload: MetadataDocument, params: ImportParams): Promise<ImportReport> {
    return importMetadata(this.http, payload, params, this.importOptions);
  }
}

function systemInfo(body: unknown, base: string): SystemInfo {
  if (!isRecord(body) || typeof body.version !== 'string') {
    throw new Dhis2Error(`not a DHIS2 API: ${base}/api/system/info answered without a DHIS2 version`);
  }
  const parsed = parseVersion(body.version);
  if (!parsed) {
    throw new Dhis2Error(`${base} reports a DHIS2 version this tool does not understand: "${body.version}"`);
  }
  const info: SystemInfo = { version: body.version, major: parsed.major, minor: parsed.minor, patch: parsed.patch };
  if (typeof body.revision === 'string') info.revision = body.revision;
  if (typeof body.serverDate === 'string') info.serverDate = body.serverDate;
  return info;
}

function collectionOf(body: unknown, collection: string, server: string): MetadataObject[] {
  const list = isRecord(body) ? body[collection] : undefined;
  if (!Array.isArray(list)) {
    throw new Dhis2Error(`${server} answered GET /api/${collection} without a "${collection}" list`);
  }
  return list.filter(isRecord) as MetadataObject[];
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, not ${value}`);
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) && name === 'retries')
    throw new ConfigError(`retries must be a whole number, not ${value}`);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be zero or more, not ${value}`);
  return value;
}
