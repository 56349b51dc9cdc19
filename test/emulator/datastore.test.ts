import { describe, expect, it } from 'vitest';
import { call, withEmulator } from './helpers.ts';

const NS = 'programconfigapp_backups';

describe('dataStore', () => {
  it('lists namespaces and keys, 404 for unknown ones, and answers values as raw JSON', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      expect((await call(emu, '/api/dataStore')).json).toEqual([]);
      const missingNs = await call(emu, `/api/dataStore/${NS}`);
      expect(missingNs.status).toBe(404);
      expect(missingNs.json).toMatchObject({ httpStatusCode: 404, status: 'ERROR' });

      const value = { backups: [{ id: 1, name: 'b1', metadata: { programs: [] } }] };
      const created = await call(emu, `/api/dataStore/${NS}/XY5mWAnxSoN`, { method: 'POST', body: value });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ httpStatusCode: 201, status: 'OK' });
      expect(emu.dataStore.get(NS)?.get('XY5mWAnxSoN')).toEqual(value);

      expect((await call(emu, '/api/dataStore')).json).toEqual([NS]);
      expect((await call(emu, `/api/dataStore/${NS}`)).json).toEqual(['XY5mWAnxSoN']);
      expect((await call(emu, `/api/dataStore/${NS}/keys`)).json).toEqual(['XY5mWAnxSoN']);
      const got = await call(emu, `/api/dataStore/${NS}/XY5mWAnxSoN`);
      expect(got.status).toBe(200);
      expect(got.json).toEqual(value);
      expect((await call(emu, `/api/dataStore/${NS}/nokey`)).status).toBe(404);
    });
  });

  it('POST on an existing key is 409; PUT replaces; DELETE removes (404 when missing)', async () => {
    await withEmulator({}, async (emu) => {
      await call(emu, `/api/dataStore/${NS}/k1`, { method: 'POST', body: { v: 1 } });
      const again = await call(emu, `/api/dataStore/${NS}/k1`, { method: 'POST', body: { v: 2 } });
      expect(again.status).toBe(409);
      expect(emu.dataStore.get(NS)?.get('k1')).toEqual({ v: 1 });
      const put = await call(emu, `/api/dataStore/${NS}/k1`, { method: 'PUT', body: { v: 3 } });
      expect(put.status).toBe(200);
      expect((await call(emu, `/api/dataStore/${NS}/k1`)).json).toEqual({ v: 3 });
      expect((await call(emu, `/api/dataStore/${NS}/k1`, { method: 'DELETE' })).status).toBe(200);
      expect((await call(emu, `/api/dataStore/${NS}/k1`, { method: 'DELETE' })).status).toBe(404);
      expect(emu.dataStore.get(NS)?.has('k1') ?? false).toBe(false);
      const bad = await call(emu, `/api/dataStore/${NS}/k2`, { method: 'POST', body: '{not json' });
      expect(bad.status).toBe(400);
    });
  });

  it('PUT on a missing key: 404 before 2.41, created from 2.41', async () => {
    for (const [version, status] of [
      ['2.40.3', 404],
      ['2.41.0', 200],
    ] as const) {
      await withEmulator({ version }, async (emu) => {
        const r = await call(emu, `/api/dataStore/${NS}/new`, { method: 'PUT', body: { a: 1 } });
        expect(r.status, version).toBe(status);
        expect(emu.dataStore.get(NS)?.has('new') ?? false).toBe(status === 200);
      });
    }
  });

  it('/{ns}/keys lists keys since 2.40; before, "keys" is just a key name', async () => {
    for (const [version, keysPath] of [
      ['2.39.1', false],
      ['2.40.0', true],
    ] as const) {
      await withEmulator({ version }, async (emu) => {
        emu.dataStore.set(NS, new Map([['a', 1]]));
        const r = await call(emu, `/api/dataStore/${NS}/keys`);
        expect(r.status, version).toBe(keysPath ? 200 : 404);
        if (keysPath) expect(r.json).toEqual(['a']);
      });
    }
  });
});
