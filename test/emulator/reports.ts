/**
 * Import report shapes, as DHIS2 serializes them per version (dhis2-api.md "Wrapping", and the real reports
 * in test/fixtures/dhis2/importreport_*.json), and the ErrorCode texts the emulator produces
 * (dhis2-core dhis-api/src/main/java/org/hisp/dhis/feedback/ErrorCode.java).
 */
import { simpleName } from './schema.ts';
import type { Reply } from './state.ts';
import {
  atLeast,
  errorMessagesEndWithPeriod,
  importConflictMessage,
  importReportResponseType,
  reportsImportParams,
  wrapsImportReport,
  type Version,
} from './version.ts';

export const ERROR_TEXTS = {
  E4000: 'Missing required property `{0}`',
  E4014: 'Invalid UID `{0}` for property `{1}`',
  E4030: 'Object could not be deleted because it is associated with another object: {0}',
  E4051: 'A program rule variable with name `{0}` and program uid `{1}` already exists',
  E4052: 'For program rule variable with name `{0}` following keywords are forbidden : and , or , not',
  E4053: 'Program stage `{0}` must reference a program',
  // Not in the ErrorCode.java we could read; the text is asserted by ProgramRuleControllerTest in dhis2-core
  // PR #12211, which introduced it ("The Program Rule name test already exist in Program ProgramA").
  E4057: 'The Program Rule name {0} already exist in Program {1}',
  E5000: 'Found matching object for reference, but import mode is CREATE. Identifier was {0}, and object was {1}',
  E5001: 'No matching object for reference. Identifier was {0}, and object was {1}',
  E5002: 'Invalid reference {0} on object {1} for association `{2}`',
  E5003: 'Property `{0}` with value `{1}` on object {2} already exists on object {3}',
  E5004: 'Id `{0}` for type `{1}` exists on more than 1 object in the payload, removing all but the first found',
} as const;
export type ErrorCode = keyof typeof ERROR_TEXTS;

/**
 * The codes whose text ended with a period while texts had them (errorMessagesEndWithPeriod): the 2021/2022
 * ErrorCode.java has "Missing required property `{0}`." but "Invalid UID `{0}` for property `{1}`" and the
 * E4030/E4051/E4052/E4057 texts without one.
 */
const ENDED_WITH_PERIOD: ReadonlySet<ErrorCode> = new Set([
  'E4000',
  'E4053',
  'E5000',
  'E5001',
  'E5002',
  'E5003',
  'E5004',
]);

export interface ErrorReport {
  message: string;
  args?: string[];
  mainKlass: string;
  mainId?: string;
  errorCode: ErrorCode;
  errorKlass?: string;
  errorProperty?: string;
  errorProperties: string[];
}

export function formatMessage(code: ErrorCode, args: readonly string[], v: Version): string {
  const text = ERROR_TEXTS[code].replace(/\{(\d)\}/g, (_m, i: string) => args[Number(i)] ?? '');
  return errorMessagesEndWithPeriod(v) && ENDED_WITH_PERIOD.has(code) ? `${text}.` : text;
}

/** DHIS2's IdentifiableObjectUtils/PreheatIdentifier "identifiers with name": `Name [uid] (Klass)`. */
export function identifiersWithName(id: string, klass: string, name?: unknown): string {
  const prefix = typeof name === 'string' && name !== '' ? `${name} ` : '';
  return `${prefix}[${id}] (${simpleName(klass)})`;
}

export function errorReport(
  v: Version,
  code: ErrorCode,
  args: string[],
  fields: { mainKlass: string; mainId?: string; errorKlass?: string; errorProperty?: string },
): ErrorReport {
  // args and mainId joined the serialized ErrorReport with the 2.38 web API rework.
  const modern = atLeast(v, 38);
  return {
    message: formatMessage(code, args, v),
    ...(modern ? { args } : {}),
    mainKlass: fields.mainKlass,
    ...(modern && fields.mainId ? { mainId: fields.mainId } : {}),
    errorCode: code,
    ...(fields.errorKlass ? { errorKlass: fields.errorKlass } : {}),
    ...(fields.errorProperty ? { errorProperty: fields.errorProperty } : {}),
    errorProperties: args,
  };
}

export interface Stats {
  created: number;
  updated: number;
  deleted: number;
  ignored: number;
  total: number;
}

export function emptyStats(): Stats {
  return { created: 0, updated: 0, deleted: 0, ignored: 0, total: 0 };
}

export interface ObjectReport {
  klass: string;
  index: number;
  uid: string;
  displayName?: string;
  errorReports: ErrorReport[];
}

export interface TypeReport {
  klass: string;
  stats: Stats;
  objectReports: ObjectReport[];
}

export type ImportStatus = 'OK' | 'WARNING' | 'ERROR';

/** What an import produced, before it is shaped for a version. */
export interface ImportOutcome {
  status: ImportStatus;
  stats: Stats;
  typeReports: TypeReport[];
  importParams: Record<string, unknown>;
}

/** The ImportReport object itself (what taskSummaries answers and what `response` wraps). */
export function importReportBody(v: Version, o: ImportOutcome): Record<string, unknown> {
  if (reportsImportParams(v)) {
    // The dhis2-docs example of a pre-2.38 report: importParams, status, typeReports, stats.
    return {
      importParams: o.importParams,
      status: o.status,
      typeReports: o.typeReports.map((t) => ({
        klass: t.klass,
        stats: t.stats,
        ...(t.objectReports.length ? { objectReports: t.objectReports } : {}),
      })),
      stats: o.stats,
    };
  }
  return { status: o.status, stats: o.stats, typeReports: o.typeReports, responseType: importReportResponseType(v) };
}

/** The HTTP answer to POST /api/metadata: a bare report (200) or a WebMessage (200/409), by version and path. */
export function importReply(v: Version, apiVersionInPath: number | undefined, o: ImportOutcome): Reply {
  const report = importReportBody(v, o);
  // Bare on <= 2.37 and on /api/37/ up to 2.41; from 2.38 it keeps its responseType (dhis2-core
  // UserControllerTest.testPutJsonObject_Pre38 expects "ImportReport" on PUT /37/users).
  if (!wrapsImportReport(v, apiVersionInPath)) return { status: 200, body: report };
  if (o.status === 'OK') {
    return { status: 200, body: { httpStatus: 'OK', httpStatusCode: 200, status: 'OK', response: report } };
  }
  return {
    status: 409,
    body: {
      httpStatus: 'Conflict',
      httpStatusCode: 409,
      status: 'WARNING',
      message: importConflictMessage(v),
      response: report,
    },
  };
}
