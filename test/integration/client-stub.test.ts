/**
 * Client behaviour against a tiny scripted HTTP server on 127.0.0.1: the odd answers a real network gives
 * (HTML pages, redirects elsewhere, stalls, broken JSON) that the DHIS2 emulator does not produce.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Dhis2Client, type ClientOptions } from '../../src/dhis2/client.ts';
import { Dhis2Error } from '../../src/errors.ts';
import { clearSecrets } from '../../src/util/secrets.ts';

type Handler = (req: IncomingMessage & { body: string }, res: ServerResponse) => void;

interface Stub {
  url: string;
  requests: { method: string; url: string; authorization?: string }[];
  close(): Promise<void>;
}

const servers: Server[] = [];

async function stub(routes: Record<string, Handler>, version = '2.41.3'): Promise<Stub> {
  const requests: Stub['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
      const path = (req.url ?? '').split('?')[0]!;
      const handler =
        routes[`${req.method} ${path}`] ??
        (path === '/api/system/info'
          ? json(200, { version, revision: 'abc123', serverDate: '2024-01-01T00:00:00.000' })
          : undefined);
      if (!handler)
        return json(404, { httpStatusCode: 404, message: `no route ${path}` })(Object.assign(req, { body }), res);
      handler(Object.assign(req, { body }), res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

function text(status: number, body: string, contentType = 'text/html'): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': contentType });
    res.end(body);
  };
}

const fast: Partial<ClientOptions> = { retryDelayMs: 2, timeoutMs: 2000 };
const auth = { kind: 'basic' as const, username: 'admin', password: 'Stub-Pass-91' };

async function failure(promise: Promise<unknown>): Promise<Dhis2Error> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(Dhis2Error);
    const message = (e as Error).message;
    expect(message).not.toContain(auth.password);
    expect(message).not.toMatch(/JSON\.parse|Unexpected token|SyntaxError/);
    return e as Dhis2Error;
  }
  throw new Error('expected a Dhis2Error');
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  clearSecrets();
});

describe('connect', () => {
  it('reads system info once and adapts: version fields and atLeast', async () => {
    const s = await stub({}, '2.40.4.1');
    const client = await Dhis2Client.connect({ url: `${s.url}/`, auth, ...fast });
    expect(client.system).toEqual({
      version: '2.40.4.1',
      major: 2,
      minor: 40,
      patch: 4,
      revision: 'abc123',
      serverDate: '2024-01-01T00:00:00.000',
    });
    expect(client.url).toBe(s.url);
    expect(client.atLeast(40, 4)).toBe(true);
    expect(client.atLeast(41)).toBe(false);
    expect(s.requests.filter((r) => r.url.startsWith('/api/system/info'))).toHaveLength(1);
    const header = s.requests[0]!.authorization!;
    expect(Buffer.from(header.replace(/^Basic /, ''), 'base64').toString()).toBe('admin:Stub-Pass-91');
  });

  it('sends Accept: application/json and no body on GETs', async () => {
    let accept = '';
    const s = await stub({
      'GET /api/system/info': (req, res) => {
        accept = String(req.headers.accept);
        json(200, { version: '2.41.0' })(req, res);
      },
    });
    await Dhis2Client.connect({ url: s.url, auth, ...fast });
    expect(accept).toBe('application/json');
  });

  it('an HTML 200 page (a portal or SSO page in front of DHIS2) is an authentication failure, not a parse error', async () => {
    const s = await stub({ 'GET /api/system/info': text(200, '<!DOCTYPE html><html><body>Welcome</body></html>') });
    const e = await failure(Dhis2Client.connect({ url: s.url, auth, ...fast }));
    expect(e.message).toBe(
      `authentication failed: ${s.url} answered with an HTML page instead of JSON (wrong credentials, or not a DHIS2 API URL)`,
    );
  });

  it('an HTML login form on 200 gets the login-page message', async () => {
    const s = await stub({
      'GET /api/system/info': text(200, '<html><form action="login.action"><input name="j_username"></form></html>'),
    });
    const e = await failure(Dhis2Client.connect({ url: s.url, auth, ...fast }));
    expect(e.message).toBe(
      `authentication failed: ${s.url} redirected to its login page (wrong credentials, or not a DHIS2 API URL)`,
    );
  });

  it('a redirect elsewhere (http -> https) names the target and is not followed', async () => {
    const s = await stub({
      'GET /api/system/info': (_req, res) => {
        res.writeHead(301, { Location: 'https://dhis.example.org/api/system/info' });
        res.end();
      },
    });
    const e = await failure(Dhis2Client.connect({ url: s.url, auth, ...fast }));
    expect(e.message).toContain('redirected GET /api/system/info to https://dhis.example.org/api/system/info');
    expect(e.status).toBe(301);
    expect(s.requests).toHaveLength(1);
  });

  it('JSON that is not system info, broken JSON, and an unknown version', async () => {
    const a = await stub({ 'GET /api/system/info': json(200, { hello: 'world' }) });
    expect((await failure(Dhis2Client.connect({ url: a.url, auth, ...fast }))).message).toBe(
      `not a DHIS2 API: ${a.url}/api/system/info answered without a DHIS2 version`,
    );
    const b = await stub({ 'GET /api/system/info': text(200, '{"version": "2.4', 'application/json') });
    expect((await failure(Dhis2Client.connect({ url: b.url, auth, ...fast }))).message).toContain('not JSON');
    const c = await stub({ 'GET /api/system/info': json(200, { version: 'latest' }) });
    expect((await failure(Dhis2Client.connect({ url: c.url, auth, ...fast }))).message).toContain('"latest"');
  });

  it('a stalled server times out with the URL and timeout in the message', async () => {
    const s = await stub({ 'GET /api/system/info': () => {} });
    const started = Date.now();
    const e = await failure(Dhis2Client.connect({ url: s.url, auth, retryDelayMs: 1, timeoutMs: 200 }));
    expect(e.message).toBe(
      `${s.url} did not answer GET /api/system/info within 200 ms: the server may be overloaded or the request too large`,
    );
    // Timeouts are not retried: one attempt only.
    expect(s.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('403 and 500 answers carry DHIS2 message and meaning', async () => {
    const s = await stub({
      'GET /api/programs/abc/metadata.json': json(403, { httpStatusCode: 403, message: 'Access denied for program' }),
      'GET /api/broken': json(500, { httpStatusCode: 500, message: 'java.lang.NullPointerException' }),
    });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast });
    const e403 = await failure(client.getProgramMetadata('abc'));
    expect(e403.status).toBe(403);
    expect(e403.message).toContain('(HTTP 403 Forbidden): the user is signed in but lacks the authority');
    expect(e403.message).toContain('Access denied for program');
    const e500 = await failure(client.getJson('broken'));
    expect(e500.status).toBe(500);
    expect(e500.message).toContain('NullPointerException');
    // 500 is not transient: no retry.
    expect(s.requests.filter((r) => r.url === '/api/broken')).toHaveLength(1);
  });
});

describe('requests', () => {
  it('getObjects merges chunks in the order of ids, once each, ignoring unknown ids', async () => {
    const served: string[][] = [];
    const s = await stub({
      'GET /api/options': (req, res) => {
        const filter = new URL(req.url!, 'http://x').searchParams.get('filter')!;
        const ids = /^id:in:\[(.*)\]$/.exec(filter)![1]!.split(',');
        served.push(ids);
        // Answer in reverse order and leave out ids starting with "z" (unknown on the server).
        json(200, {
          options: ids
            .filter((id) => !id.startsWith('z'))
            .reverse()
            .map((id) => ({ id, name: `n-${id}` })),
        })(req, res);
      },
    });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast, maxUrlLength: 300 });
    const ids = Array.from({ length: 60 }, (_, i) => (i % 10 === 9 ? `z${i}` : `id${String(i).padStart(8, '0')}`));
    const objects = await client.getObjects('options', [...ids, ids[0]!]);
    expect(served.length).toBeGreaterThan(1);
    for (const r of s.requests.filter((q) => q.url.startsWith('/api/options'))) {
      expect(`${s.url}${r.url}`.length).toBeLessThanOrEqual(300);
      expect(r.url).toContain('paging=false');
      expect(r.url).toContain('fields=:owner');
    }
    expect(objects.map((o) => o.id)).toEqual(ids.filter((id) => !id.startsWith('z')));
    expect(await client.getObjects('options', [])).toEqual([]);
  });

  it('getCollection sends paging=false with the params and reads the named list', async () => {
    const s = await stub({ 'GET /api/legendSets': json(200, { legendSets: [{ id: 'L1' }] }) });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast });
    expect(await client.getCollection('legendSets', { fields: 'id,name' })).toEqual([{ id: 'L1' }]);
    const url = new URL(s.requests.at(-1)!.url, 'http://x');
    expect(url.searchParams.get('paging')).toBe('false');
    expect(url.searchParams.get('fields')).toBe('id,name');
    const bad = await stub({ 'GET /api/legendSets': json(200, { pager: {} }) });
    const other = await Dhis2Client.connect({ url: bad.url, auth, ...fast });
    expect((await failure(other.getCollection('legendSets', {}))).message).toContain('without a "legendSets" list');
  });

  it('dataStore keys: /{ns} before 2.40, /{ns}/keys since; PUT 404 before 2.41 is explained', async () => {
    const old = await stub(
      {
        'GET /api/dataStore/ns': json(200, ['a', 'b']),
        'PUT /api/dataStore/ns/missing': json(404, { httpStatusCode: 404, message: 'Key not found' }),
      },
      '2.39.1',
    );
    const c39 = await Dhis2Client.connect({ url: old.url, auth, ...fast });
    expect(await c39.dataStore.keys('ns')).toEqual(['a', 'b']);
    expect((await failure(c39.dataStore.update('ns', 'missing', {}))).message).toContain('create it first');

    const recent = await stub({ 'GET /api/dataStore/ns/keys': json(200, ['c']) }, '2.40.0');
    const c40 = await Dhis2Client.connect({ url: recent.url, auth, ...fast });
    expect(await c40.dataStore.keys('ns')).toEqual(['c']);
    expect(await c40.dataStore.keys('unknown')).toEqual([]);
  });

  it('async import: polls the job until completed, waits for the summary, returns the report', async () => {
    let polls = 0;
    let summaries = 0;
    const s = await stub({
      'POST /api/metadata': json(200, {
        httpStatus: 'OK',
        httpStatusCode: 200,
        status: 'OK',
        message: 'Initiated METADATA_IMPORT',
        response: {
          responseType: 'JobConfigurationWebMessageResponse',
          id: 'job123',
          jobType: 'METADATA_IMPORT',
          relativeNotifierEndpoint: '/api/system/tasks/METADATA_IMPORT/job123',
        },
      }),
      'GET /api/system/tasks/METADATA_IMPORT/job123': (req, res) => {
        polls++;
        const done = polls >= 3;
        json(200, [{ uid: 'n1', level: 'INFO', message: done ? 'Import done' : 'Importing', completed: done }])(
          req,
          res,
        );
      },
      'GET /api/system/taskSummaries/METADATA_IMPORT/job123': (req, res) => {
        summaries++;
        if (summaries < 2) return text(200, '', 'application/json')(req, res);
        json(200, {
          status: 'OK',
          stats: { created: 2, updated: 1, deleted: 0, ignored: 0, total: 3 },
          typeReports: [],
        })(req, res);
      },
    });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast, pollIntervalMs: 5 });
    const report = await client.importMetadata({ programs: [] }, { importMode: 'COMMIT', async: true });
    expect(report.status).toBe('OK');
    expect(report.stats.total).toBe(3);
    expect(polls).toBe(3);
    expect(summaries).toBe(2);
    const post = s.requests.find((r) => r.method === 'POST')!;
    expect(new URL(post.url, 'http://x').searchParams.get('async')).toBe('true');
  });

  it('async import: a failed job without a summary, and a job that never ends', async () => {
    const job = json(200, {
      httpStatusCode: 200,
      response: { responseType: 'JobConfigurationWebMessageResponse', id: 'j1' },
    });
    const s = await stub({
      'POST /api/metadata': job,
      'GET /api/system/tasks/METADATA_IMPORT/j1': json(200, [
        { level: 'ERROR', message: 'Process failed: out of memory', completed: true },
      ]),
      'GET /api/system/taskSummaries/METADATA_IMPORT/j1': text(200, '', 'application/json'),
    });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast, pollIntervalMs: 5 });
    const e = await failure(client.importMetadata({}, { importMode: 'VALIDATE', async: true }));
    expect(e.message).toContain('failed');
    expect(e.message).toContain('out of memory');

    const t = await stub({
      'POST /api/metadata': job,
      'GET /api/system/tasks/METADATA_IMPORT/j1': json(200, [{ level: 'INFO', message: 'busy', completed: false }]),
    });
    const slow = await Dhis2Client.connect({ url: t.url, auth, ...fast, pollIntervalMs: 5, asyncTimeoutMs: 60 });
    // The wait ends: the job is asked to stop and followed as long again; it can't be stopped (no such endpoint
    // here), so the message says plainly that it will still run.
    expect((await failure(slow.importMetadata({}, { importMode: 'VALIDATE', async: true }))).message).toMatch(
      /still running after \d+ s although asked to stop: it WILL STILL RUN/,
    );
    expect(t.requests.some((r) => r.method === 'POST' && r.url.endsWith('/api/jobConfigurations/j1/cancel'))).toBe(
      true,
    );
  });

  it('async import: a job whose notifications vanish (the server restarted) fails at once, not after the timeout', async () => {
    let polls = 0;
    const s = await stub({
      'POST /api/metadata': json(200, {
        httpStatusCode: 200,
        response: { responseType: 'JobConfigurationWebMessageResponse', id: 'j2' },
      }),
      'GET /api/system/tasks/METADATA_IMPORT/j2': (req, res) =>
        json(200, ++polls < 3 || polls === 4 ? [{ level: 'INFO', message: 'Importing', completed: false }] : [])(
          req,
          res,
        ),
    });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast, pollIntervalMs: 5, asyncTimeoutMs: 60_000 });
    const started = Date.now();
    const e = await failure(client.importMetadata({}, { importMode: 'COMMIT', async: true }));
    expect(e.message).toMatch(/vanished .*restarted/);
    expect(Date.now() - started).toBeLessThan(5_000);
    // One empty answer (poll 3) is tolerated; three in a row (5, 6, 7) mean the job is gone.
    expect(polls).toBe(7);
  });

  it('a 429 honours the retry budget and then succeeds', async () => {
    let n = 0;
    const s = await stub({
      'GET /api/me': (req, res) =>
        ++n < 3 ? json(429, {}, { 'Retry-After': '0' })(req, res) : json(200, { id: 'u' })(req, res),
    });
    const client = await Dhis2Client.connect({ url: s.url, auth, ...fast });
    expect(await client.getJson<{ id: string }>('me')).toEqual({ id: 'u' });
    expect(n).toBe(3);
  });
});
