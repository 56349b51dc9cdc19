import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseImportReport, type ImportReport } from '../../src/dhis2/import-report.ts';
import { Dhis2Error } from '../../src/errors.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/dhis2/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const plainSuccess = fixture('importreport_docs_plain_success_pre238.json');
const wrappedSuccess = fixture('importreport_webmessage_200_success.json');
const wrappedConflict = fixture('importreport_webmessage_409_E4000_E5002_E3012.json');

/** The report inside an envelope, as 2.37 and older answer it (bare, HTTP 200 even with errors). */
const bareErrorReport = wrappedConflict.response as Record<string, unknown>;

function thrown(fn: () => unknown): Dhis2Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Dhis2Error);
    return e as Dhis2Error;
  }
  throw new Error('expected a Dhis2Error');
}

describe('parseImportReport on the real fixtures', () => {
  it('reads the bare pre-2.38 success report (docs example)', () => {
    const r = parseImportReport(plainSuccess, 200);
    expect(r.status).toBe('OK');
    expect(r.stats).toEqual({ created: 3, updated: 0, deleted: 0, ignored: 0, total: 3 });
    expect(r.httpStatus).toBe(200);
    expect(r.message).toBeUndefined();
    expect(r.typeReports.map((t) => [t.objectType, t.stats.created])).toEqual([
      ['DataElement', 2],
      ['Indicator', 1],
    ]);
    expect(r.typeReports[0]!.klass).toBe('org.hisp.dhis.dataelement.DataElement');
    // The docs example has no objectReports at all: objects is an empty list, not undefined.
    expect(r.typeReports.every((t) => Array.isArray(t.objects) && t.objects.length === 0)).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it('reads the wrapped 200 success (responseType ImportReportWebMessageResponse)', () => {
    const r = parseImportReport(wrappedSuccess, 200);
    expect(r.status).toBe('OK');
    expect(r.stats.created).toBe(49);
    expect(r.stats.total).toBe(49);
    expect(r.typeReports).toHaveLength(10);
    const sum = r.typeReports.reduce((n, t) => n + t.stats.created, 0);
    expect(sum).toBe(r.stats.created);
    expect(r.typeReports.find((t) => t.objectType === 'Program')?.stats.created).toBe(1);
    expect(r.errors).toEqual([]);
  });

  it('reads the wrapped 409: report status wins over the envelope WARNING, errors flattened', () => {
    const r = parseImportReport(wrappedConflict, 409);
    expect(r.status).toBe('ERROR');
    expect(r.httpStatus).toBe(409);
    expect(r.message).toBe('One or more errors occurred, please see full details in import report.');
    expect(r.stats).toEqual({ created: 0, updated: 0, deleted: 0, ignored: 49, total: 49 });
    expect(r.errors.map((e) => e.code)).toEqual(['E4000', 'E3012', 'E5002', 'E4000']);

    const [shortName, permission, reference, valueType] = r.errors;
    expect(shortName).toEqual({
      code: 'E4000',
      message: 'Missing required property `shortName`',
      objectType: 'TrackedEntityType',
      klass: 'org.hisp.dhis.trackedentity.TrackedEntityType',
      uid: 'ER5qgJDCfUh',
      displayName: 'FCA:Facility',
      index: 0,
      property: 'shortName',
      args: ['shortName'],
    });
    // E3012 is reported on the program stage; its mainKlass (DataElement) does not rename the object.
    expect(permission!.objectType).toBe('ProgramStage');
    expect(permission!.uid).toBe('VdBma23iRTw');
    expect(permission!.property).toBeUndefined();
    expect(reference).toMatchObject({
      objectType: 'ProgramStage',
      uid: 'VdBma23iRTw',
      mainId: 'xH7ytgsoJ3d',
      property: 'dataElement',
      args: ['[jmUQ1B95ZP9] (DataElement)', '[xH7ytgsoJ3d] (ProgramStageDataElement)', 'dataElement'],
    });
    expect(valueType).toMatchObject({ objectType: 'DataElement', uid: 'Wno4M1rmwHr', property: 'valueType' });

    const stage = r.typeReports.find((t) => t.objectType === 'ProgramStage')!;
    expect(stage.objects).toHaveLength(1);
    expect(stage.objects[0]).toMatchObject({ uid: 'VdBma23iRTw', index: 0, displayName: 'Profile logs' });
    expect(stage.objects[0]!.errors).toHaveLength(2);
  });
});

describe('parseImportReport on derived version variants', () => {
  it('2.37 and older: the bare report with status ERROR on HTTP 200', () => {
    const r = parseImportReport(bareErrorReport, 200);
    expect(r.status).toBe('ERROR');
    expect(r.httpStatus).toBe(200);
    expect(r.message).toBeUndefined();
    expect(r.errors).toHaveLength(4);
    expect(r.stats.ignored).toBe(49);
  });

  it('2.39: wrapped 409 with responseType ImportReport parses the same as the 2.42 spelling', () => {
    const v239 = structuredClone(wrappedConflict) as { response: Record<string, unknown> };
    v239.response.responseType = 'ImportReport';
    const a = parseImportReport(v239, 409);
    const b = parseImportReport(wrappedConflict, 409);
    expect(a).toEqual(b);
  });

  it('2.42 success with responseType ImportReport, and 2.37 typo message kept verbatim', () => {
    const v242 = structuredClone(wrappedSuccess) as { response: Record<string, unknown> };
    v242.response.responseType = 'ImportReport';
    expect(parseImportReport(v242, 200).stats.created).toBe(49);

    const typo = structuredClone(wrappedConflict) as Record<string, unknown>;
    typo.message = 'One more more errors occurred, please see full details in import report.';
    expect(parseImportReport(typo, 409).message).toBe(typo.message);
  });

  it('WARNING (atomicMode NONE, partial import) is kept as WARNING', () => {
    const partial = structuredClone(bareErrorReport);
    partial.status = 'WARNING';
    partial.stats = { created: 40, updated: 0, deleted: 0, ignored: 9, total: 49 };
    const r = parseImportReport(partial, 200);
    expect(r.status).toBe('WARNING');
    expect(r.stats.created).toBe(40);
  });

  it('an async job summary (the bare report) and the raw JSON text of a report', () => {
    const text = JSON.stringify(wrappedConflict);
    expect(parseImportReport(text, 409)).toEqual(parseImportReport(wrappedConflict, 409));
  });

  it('typeReports serialised as a map keyed by class are read too', () => {
    const asMap = structuredClone(bareErrorReport);
    const list = asMap.typeReports as { klass: string }[];
    asMap.typeReports = Object.fromEntries(list.map((t) => [t.klass, t]));
    const r = parseImportReport(asMap, 200);
    expect(r.errors.map((e) => e.code)).toEqual(['E4000', 'E3012', 'E5002', 'E4000']);
  });

  it('missing stats fields default to 0 and a missing total is the sum', () => {
    const r = parseImportReport({ status: 'OK', stats: { created: 2, updated: 1 }, typeReports: [] }, 200);
    expect(r.stats).toEqual({ created: 2, updated: 1, deleted: 0, ignored: 0, total: 3 });
  });

  it('without a status, the errors decide', () => {
    const noStatus = structuredClone(bareErrorReport);
    delete noStatus.status;
    expect(parseImportReport(noStatus, 200).status).toBe('ERROR');
    const clean: ImportReport = parseImportReport({ stats: { created: 1, total: 1 }, typeReports: [] }, 200);
    expect(clean.status).toBe('OK');
  });
});

describe('parseImportReport on garbage', () => {
  it('an HTML page', () => {
    const e = thrown(() => parseImportReport('<!DOCTYPE html><html><body>Login</body></html>', 200));
    expect(e.message).toContain('HTML page');
    expect(e.message).not.toMatch(/JSON\.parse|Unexpected token/);
    expect(e.status).toBe(200);
  });

  it('null, undefined and an empty string', () => {
    expect(thrown(() => parseImportReport(null, 200)).message).toContain('empty body');
    expect(thrown(() => parseImportReport(undefined, 409)).message).toContain('HTTP 409');
    expect(thrown(() => parseImportReport('  ', 200)).message).toContain('empty body');
  });

  it('a WebMessage without response names the message', () => {
    const e = thrown(() =>
      parseImportReport(
        { httpStatus: 'Conflict', httpStatusCode: 409, status: 'ERROR', message: 'Invalid JSON payload' },
        409,
      ),
    );
    expect(e.message).toContain('without an import report');
    expect(e.message).toContain('Invalid JSON payload');
    expect(e.status).toBe(409);
  });

  it('a WebMessage carrying an async job or error reports instead of a report', () => {
    const job = {
      httpStatusCode: 200,
      status: 'OK',
      response: { responseType: 'JobConfigurationWebMessageResponse', id: 'x' },
    };
    expect(thrown(() => parseImportReport(job, 200)).message).toContain('async job');
    const errors = {
      httpStatusCode: 409,
      status: 'ERROR',
      message: 'Conflict',
      response: { responseType: 'ErrorReports', errorReports: [{ message: 'Object is referenced' }] },
    };
    const e = thrown(() => parseImportReport(errors, 409));
    expect(e.message).toContain('ErrorReports');
    expect(e.message).toContain('Object is referenced');
  });

  it('non-JSON text, arrays, numbers, unrelated objects and unknown statuses', () => {
    expect(thrown(() => parseImportReport('Service temporarily down', 200)).message).toContain('not JSON');
    expect(thrown(() => parseImportReport([1, 2], 200)).message).toContain('array');
    expect(thrown(() => parseImportReport(42, 200)).message).toContain('number');
    expect(thrown(() => parseImportReport({ programs: [] }, 200)).message).toContain('not an import report');
    expect(thrown(() => parseImportReport({ status: 'SUCCESS', stats: {} }, 200)).message).toContain('SUCCESS');
  });
});
