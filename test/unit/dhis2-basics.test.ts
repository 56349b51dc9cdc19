import { afterEach, describe, expect, it } from 'vitest';
import { describeNetworkError, describeStatus, dhis2Says, type RequestContext } from '../../src/dhis2/errors.ts';
import { authorizationHeader } from '../../src/dhis2/http.ts';
import { importQuery, importRetryPolicy, type ImportParams } from '../../src/dhis2/metadata-import.ts';
import { normaliseServerUrl } from '../../src/dhis2/server-url.ts';
import { parseVersion, versionAtLeast } from '../../src/dhis2/version.ts';
import { ConfigError } from '../../src/errors.ts';
import { clearSecrets, redact, registeredSecrets } from '../../src/util/secrets.ts';

afterEach(() => clearSecrets());

describe('parseVersion', () => {
  it.each([
    ['2.41.3', 2, 41, 3, 0, undefined],
    ['2.40.4.1', 2, 40, 4, 1, undefined],
    ['2.39-SNAPSHOT', 2, 39, 0, 0, 'SNAPSHOT'],
    ['2.43.0-rc1', 2, 43, 0, 0, 'rc1'],
    ['2.38', 2, 38, 0, 0, undefined],
    [' 2.36.13.2 ', 2, 36, 13, 2, undefined],
    ['42.1.0', 2, 42, 1, 0, undefined],
  ])('%s', (text, major, minor, patch, hotfix, qualifier) => {
    const v = parseVersion(text);
    expect(v).toEqual({ major, minor, patch, hotfix, ...(qualifier ? { qualifier } : {}) });
  });

  it.each(['', 'latest', '2', 'two.forty', '2.x.1'])('rejects %j', (text) => {
    expect(parseVersion(text)).toBeUndefined();
  });

  it('atLeast compares minor then patch; pre-releases count as their release', () => {
    const v = parseVersion('2.40.4.1')!;
    expect(versionAtLeast(v, 40)).toBe(true);
    expect(versionAtLeast(v, 40, 4)).toBe(true);
    expect(versionAtLeast(v, 40, 5)).toBe(false);
    expect(versionAtLeast(v, 39, 99)).toBe(true);
    expect(versionAtLeast(v, 41)).toBe(false);
    expect(versionAtLeast(parseVersion('2.43.0-rc1')!, 43)).toBe(true);
    expect(versionAtLeast(parseVersion('2.39-SNAPSHOT')!, 39)).toBe(true);
    expect(versionAtLeast(parseVersion('2.39-SNAPSHOT')!, 39, 1)).toBe(false);
    expect(versionAtLeast({ major: 3, minor: 0, patch: 0 }, 99)).toBe(true);
  });
});

describe('normaliseServerUrl', () => {
  it.each([
    ['https://play.dhis2.org', 'https://play.dhis2.org', 0],
    ['https://play.dhis2.org/', 'https://play.dhis2.org', 0],
    ['https://host/dhis', 'https://host/dhis', 0],
    ['https://host/dhis//', 'https://host/dhis', 0],
    ['https://host/dhis/api', 'https://host/dhis', 1],
    ['https://host/api/', 'https://host', 1],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080', 0],
    ['  https://HOST:443/x ', 'https://host/x', 0],
  ])('%j -> %j', (input, base, notes) => {
    const out = normaliseServerUrl(input);
    expect(out.base).toBe(base);
    expect(out.notes).toHaveLength(notes);
    if (notes) expect(out.notes[0]).toContain('/api');
  });

  it('rejects what is not a usable base URL with a ConfigError', () => {
    expect(() => normaliseServerUrl('')).toThrow(ConfigError);
    expect(() => normaliseServerUrl('play.dhis2.org')).toThrow(/not a valid URL/);
    expect(() => normaliseServerUrl('ftp://host')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => normaliseServerUrl('https://host/dhis?x=1')).toThrow(/query string/);
  });

  it('rejects credentials in the URL without echoing them, and registers the password', () => {
    let message = '';
    try {
      normaliseServerUrl('https://admin:S3cret-pw@host/dhis');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('must not contain credentials');
    expect(message).not.toContain('S3cret-pw');
    expect(registeredSecrets()).toContain('S3cret-pw');
  });
});

describe('authorizationHeader', () => {
  it('Basic: registers the password and the encoded value', () => {
    const header = authorizationHeader({ kind: 'basic', username: 'admin', password: 'district' });
    const encoded = Buffer.from('admin:district').toString('base64');
    expect(header).toBe(`Basic ${encoded}`);
    expect(redact(`sent ${header}`)).toBe('sent Basic ***');
    expect(redact('pw district')).toBe('pw ***');
  });

  it('token: ApiToken scheme, token registered', () => {
    const header = authorizationHeader({ kind: 'token', token: 'd2p_abcdef123456' });
    expect(header).toBe('ApiToken d2p_abcdef123456');
    expect(redact(header!)).toBe('ApiToken ***');
  });

  it('no auth: no header', () => {
    expect(authorizationHeader(undefined)).toBeUndefined();
  });
});

describe('importQuery: the import-mode guard', () => {
  it('sends exactly the enum spellings given', () => {
    expect(
      importQuery({
        importMode: 'VALIDATE',
        importStrategy: 'CREATE_AND_UPDATE',
        atomicMode: 'ALL',
        identifier: 'UID',
        importReportMode: 'FULL',
        skipSharing: true,
        async: false,
      }),
    ).toEqual({
      importMode: 'VALIDATE',
      importStrategy: 'CREATE_AND_UPDATE',
      atomicMode: 'ALL',
      identifier: 'UID',
      importReportMode: 'FULL',
      skipSharing: true,
      async: false,
    });
    expect(importQuery({ importMode: 'COMMIT' })).toEqual({ importMode: 'COMMIT' });
  });

  it.each([
    [{ importMode: 'validate' }, /importMode "validate".*silently COMMIT/],
    [{ importMode: 'Validate' }, /importMode/],
    [{ importMode: ' VALIDATE' }, /importMode/],
    [{ importMode: undefined }, /importMode is required/],
    [{ importMode: 1 }, /importMode/],
    [{ importMode: 'COMMIT', importStrategy: 'create_and_update' }, /importStrategy/],
    [{ importMode: 'COMMIT', atomicMode: 'all' }, /atomicMode/],
    [{ importMode: 'COMMIT', identifier: 'AUTO' }, /identifier/],
    [{ importMode: 'COMMIT', importReportMode: 'DEBUG' }, /importReportMode/],
    [{ importMode: 'COMMIT', skipSharing: 'true' }, /skipSharing/],
    [{ importMode: 'COMMIT', mergeMode: 'REPLACE' }, /unknown metadata import parameter "mergeMode"/],
  ])('refuses %j', (params, message) => {
    expect(() => importQuery(params as unknown as ImportParams)).toThrow(ConfigError);
    expect(() => importQuery(params as unknown as ImportParams)).toThrow(message);
  });

  it('retry policy: only where repeating converges', () => {
    expect(importRetryPolicy({ importMode: 'VALIDATE', importStrategy: 'DELETE' }).retry).toBe(true);
    expect(importRetryPolicy({ importMode: 'COMMIT' }).retry).toBe(true);
    expect(importRetryPolicy({ importMode: 'COMMIT', importStrategy: 'CREATE_AND_UPDATE' })).toMatchObject({
      retry: true,
      unsentOnly: true,
    });
    expect(importRetryPolicy({ importMode: 'COMMIT', importStrategy: 'CREATE' }).retry).toBe(false);
    expect(importRetryPolicy({ importMode: 'COMMIT', importStrategy: 'UPDATE' }).retry).toBe(false);
    expect(importRetryPolicy({ importMode: 'COMMIT', importStrategy: 'DELETE' }).retry).toBe(false);
  });
});

describe('error descriptions', () => {
  const ctx: RequestContext = {
    server: 'https://dhis.example.org/dhis',
    method: 'GET',
    path: '/dhis/api/programs',
    usesToken: false,
    timeoutMs: 60_000,
  };

  it('names the status, the server and what to check', () => {
    expect(describeStatus(401, undefined, ctx)).toBe(
      'the username/password (or token) was refused by https://dhis.example.org/dhis (HTTP 401 Unauthorized)',
    );
    expect(describeStatus(401, undefined, { ...ctx, usesToken: true })).toContain('2.37');
    expect(describeStatus(403, { message: 'Access denied' }, ctx)).toMatch(
      /HTTP 403 Forbidden.*authority.*Access denied/,
    );
    expect(describeStatus(500, { httpStatusCode: 500, message: 'NullPointerException' }, ctx)).toMatch(
      /HTTP 500 Internal Server Error.*DHIS2 log: NullPointerException/,
    );
    expect(describeStatus(503, undefined, ctx)).toContain('starting');
    expect(describeStatus(413, undefined, ctx)).toContain('client_max_body_size');
    expect(describeStatus(418, undefined, ctx)).toContain('HTTP 418');
  });

  it('DHIS2 messages: message plus error reports, shortened, redacted', () => {
    expect(dhis2Says({ message: 'Conflict', response: { errorReports: [{ message: 'a' }, { message: 'b' }] } })).toBe(
      'Conflict; a; b',
    );
    expect(dhis2Says('text')).toBeUndefined();
    expect(dhis2Says({ message: 'x'.repeat(1000) })!.length).toBeLessThan(420);
  });

  it('network failures say what to check', () => {
    expect(describeNetworkError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, ctx)).toBe(
      'connection refused by dhis.example.org:443 (https://dhis.example.org/dhis): is DHIS2 running there, and are the host and port in server-url right?',
    );
    expect(describeNetworkError({ code: 'ENOTFOUND', message: 'getaddrinfo' }, ctx)).toContain(
      'cannot resolve the host name dhis.example.org',
    );
    expect(describeNetworkError({ code: 'ECONNABORTED', message: 'timeout of 60000ms exceeded' }, ctx)).toContain(
      'did not answer GET /dhis/api/programs within 60 s',
    );
    expect(describeNetworkError({ code: 'ECONNRESET', message: 'socket hang up' }, ctx)).toContain('dropped');
    expect(describeNetworkError({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'x' }, ctx)).toContain(
      'NODE_EXTRA_CA_CERTS',
    );
  });
});
