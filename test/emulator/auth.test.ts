import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN, LEGACY_TOKEN, startEmulator } from './index.ts';
import { BASIC, call, withEmulator } from './helpers.ts';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('emulator authentication', () => {
  it('accepts Basic auth for the configured users and answers /api/me as that user', async () => {
    await withEmulator({ users: [{ username: 'alice', password: 's3cret', id: 'AliceUid01a' }] }, async (emu) => {
      const me = await call(emu, '/api/me', { auth: basic('alice', 's3cret') });
      expect(me.status).toBe(200);
      expect(me.json).toMatchObject({ id: 'AliceUid01a', username: 'alice' });
      expect(typeof me.json.name).toBe('string');
      // The default admin is not a user of this emulator.
      expect((await call(emu, '/api/me', { auth: BASIC })).status).toBe(401);
    });
  });

  it('refuses a wrong password and a missing Authorization with a JSON 401 WebMessage', async () => {
    await withEmulator({}, async (emu) => {
      for (const auth of [basic('admin', 'wrong'), null, 'Bearer abc']) {
        const r = await call(emu, '/api/system/info', { auth });
        expect(r.status).toBe(401);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(r.json).toMatchObject({ httpStatus: 'Unauthorized', httpStatusCode: 401, status: 'ERROR' });
        expect(typeof r.json.message).toBe('string');
      }
      expect(emu.requests.map((e) => e.auth)).toEqual(['invalid', 'none', 'invalid']);
    });
  });

  it('with loginRedirect, sends unauthenticated requests to the HTML login page, which answers 200', async () => {
    await withEmulator({ loginRedirect: true, contextPath: '/dhis' }, async (emu) => {
      const r = await call(emu, '/api/system/info', { auth: null, redirect: 'manual' });
      expect(r.status).toBe(302);
      const location = r.headers.get('location')!;
      expect(location).toBe(`${emu.url}/dhis-web-commons/security/login.action`);
      const page = await fetch(location);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('<form');
      // Wrong credentials too; right ones still get JSON.
      expect((await call(emu, '/api/me', { auth: basic('admin', 'nope'), redirect: 'manual' })).status).toBe(302);
      expect((await call(emu, '/api/me')).status).toBe(200);
    });
  });

  it('accepts personal access tokens by version: d2p_ from 2.41, d2pat_ from 2.37, none before', async () => {
    const cases: [string, string, number][] = [
      ['2.41.3', DEFAULT_TOKEN, 200],
      ['2.41.3', LEGACY_TOKEN, 200],
      ['2.39.1', LEGACY_TOKEN, 200],
      ['2.39.1', DEFAULT_TOKEN, 401],
      ['2.37.0', LEGACY_TOKEN, 200],
      ['2.36.13', LEGACY_TOKEN, 401],
      ['2.36.13', DEFAULT_TOKEN, 401],
    ];
    for (const [version, token, status] of cases) {
      await withEmulator({ version }, async (emu) => {
        const r = await call(emu, '/api/me', { auth: `ApiToken ${token}` });
        expect(r.status, `${version} ${token.slice(0, 6)}`).toBe(status);
        expect(emu.requests[0]!.auth).toBe(status === 200 ? 'token' : 'invalid');
      });
    }
  });

  it('accepts only the configured tokens', async () => {
    await withEmulator({ tokens: ['d2p_onlyThisOne'] }, async (emu) => {
      expect((await call(emu, '/api/me', { auth: 'ApiToken d2p_onlyThisOne' })).status).toBe(200);
      expect((await call(emu, '/api/me', { auth: `ApiToken ${DEFAULT_TOKEN}` })).status).toBe(401);
    });
  });

  it('serves /api/system/info with the version and the full base URL as contextPath', async () => {
    for (const contextPath of ['', '/dhis', 'hmis/']) {
      const emu = await startEmulator({ version: '2.40.2', contextPath });
      try {
        const r = await call(emu, '/api/system/info');
        expect(r.status).toBe(200);
        expect(r.json.version).toBe('2.40.2');
        expect(r.json.contextPath).toBe(emu.url);
        for (const k of ['revision', 'buildTime', 'serverDate']) expect(typeof r.json[k]).toBe('string');
        expect(new URL(emu.url).pathname.replace(/\/$/, '')).toBe(
          contextPath === '' ? '' : `/${contextPath.replace(/^\/|\/$/g, '')}`,
        );
        expect(emu.requests.at(-1)!.path).toBe('/api/system/info');
      } finally {
        await emu.close();
      }
    }
  });

  it('answers 404 outside the context path', async () => {
    await withEmulator({ contextPath: '/dhis' }, async (emu) => {
      const origin = new URL(emu.url).origin;
      const r = await fetch(`${origin}/api/system/info`, { headers: { Authorization: BASIC } });
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    });
  });
});
