/**
 * POST /api/metadata: the parameter guard, the retry policy, and async job polling.
 */
import { ConfigError } from '../errors.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import type { Http, HttpRequest } from './http.ts';
import { parseImportReport, type ImportReport } from './import-report.ts';
import { asyncJob, waitForJob, type JobWait } from './import-job.ts';
import { isRecord } from './json.ts';
import type { QueryParams } from './query.ts';

export interface ImportParams {
  importMode: 'COMMIT' | 'VALIDATE';
  importStrategy?: 'CREATE_AND_UPDATE' | 'CREATE' | 'UPDATE' | 'DELETE';
  atomicMode?: 'ALL' | 'NONE';
  identifier?: 'UID';
  importReportMode?: 'FULL' | 'ERRORS';
  skipSharing?: boolean;
  /** Run as a server job: poll system/tasks/METADATA_IMPORT/{id} until completed, then read its summary. */
  async?: boolean;
}

/**
 * DHIS2 parses these enums case-sensitively and falls back to the default on an unknown value, so
 * `importMode=validate` COMMITS (dhis2-api.md). A typed string is not enough: a value that got here through
 * a cast or from JSON must be checked before anything is sent.
 */
const ENUMS = {
  importMode: ['COMMIT', 'VALIDATE'],
  importStrategy: ['CREATE_AND_UPDATE', 'CREATE', 'UPDATE', 'DELETE'],
  atomicMode: ['ALL', 'NONE'],
  identifier: ['UID'],
  importReportMode: ['FULL', 'ERRORS'],
} as const satisfies Partial<Record<keyof ImportParams, readonly string[]>>;

const BOOLEANS = ['skipSharing', 'async'] as const satisfies readonly (keyof ImportParams)[];

/** Checks every parameter at runtime and returns the exact query to send. */
export function importQuery(params: ImportParams): QueryParams {
  if (!isRecord(params)) throw new ConfigError('metadata import parameters are missing');
  const raw = params as unknown as Record<string, unknown>;
  const known = new Set<string>([...Object.keys(ENUMS), ...BOOLEANS]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError(`unknown metadata import parameter "${key}"`);
  }
  if (raw.importMode === undefined) {
    throw new ConfigError('importMode is required for a metadata import: VALIDATE or COMMIT');
  }
  const query: QueryParams = {};
  for (const [key, allowed] of Object.entries(ENUMS) as [string, readonly string[]][]) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      const why = key === 'importMode' ? ' (DHIS2 would silently COMMIT an unknown value)' : '';
      throw new ConfigError(`invalid ${key} ${JSON.stringify(value)}: must be exactly ${allowed.join(' or ')}${why}`);
    }
    query[key] = value;
  }
  for (const key of BOOLEANS) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean')
      throw new ConfigError(`invalid ${key} ${JSON.stringify(value)}: must be true or false`);
    query[key] = value;
  }
  return query;
}

/**
 * When may the POST be sent again after a failure?
 * - VALIDATE changes nothing: after any transient failure.
 * - COMMIT with CREATE_AND_UPDATE (the server default): only when the server certainly did not act on it
 *   (connection refused, 429, 503). Re-sending the same UID-keyed atomic payload would converge to the same
 *   state, but a reset, a 502 or a 504 after sending may come while DHIS2 is still importing (or, for an
 *   async import, right after it started the job): a second import running alongside the first fights it
 *   for the same rows and may report a false ERROR.
 * - COMMIT with CREATE would report a landed first attempt's objects as "already exists", and a landed
 *   DELETE makes the retry fail on missing objects: never.
 */
export function importRetryPolicy(params: ImportParams): Pick<HttpRequest, 'retry' | 'unsentOnly' | 'noRetryReason'> {
  if (params.importMode === 'VALIDATE') return { retry: true };
  if ((params.importStrategy ?? 'CREATE_AND_UPDATE') === 'CREATE_AND_UPDATE') {
    return {
      retry: true,
      unsentOnly: true,
      noRetryReason:
        "the import may have reached the server and may still be running: check the program (or the server's jobs) before running again",
    };
  }
  return { retry: false };
}

export type ImportOptions = JobWait;

export async function importMetadata(
  http: Http,
  payload: MetadataDocument,
  params: ImportParams,
  options: ImportOptions,
): Promise<ImportReport> {
  const query = importQuery(params);
  if (!isRecord(payload)) throw new ConfigError('the metadata to import is not a JSON object');
  const res = await http.request({
    method: 'POST',
    path: 'metadata',
    query,
    body: payload,
    expect: [409],
    ...importRetryPolicy(params),
  });
  const job = params.async ? asyncJob(res.body) : undefined;
  if (!job) return parseImportReport(res.body, res.status);
  http.log(`metadata import running as job ${job.id}; polling ${job.tasksPath}`);
  return waitForJob(http, job, options);
}
