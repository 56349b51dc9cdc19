/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers of arbitrary shape */
import { describe, expect, it } from 'vitest';
import { BASIC, call, withEmulator } from './helpers.ts';
import { SAMPLE_PROGRAMS, SAMPLE_SEED, startEmulator } from './index.ts';

describe('fault injection', () => {
  it('status: answers the given status and body instead, for `times` matching requests from the nth', async () => {
    await withEmulator({}, async (emu) => {
      emu.addFault({
        path: '/api/system/info',
        nth: 2,
        times: 2,
        fault: { kind: 'status', status: 503, body: 'busy' },
      });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(emu, '/api/system/info')).status);
      expect(statuses).toEqual([200, 503, 503, 200, 200]);
      const faulted = await (async () => {
        emu.addFault({ fault: { kind: 'status', status: 502 } });
        return call(emu, '/api/me');
      })();
      expect(faulted.status).toBe(502);
      expect(faulted.json).toMatchObject({ httpStatusCode: 502 });
      expect(emu.requests.map((r) => r.status)).toEqual([200, 503, 503, 200, 200, 502]);
    });
  });

  it('matches by method and by RegExp path; Infinity applies to all; clearFaults removes rules', async () => {
    await withEmulator({}, async (emu) => {
      emu.addFault({
        method: 'POST',
        path: /^\/api\/metadata/,
        times: Infinity,
        fault: { kind: 'status', status: 500 },
      });
      expect((await call(emu, '/api/metadata?programs=true&programs:filter=id:eq:x')).status).toBe(200);
      expect((await call(emu, '/api/metadata', { body: {} })).status).toBe(500);
      expect((await call(emu, '/api/metadata', { body: {} })).status).toBe(500);
      emu.clearFaults();
      expect((await call(emu, '/api/metadata', { body: {} })).status).toBe(200);
    });
  });

  it('drop: destroys the connection without an answer', async () => {
    await withEmulator({}, async (emu) => {
      emu.addFault({ path: '/api/me', fault: { kind: 'drop' } });
      await expect(fetch(`${emu.url}/api/me`, { headers: { Authorization: BASIC } })).rejects.toThrow();
      expect((await call(emu, '/api/me')).status).toBe(200);
      expect(emu.requests[0]).toMatchObject({ path: '/api/me', status: 0 });
    });
  });

  it('latency: waits, then answers normally', async () => {
    await withEmulator({}, async (emu) => {
      emu.addFault({ fault: { kind: 'latency', ms: 150 } });
      const t0 = performance.now();
      const r = await call(emu, '/api/me');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
      expect(r.status).toBe(200);
      const t1 = performance.now();
      await call(emu, '/api/me');
      expect(performance.now() - t1).toBeLessThan(140);
    });
  });
});

describe('request log', () => {
  it('records method, path without context path and query, last-wins query, status, auth and JSON body', async () => {
    await withEmulator({ contextPath: '/dhis' }, async (emu) => {
      await call(emu, '/api/metadata?importMode=VALIDATE&importMode=COMMIT&atomicMode=ALL', { body: { options: [] } });
      await call(emu, '/api/me', { auth: null });
      expect(emu.requests).toEqual([
        {
          method: 'POST',
          path: '/api/metadata',
          query: { importMode: 'COMMIT', atomicMode: 'ALL' },
          status: 200,
          auth: 'basic',
          body: { options: [] },
        },
        { method: 'GET', path: '/api/me', query: {}, status: 401, auth: 'none' },
      ]);
    });
  });

  it('every API answer is JSON, the versioned prefix /api/NN/ is accepted', async () => {
    await withEmulator({}, async (emu) => {
      for (const path of ['/api/41/system/info', '/api/41/me', '/api/nothing', '/nothing']) {
        const r = await call(emu, path);
        expect(r.headers.get('content-type'), path).toMatch(/^application\/json/);
        expect(r.json, path).toBeDefined();
      }
      expect((await call(emu, '/api/41/system/info')).status).toBe(200);
    });
  });
});

describe('seed', () => {
  it('lists every seeded program with its kind by PROGRAM_TYPE and its fixture', async () => {
    await withEmulator({}, async (emu) => {
      const stored = emu.store.list('programs');
      expect(SAMPLE_PROGRAMS.map((p) => p.id).sort()).toEqual(stored.map((p) => p.id as string).sort());
      for (const p of SAMPLE_PROGRAMS) {
        const program = stored.find((s) => s.id === p.id)!;
        expect(p.name).toBe(program.name);
        const type = ((program.attributeValues ?? []) as any[]).find((a) => a.attribute.id === 'yB5tFAAN7bI')?.value;
        expect(p.kind).toBe(type === 'HNQIS2' || type === 'HNQIS3' ? 'hnqis2' : 'tracker');
        expect(p.source).toMatch(/^(dhis2|made)\/.+\.json$/);
      }
      expect(SAMPLE_PROGRAMS.filter((p) => p.kind === 'hnqis2').map((p) => p.id)).toEqual(['XY5mWAnxSoN']);
      expect(SAMPLE_PROGRAMS.map((p) => p.id)).toEqual(expect.arrayContaining(['Lt6P15ps7f6', 'yDuAzyqYABS']));
    });
  });

  it('emulators do not share state, and start fast', async () => {
    const t0 = performance.now();
    const a = await startEmulator();
    const b = await startEmulator();
    try {
      expect(performance.now() - t0).toBeLessThan(1000);
      a.store.remove('programs', 'XY5mWAnxSoN');
      expect(a.store.get('programs', 'XY5mWAnxSoN')).toBeUndefined();
      expect(b.store.get('programs', 'XY5mWAnxSoN')).toBeDefined();
      const again = await startEmulator();
      expect(again.store.get('programs', 'XY5mWAnxSoN')).toBeDefined();
      await again.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a custom seed replaces the sample; top-level PSDEs are folded into their stage', async () => {
    const seed = [
      {
        programs: [
          {
            id: 'CustomProg1',
            name: 'Custom',
            shortName: 'Custom',
            programType: 'WITHOUT_REGISTRATION',
            programStages: [{ id: 'CustomStg01' }],
          },
        ],
        programStages: [
          { id: 'CustomStg01', name: 'Stage', program: { id: 'CustomProg1' }, programStageDataElements: [] },
        ],
        dataElements: [
          {
            id: 'CustomDe001',
            name: 'DE',
            shortName: 'DE',
            valueType: 'TEXT',
            aggregationType: 'NONE',
            domainType: 'TRACKER',
          },
        ],
        programStageDataElements: [{ programStage: { id: 'CustomStg01' }, dataElement: { id: 'CustomDe001' } }],
      },
    ];
    await withEmulator({ seed }, async (emu) => {
      expect(emu.store.list('programs').map((p) => p.id)).toEqual(['CustomProg1']);
      const stage = emu.store.get('programStages', 'CustomStg01') as any;
      expect(stage.programStageDataElements).toHaveLength(1);
      expect(stage.programStageDataElements[0].dataElement.id).toBe('CustomDe001');
      expect(stage.programStageDataElements[0].id).toMatch(/^[a-zA-Z][a-zA-Z0-9]{10}$/);
      // The default category model always exists.
      expect(emu.store.get('categoryCombos', 'bjDvmb4bfuf')).toBeDefined();
    });
    // The seed documents themselves are not changed.
    expect((seed[0]!.programStages[0] as any).programStageDataElements).toEqual([]);
    expect(SAMPLE_SEED.length).toBeGreaterThanOrEqual(6);
  });

  it('fixtures from different servers do not clash on unique values: the one loaded first is renamed', async () => {
    await withEmulator({}, async (emu) => {
      // TB (loaded first) and COVAC both have a "Family name" attribute, under different ids.
      const tb = emu.store.get('trackedEntityAttributes', 'aW66s2QSosT')!;
      const covac = emu.store.get('trackedEntityAttributes', 'ENRjVGxVL6l')!;
      expect(covac.shortName).toBe('Family name');
      expect(tb.shortName).toBe('Family name (aW66s2QSosT)');
      for (const c of ['dataElements', 'trackedEntityAttributes', 'optionSets', 'programs']) {
        const names = emu.store.list(c).map((o) => o.shortName ?? o.name);
        expect(new Set(names).size, c).toBe(names.length);
      }
    });
  });

  it('store.get/list hand out copies; snapshot changes only when the store does', async () => {
    await withEmulator({}, async (emu) => {
      const s1 = emu.store.snapshot();
      const p = emu.store.get('programs', 'XY5mWAnxSoN')!;
      p.name = 'changed';
      emu.store.list('programs')[0]!.name = 'changed too';
      expect(emu.store.snapshot() === s1, 'the store changed').toBe(true);
      emu.store.put('programs', p);
      expect(emu.store.snapshot() === s1, 'the store did not change').toBe(false);
      expect(emu.store.get('programs', 'XY5mWAnxSoN')!.name).toBe('changed');
    });
  });
});
