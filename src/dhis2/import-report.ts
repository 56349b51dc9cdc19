/**
 * One normalised import report, whatever the DHIS2 version answered (dhis2-api.md, "Wrapping"):
 * - up to 2.37: the bare ImportReport `{status, stats, typeReports}`, HTTP 200 even on errors;
 * - 2.38+: a WebMessage `{httpStatus, httpStatusCode, status, message, response: {responseType, ...report}}`,
 *   HTTP 409 when the report is not OK (the envelope then says WARNING: the report's own status is the truth);
 * - `responseType` is "ImportReport" or, in 2.42.0-4 and 2.43.0, "ImportReportWebMessageResponse";
 * - an async import's result (GET /api/system/taskSummaries/METADATA_IMPORT/{id}) is the bare report.
 */
import { Dhis2Error } from '../errors.ts';
import { redact } from '../util/secrets.ts';
import { isRecord, shortClassName } from './json.ts';

export type ImportStatus = 'OK' | 'WARNING' | 'ERROR';

export interface ImportStats {
  created: number;
  updated: number;
  deleted: number;
  ignored: number;
  total: number;
}

export interface ImportError {
  /** DHIS2 error code, e.g. E5002. */
  code: string;
  message: string;
  /** Short class name of the object that failed, e.g. DataElement. */
  objectType: string;
  /** Its full class name, e.g. org.hisp.dhis.dataelement.DataElement. */
  klass?: string;
  uid?: string;
  displayName?: string;
  /** Position of the object in its collection of the payload. */
  index?: number;
  property?: string;
  /** The object the error is about, when it is not the reported object (e.g. an embedded PSDE). */
  mainId?: string;
  args?: string[];
}

export interface TypeReport {
  klass: string;
  objectType: string;
  stats: ImportStats;
  objects: { uid?: string; index?: number; displayName?: string; errors: ImportError[] }[];
}

export interface ImportReport {
  status: ImportStatus;
  stats: ImportStats;
  typeReports: TypeReport[];
  /** Every error of every object, in report order. */
  errors: ImportError[];
  /** The HTTP status the report came with (200, or 409 on 2.38+ when it is not OK). */
  httpStatus: number;
  /** The envelope's message on 2.38+, e.g. "One or more errors occurred, ...". */
  message?: string;
}

const STATUSES: readonly string[] = ['OK', 'WARNING', 'ERROR'];
const REPORT_RESPONSE_TYPES: readonly string[] = ['ImportReport', 'ImportReportWebMessageResponse'];

export function emptyStats(): ImportStats {
  return { created: 0, updated: 0, deleted: 0, ignored: 0, total: 0 };
}

/** The report of an import that was not sent because there was nothing to import (HTTP status 0: no request). */
export function nothingImported(): ImportReport {
  return { status: 'OK', stats: emptyStats(), typeReports: [], errors: [], httpStatus: 0 };
}

/** Parses any shape DHIS2 answers a metadata import with; throws Dhis2Error when the body is not a report. */
export function parseImportReport(body: unknown, httpStatus: number): ImportReport {
  const answered = `DHIS2 answered the metadata import with HTTP ${httpStatus}`;
  if (typeof body === 'string') body = parseText(body, answered, httpStatus);
  if (body === null || body === undefined) {
    throw new Dhis2Error(`${answered} and an empty body instead of an import report`, httpStatus);
  }
  if (!isRecord(body)) {
    throw new Dhis2Error(`${answered} and a JSON ${jsonType(body)} instead of an import report`, httpStatus);
  }

  let report: Record<string, unknown> = body;
  let message: string | undefined;
  if (isWebMessage(body)) {
    message = typeof body.message === 'string' && body.message ? body.message : undefined;
    const response = body.response;
    const said = message ? `: "${clip(message)}"` : '';
    if (!isRecord(response)) {
      throw new Dhis2Error(`${answered} without an import report${said}`, httpStatus);
    }
    const responseType = typeof response.responseType === 'string' ? response.responseType : undefined;
    if (responseType === 'JobConfiguration' || responseType === 'JobConfigurationWebMessageResponse') {
      throw new Dhis2Error(
        `${answered} and an async job, not an import report (poll the job for its report)`,
        httpStatus,
      );
    }
    if (responseType !== undefined && !REPORT_RESPONSE_TYPES.includes(responseType) && !looksLikeReport(response)) {
      const details = errorReportMessages(response);
      throw new Dhis2Error(
        `${answered} and a ${responseType} instead of an import report${said}${details ? ` (${details})` : ''}`,
        httpStatus,
      );
    }
    report = response;
    if (!looksLikeReport(report)) throw new Dhis2Error(`${answered} without an import report${said}`, httpStatus);
  } else if (!looksLikeReport(report)) {
    throw new Dhis2Error(`${answered} and JSON that is not an import report`, httpStatus);
  }

  const typeReports = listOf(report.typeReports).map(parseTypeReport);
  const errors = typeReports.flatMap((t) => t.objects.flatMap((o) => o.errors));
  const stats = isRecord(report.stats) ? parseStats(report.stats) : sumStats(typeReports.map((t) => t.stats));
  const status = parseStatus(report.status, errors, stats, answered, httpStatus);
  const out: ImportReport = { status, stats, typeReports, errors, httpStatus };
  if (message !== undefined) out.message = message;
  return out;
}

/** A WebMessage envelope carries httpStatusCode/httpStatus; a bare report carries stats/typeReports at the top. */
function isWebMessage(body: Record<string, unknown>): boolean {
  return ('httpStatusCode' in body || 'httpStatus' in body || 'response' in body) && !looksLikeReport(body);
}

function looksLikeReport(o: Record<string, unknown>): boolean {
  return isRecord(o.stats) || Array.isArray(o.typeReports) || isRecord(o.typeReports);
}

function parseText(text: string, answered: string, httpStatus: number): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('<')) {
    throw new Dhis2Error(`${answered} and an HTML page instead of an import report`, httpStatus);
  }
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    throw new Dhis2Error(`${answered} and text that is not JSON instead of an import report`, httpStatus);
  }
}

function parseStatus(
  value: unknown,
  errors: ImportError[],
  stats: ImportStats,
  answered: string,
  httpStatus: number,
): ImportStatus {
  if (typeof value === 'string') {
    if (STATUSES.includes(value)) return value as ImportStatus;
    throw new Dhis2Error(`${answered} and an unknown import status "${clip(value)}"`, httpStatus);
  }
  // No status at all (never seen, but the stats and errors still say what happened).
  if (errors.length === 0) return 'OK';
  return stats.created + stats.updated + stats.deleted > 0 ? 'WARNING' : 'ERROR';
}

function parseTypeReport(value: unknown): TypeReport {
  const t = isRecord(value) ? value : {};
  const klass = typeof t.klass === 'string' ? t.klass : '';
  const objectType = shortClassName(klass);
  const objects = listOf(t.objectReports).map((o) => parseObjectReport(o, klass));
  const stats = isRecord(t.stats) ? parseStats(t.stats) : emptyStats();
  return { klass, objectType, stats, objects };
}

function parseObjectReport(value: unknown, typeKlass: string): TypeReport['objects'][number] {
  const o = isRecord(value) ? value : {};
  const klass = typeof o.klass === 'string' && o.klass ? o.klass : typeKlass;
  const uid = str(o.uid);
  const displayName = str(o.displayName);
  const index = typeof o.index === 'number' ? o.index : undefined;
  const errors = listOf(o.errorReports).map((e) => parseError(e, klass, uid, displayName, index));
  const out: TypeReport['objects'][number] = { errors };
  if (uid !== undefined) out.uid = uid;
  if (index !== undefined) out.index = index;
  if (displayName !== undefined) out.displayName = displayName;
  return out;
}

function parseError(
  value: unknown,
  klass: string,
  uid: string | undefined,
  displayName: string | undefined,
  index: number | undefined,
): ImportError {
  const e = isRecord(value) ? value : {};
  // The reported object's class names the error's object; mainKlass only when the object has none.
  const fullKlass = klass || str(e.mainKlass) || '';
  const out: ImportError = {
    code: str(e.errorCode) ?? '',
    message: str(e.message) ?? '',
    objectType: shortClassName(fullKlass),
  };
  if (fullKlass) out.klass = fullKlass;
  if (uid !== undefined) out.uid = uid;
  if (displayName !== undefined) out.displayName = displayName;
  if (index !== undefined) out.index = index;
  const property = str(e.errorProperty);
  if (property !== undefined) out.property = property;
  const mainId = str(e.mainId);
  if (mainId !== undefined) out.mainId = mainId;
  if (Array.isArray(e.args)) out.args = e.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
  return out;
}

function parseStats(s: Record<string, unknown>): ImportStats {
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const stats = {
    created: n(s.created),
    updated: n(s.updated),
    deleted: n(s.deleted),
    ignored: n(s.ignored),
    total: 0,
  };
  stats.total = typeof s.total === 'number' ? s.total : stats.created + stats.updated + stats.deleted + stats.ignored;
  return stats;
}

export function sumStats(all: ImportStats[]): ImportStats {
  const out = emptyStats();
  for (const s of all) {
    out.created += s.created;
    out.updated += s.updated;
    out.deleted += s.deleted;
    out.ignored += s.ignored;
    out.total += s.total;
  }
  return out;
}

/** Lists come as arrays; some versions serialise keyed maps (by class or error code): take their values. */
function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return [];
}

function errorReportMessages(response: Record<string, unknown>): string {
  return listOf(response.errorReports)
    .map((e) => (isRecord(e) ? str(e.message) : undefined))
    .filter((m): m is string => !!m)
    .slice(0, 3)
    .map(clip)
    .join('; ');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function jsonType(v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v;
}

function clip(s: string): string {
  const t = redact(s);
  return t.length > 300 ? `${t.slice(0, 300)}...` : t;
}
