/**
 * The DHIS2 client against the DHIS2 emulator (test/emulator): auth, context paths, retries and their
 * limits, chunking, import report shapes per version, async imports and the dataStore. Every log line and
 * error message produced here is collected and grepped for the credentials at the end.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Dhis2Client, type ClientOptions } from '../../src/dhis2/client.ts';
import type { Auth } from '../../src/config/types.ts';
import { Dhis2Error } from '../../src/errors.ts';
import type { MetadataDocument } from '../../src/metadata/types.ts';
import {
  DEFAULT_TOKEN,
  SAMPLE_PROGRAMS,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../emulator/index.ts';

const PASSWORD = 'district';
const basic: Auth = { kind: 'basic', username: 'admin', password: PASSWORD };
const token: Auth = { kind: 'token', token: DEFAULT_TOKEN };
const BASIC_VALUE = Buffer.from(`admin:${PASSWORD}`).toString('base64');

/** Everything the client said or threw in this file: grepped for secrets in the last test. */
const captured: string[] = [];
const log = (line: string): void => {
  captured.push(line);
};

const emulators: Emulator[] = [];
async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  emulators.push(emu);
  return emu;
}

function connect(emu: Emulator | string, options: Partial<ClientOptions> = {}): Promise<Dhis2Client> {
  const url = typeof emu === 'string' ? emu : emu.url;
  return Dhis2Client.connect({ url, auth: basic, retryDelayMs: 5, timeoutMs: 5000, log, ...options });
}

async function failure(promise: Promise<unknown>): Promise<Dhis2Error> {
  try {
    await promise;
  } catch (e) {
    captured.push(String(e), (e as Error).stack ?? '', JSON.stringify(e));
    expect(e).toBeInstanceOf(Dhis2Error);
    expect((e as Error).message).not.toMatch(/JSON\.parse|Unexpected token|SyntaxError|AxiosError/);
    return e as Dhis2Error;
  }
  throw new Error('expected a Dhis2Error');
}

const count = (emu: Emulator, method: string, path: string | RegExp): number =>
  emu.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)))
    .length;

const program = SAMPLE_PROGRAMS[0]!;

let shared: Emulator;
beforeAll(async () => {
  shared = await emulator();
});
afterEach(() => shared.clearFaults());
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.close()));
});

describe('auth', () => {
  it('Basic auth connects and reads the version once', async () => {
    const before = count(shared, 'GET', '/api/system/info');
    const client = await connect(shared);
    expect(client.system.version).toBe(shared.version);
    expect(client.system.minor).toBe(41);
    expect(client.atLeast(41)).toBe(true);
    expect(client.atLeast(42)).toBe(false);
    expect(count(shared, 'GET', '/api/system/info')).toBe(before + 1);
    expect(shared.requests.at(-1)!.auth).toBe('basic');
  });

  it('a personal access token is sent as ApiToken', async () => {
    const client = await connect(shared, { auth: token });
    await client.getProgramMetadata(program.id);
    expect(shared.requests.at(-1)!.auth).toBe('token');
  });

  it('a wrong password and a wrong token are refused with 401', async () => {
    const e = await failure(connect(shared, { auth: { kind: 'basic', username: 'admin', password: 'Wrong-Pass-77' } }));
    expect(e.message).toBe(`the username/password (or token) was refused by ${shared.url} (HTTP 401 Unauthorized)`);
    expect(e.status).toBe(401);
    const t = await failure(connect(shared, { auth: { kind: 'token', token: 'd2p_wrongwrongwrongwrong' } }));
    expect(t.message).toContain('(HTTP 401 Unauthorized)');
    expect(t.message).not.toContain('d2p_wrong');
  });

  it('an old server that redirects to its login page: one clear line, the redirect not followed', async () => {
    const emu = await emulator({ loginRedirect: true, contextPath: '/dhis' });
    const e = await failure(connect(emu, { auth: { kind: 'basic', username: 'admin', password: 'Nope-Nope-1' } }));
    expect(e.message).toBe(
      `authentication failed: ${emu.url} redirected to its login page (wrong credentials, or not a DHIS2 API URL)`,
    );
    expect(emu.requests.some((r) => r.path.includes('login'))).toBe(false);
    // Right credentials still work on the same server; none at all meets the login page too.
    expect((await connect(emu)).system.version).toBe(emu.version);
    expect((await failure(connect(emu, { auth: undefined }))).message).toContain('redirected to its login page');
  });

  it('a token on a server older than 2.37 (no personal access tokens) gets a hint', async () => {
    const emu = await emulator({ version: '2.36.13' });
    const e = await failure(connect(emu, { auth: token }));
    expect(e.message).toContain('(HTTP 401 Unauthorized); personal access tokens need DHIS2 2.37 or newer');
  });
});

describe('server URL', () => {
  it('context path, trailing slash and a URL ending in /api all reach the same API', async () => {
    const emu = await emulator({ contextPath: '/dhis' });
    expect(emu.url).toMatch(/\/dhis$/);
    for (const url of [emu.url, `${emu.url}/`, `${emu.url}/api`, `${emu.url}/api/`]) {
      const lines: string[] = [];
      const client = await connect(url, { log: (l) => (lines.push(l), log(l)) });
      expect(client.url).toBe(emu.url);
      expect(lines.some((l) => l.includes('ends in /api'))).toBe(url.includes('/api'));
      expect((await client.getProgramMetadata(program.id)).programs).toBeDefined();
    }
  });

  it('a URL without the context path is not a DHIS2 API', async () => {
    const emu = await emulator({ contextPath: '/dhis' });
    const root = emu.url.replace(/\/dhis$/, '');
    const e = await failure(connect(root));
    expect(e.message).toBe(`not a DHIS2 API: ${root}/api/system/info answered 404`);
  });

  it('a closed port: connection refused, retried (a starting server), then given up', async () => {
    const closed = await freePort();
    const started = Date.now();
    const e = await failure(connect(`http://127.0.0.1:${closed}`, { retries: 2 }));
    expect(e.message).toBe(
      `gave up after 3 attempts: connection refused by 127.0.0.1:${closed} (http://127.0.0.1:${closed}): ` +
        'is DHIS2 running there, and are the host and port in server-url right?',
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('retries', () => {
  it('503 on the first two system/info requests, then success', async () => {
    shared.addFault({ method: 'GET', path: '/api/system/info', times: 2, fault: { kind: 'status', status: 503 } });
    const before = count(shared, 'GET', '/api/system/info');
    const client = await connect(shared);
    expect(client.system.version).toBe(shared.version);
    expect(count(shared, 'GET', '/api/system/info')).toBe(before + 3);
  });

  it('the budget exhausted: "gave up after N attempts" with the last problem', async () => {
    const client = await connect(shared);
    const path = `/api/programs/${program.id}/metadata.json`;
    shared.addFault({ method: 'GET', path, times: Infinity, fault: { kind: 'status', status: 502 } });
    const before = count(shared, 'GET', path);
    const e = await failure(client.getProgramMetadata(program.id));
    expect(e.message).toMatch(/^gave up after 5 attempts: .* is unavailable \(HTTP 502 Bad Gateway on GET /);
    expect(e.status).toBe(502);
    expect(count(shared, 'GET', path)).toBe(before + 5);
  });

  it('a dropped connection (socket destroyed) is retried', async () => {
    const client = await connect(shared);
    const path = `/api/programs/${program.id}/metadata.json`;
    shared.addFault({ method: 'GET', path, fault: { kind: 'drop' } });
    const doc = await client.getProgramMetadata(program.id);
    expect((doc.programs as { id: string }[])[0]!.id).toBe(program.id);
  });

  it('non-idempotent calls are not retried: dataStore create, CREATE and DELETE imports', async () => {
    const client = await connect(shared);
    shared.addFault({
      method: 'POST',
      path: /^\/api\/dataStore\//,
      times: Infinity,
      fault: { kind: 'status', status: 503 },
    });
    const before = count(shared, 'POST', /^\/api\/dataStore\//);
    const e = await failure(client.dataStore.create('client-test', 'no-retry', { a: 1 }));
    expect(e.message).toContain('not retried');
    expect(count(shared, 'POST', /^\/api\/dataStore\//)).toBe(before + 1);
    shared.clearFaults();

    shared.addFault({ method: 'POST', path: '/api/metadata', times: Infinity, fault: { kind: 'drop' } });
    for (const importStrategy of ['CREATE', 'DELETE', 'UPDATE'] as const) {
      const n = count(shared, 'POST', '/api/metadata');
      await failure(client.importMetadata({ dataElements: [] }, { importMode: 'COMMIT', importStrategy }));
      expect(count(shared, 'POST', '/api/metadata'), importStrategy).toBe(n + 1);
    }
  });

  it('VALIDATE is retried after any transient failure; a COMMIT only when the server did not take it', async () => {
    const client = await connect(shared);
    const doc = await client.getProgramMetadata(program.id);
    shared.addFault({ method: 'POST', path: '/api/metadata', times: 2, fault: { kind: 'status', status: 503 } });
    const n = count(shared, 'POST', '/api/metadata');
    const validated = await client.importMetadata(doc, { importMode: 'VALIDATE' });
    expect(validated.status).toBe('OK');
    expect(count(shared, 'POST', '/api/metadata')).toBe(n + 3);

    // 503: the server did not take it, so sending it again is safe.
    shared.addFault({ method: 'POST', path: '/api/metadata', fault: { kind: 'status', status: 503 } });
    const committed = await client.importMetadata(doc, { importMode: 'COMMIT', importStrategy: 'CREATE_AND_UPDATE' });
    expect(committed.status).toBe('OK');
    expect(count(shared, 'POST', '/api/metadata')).toBe(n + 5);

    // A dropped connection or a 502 after sending: the import may be running; never a second one.
    for (const fault of [{ kind: 'drop' as const }, { kind: 'status' as const, status: 502 }]) {
      shared.addFault({ method: 'POST', path: '/api/metadata', fault });
      const before = count(shared, 'POST', '/api/metadata');
      const err = await client
        .importMetadata(doc, { importMode: 'COMMIT', importStrategy: 'CREATE_AND_UPDATE' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Dhis2Error);
      expect((err as Error).message).toMatch(/may have reached the server/);
      expect(count(shared, 'POST', '/api/metadata')).toBe(before + 1);
    }
  });

  it('a 504 on a COMMIT is not retried (the import may still be running), but on VALIDATE it is', async () => {
    const client = await connect(shared);
    shared.addFault({ method: 'POST', path: '/api/metadata', times: 1, fault: { kind: 'status', status: 504 } });
    const n = count(shared, 'POST', '/api/metadata');
    const e = await failure(client.importMetadata({ dataElements: [] }, { importMode: 'COMMIT' }));
    expect(e.message).toContain('may still be running');
    expect(count(shared, 'POST', '/api/metadata')).toBe(n + 1);
    shared.addFault({ method: 'POST', path: '/api/metadata', times: 1, fault: { kind: 'status', status: 504 } });
    expect((await client.importMetadata({ dataElements: [] }, { importMode: 'VALIDATE' })).status).toBe('OK');
  });

  it('timeouts are per request and reported with the URL', async () => {
    const client = await connect(shared, { timeoutMs: 150 });
    shared.addFault({ method: 'GET', path: '/api/me', fault: { kind: 'latency', ms: 1000 } });
    const e = await failure(client.getJson('me'));
    expect(e.message).toBe(
      `${shared.url} did not answer GET /api/me within 150 ms: the server may be overloaded or the request too large`,
    );
  });
});

describe('chunking (no 414)', () => {
  it('many ids: several requests, every URL under the limit, every object returned in order', async () => {
    // A proxy in front of the emulator records the request targets exactly as they arrive.
    const targets: string[] = [];
    const proxy = await recordingProxy(shared.url, targets);
    const client = await connect(proxy.url);
    const known = shared.store.list('dataElements').map((d) => String(d.id));
    expect(known.length).toBeGreaterThan(20);
    const fake = Array.from({ length: 1500 }, (_, i) => `x${String(i).padStart(10, '0')}`);
    const ids = [...fake.slice(0, 700), ...known, ...fake.slice(700)];
    const objects = await client.getObjects('dataElements', ids, 'id,name');
    const sent = targets.filter((t) => t.startsWith('/api/dataElements'));
    expect(sent.length).toBeGreaterThan(1);
    for (const target of sent) expect(`${proxy.url}${target}`.length).toBeLessThanOrEqual(8000);
    expect(objects.map((o) => o.id)).toEqual(known);
    expect(Object.keys(objects[0]!).sort()).toEqual(['id', 'name']);
    await proxy.close();
  });
});

const VERSIONS: { version: string; wrapped: boolean; responseType?: string }[] = [
  { version: '2.36.13', wrapped: false },
  { version: '2.37.9', wrapped: false },
  { version: '2.39.1', wrapped: true },
  { version: '2.41.3', wrapped: true },
  { version: '2.42.1', wrapped: true },
  { version: '2.43.0', wrapped: true },
];

describe.each(VERSIONS)('imports on $version', ({ version, wrapped }) => {
  let emu: Emulator;
  let client: Dhis2Client;
  beforeAll(async () => {
    emu = await emulator({ version });
    client = await connect(emu);
  });

  it('VALIDATE a broken payload: ERROR report, errors parsed, nothing changed, exact query', async () => {
    const snapshot = emu.store.snapshot();
    const broken: MetadataDocument = { dataElements: [{ id: 'deBroken001', name: 'Broken' }] };
    const report = await client.importMetadata(broken, { importMode: 'VALIDATE', atomicMode: 'ALL' });
    expect(report.status).toBe('ERROR');
    expect(report.httpStatus).toBe(wrapped ? 409 : 200);
    expect(report.message === undefined).toBe(!wrapped);
    expect(report.errors.length).toBeGreaterThan(0);
    expect(report.errors[0]).toMatchObject({ objectType: 'DataElement', uid: 'deBroken001' });
    expect(report.errors[0]!.code).toMatch(/^E\d{4}$/);
    expect(emu.store.snapshot()).toBe(snapshot);
    expect(emu.requests.at(-1)!.query).toEqual({ importMode: 'VALIDATE', atomicMode: 'ALL' });
  });

  it('COMMIT a renamed program: OK, the change lands', async () => {
    const doc = await client.getProgramMetadata(program.id);
    const programs = doc.programs as Record<string, unknown>[];
    programs[0]!.name = `Renamed on ${version}`;
    const report = await client.importMetadata(doc, { importMode: 'COMMIT', importStrategy: 'CREATE_AND_UPDATE' });
    expect(report.status).toBe('OK');
    expect(report.httpStatus).toBe(200);
    expect(report.stats.updated).toBeGreaterThan(0);
    expect(report.stats.created).toBe(0);
    expect(emu.store.get('programs', program.id)!.name).toBe(`Renamed on ${version}`);
    expect(emu.requests.at(-1)!.query).toEqual({ importMode: 'COMMIT', importStrategy: 'CREATE_AND_UPDATE' });
  });

  it('async VALIDATE: the job is polled and its summary parsed', async () => {
    const broken: MetadataDocument = { dataElements: [{ id: 'deBroken002', name: 'Broken' }] };
    const fastPoll = await connect(emu, { pollIntervalMs: 10 });
    const report = await fastPoll.importMetadata(broken, { importMode: 'VALIDATE', async: true });
    expect(report.status).toBe('ERROR');
    expect(report.errors[0]).toMatchObject({ objectType: 'DataElement', uid: 'deBroken002' });
    expect(emu.requests.some((r) => r.path.startsWith('/api/system/tasks/METADATA_IMPORT/'))).toBe(true);
    expect(emu.requests.some((r) => r.path.startsWith('/api/system/taskSummaries/METADATA_IMPORT/'))).toBe(true);
  });
});

describe('dataStore', () => {
  it('round trip: create, get, update, keys, remove', async () => {
    const client = await connect(shared);
    const ns = 'client-test-ns';
    expect(await client.dataStore.get(ns, 'k1')).toBeUndefined();
    expect(await client.dataStore.keys(ns)).toEqual([]);
    await client.dataStore.create(ns, 'k1', { backups: [{ id: 1, name: 'first' }] });
    expect(shared.dataStore.get(ns)?.get('k1')).toEqual({ backups: [{ id: 1, name: 'first' }] });
    const e = await failure(client.dataStore.create(ns, 'k1', {}));
    expect(e.message).toBe(`dataStore key ${ns}/k1 already exists on ${shared.url}`);
    await client.dataStore.update(ns, 'k1', { backups: [] });
    expect(await client.dataStore.get(ns, 'k1')).toEqual({ backups: [] });
    // A key that needs encoding in the path.
    await client.dataStore.create(ns, 'k 2 (odd)', [1, 2, 3]);
    expect((await client.dataStore.keys(ns)).sort()).toEqual(['k 2 (odd)', 'k1']);
    expect(await client.dataStore.get(ns, 'k 2 (odd)')).toEqual([1, 2, 3]);
    await expect(client.dataStore.get(ns, 'a/b')).rejects.toThrow('contains "/"');
    expect(await client.dataStore.remove(ns, 'k1')).toBe(true);
    expect(await client.dataStore.remove(ns, 'k1')).toBe(false);
    expect(await client.dataStore.get(ns, 'k1')).toBeUndefined();
  });

  it('GET and PUT are retried, and 2.39 lists keys at /{ns}', async () => {
    const client = await connect(shared);
    await client.dataStore.create('client-retry', 'k', 1);
    shared.addFault({ path: '/api/dataStore/client-retry/k', times: 2, fault: { kind: 'status', status: 503 } });
    await client.dataStore.update('client-retry', 'k', 2);
    shared.addFault({ path: '/api/dataStore/client-retry/k', fault: { kind: 'drop' } });
    expect(await client.dataStore.get('client-retry', 'k')).toBe(2);

    const old = await emulator({ version: '2.39.1' });
    const c39 = await connect(old);
    await c39.dataStore.create('ns39', 'a', true);
    expect(await c39.dataStore.keys('ns39')).toEqual(['a']);
    expect(old.requests.at(-1)!.path).toBe('/api/dataStore/ns39');
    expect((await failure(c39.dataStore.update('ns39', 'missing', 1))).status).toBe(404);
  });
});

describe('secrets', () => {
  it('no password, token or Basic value in any captured log line or error', () => {
    expect(captured.length).toBeGreaterThan(20);
    const all = captured.join('\n');
    for (const secret of [
      PASSWORD,
      DEFAULT_TOKEN,
      BASIC_VALUE,
      'Wrong-Pass-77',
      'Nope-Nope-1',
      'd2p_wrongwrongwrongwrong',
    ]) {
      expect(all.includes(secret), secret).toBe(false);
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Forwards to `target`, recording each request target (path + query) as received on the wire. */
async function recordingProxy(target: string, targets: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const prefix = upstream.pathname.replace(/\/$/, '');
  const server: Server = createServer((req, res) => {
    targets.push(req.url ?? '');
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: `${prefix}${req.url ?? ''}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
