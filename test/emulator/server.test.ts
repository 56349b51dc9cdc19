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
      expect(emu.requests.map((r) => r.status)).toEqual([200, 503, 503, 200, 200, 502]);
    });
  });

  it('status without a body: a 5xx is the HTML page of the proxy in front (nginx), other statuses a WebMessage', async () => {
    await withEmulator({}, async (emu) => {
      emu.addFault({ path: '/api/me', times: 3, fault: { kind: 'status', status: 502 } });
      const bad = await call(emu, '/api/me');
      expect(bad.headers.get('content-type')).toBe('text/html');
      expect(bad.json).toBeUndefined();
      expect(bad.text).toBe(
        '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
          '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
      );
      emu.clearFaults();
      emu.addFault({ path: '/api/me', fault: { kind: 'status', status: 504 } });
      expect((await call(emu, '/api/me')).text).toContain('<center><h1>504 Gateway Time-out</h1></center>');
      emu.addFault({ path: '/api/me', fault: { kind: 'status', status: 429 } });
      const limited = await call(emu, '/api/me');
      expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
      expect(limited.json).toEqual({
        httpStatus: 'Error',
        httpStatusCode: 429,
        status: 'ERROR',
        message: 'Error',
      });
    });
  });

  it("when: 'after' lets the request take effect, then replaces, drops or delays its answer", async () => {
    await withEmulator({}, async (emu) => {
      const optionSet = (id: string): Record<string, unknown> => ({
        optionSets: [{ id, name: id, valueType: 'TEXT' }],
      });
      // 'before' (the default): the import never happens.
      emu.addFault({ method: 'POST', path: '/api/metadata', fault: { kind: 'status', status: 502 } });
      expect((await call(emu, '/api/metadata', { body: optionSet('OptSetBefor') })).status).toBe(502);
      expect(emu.store.get('optionSets', 'OptSetBefor')).toBeUndefined();
      emu.addFault({ method: 'POST', path: '/api/metadata', fault: { kind: 'drop' } });
      await expect(call(emu, '/api/metadata', { body: optionSet('OptSetBefo2') })).rejects.toThrow();
      expect(emu.store.get('optionSets', 'OptSetBefo2')).toBeUndefined();

      // 'after': the import is committed, the client sees a 504 from the proxy.
      emu.addFault({ method: 'POST', path: '/api/metadata', fault: { kind: 'status', status: 504, when: 'after' } });
      const late = await call(emu, '/api/metadata', { body: optionSet('OptSetAfter') });
      expect([late.status, late.headers.get('content-type')]).toEqual([504, 'text/html']);
      expect(emu.store.get('optionSets', 'OptSetAfter')).toBeDefined();

      // 'after' drop on an async import: no answer, but the job was started and runs.
      emu.addFault({ method: 'POST', path: '/api/metadata', fault: { kind: 'drop', when: 'after' } });
      await expect(call(emu, '/api/metadata?async=true', { body: optionSet('OptSetAsync') })).rejects.toThrow();
      for (let i = 0; i < 100 && !emu.store.get('optionSets', 'OptSetAsync'); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(emu.store.get('optionSets', 'OptSetAsync')).toBeDefined();

      // 'after' latency: the client gives up, the import is done anyway.
      emu.addFault({ method: 'POST', path: '/api/metadata', fault: { kind: 'latency', ms: 400, when: 'after' } });
      const aborted = fetch(`${emu.url}/api/metadata`, {
        method: 'POST',
        headers: { Authorization: BASIC, 'Content-Type': 'application/json' },
        body: JSON.stringify(optionSet('OptSetSlow1')),
        signal: AbortSignal.timeout(100),
      });
      await expect(aborted).rejects.toThrow();
      expect(emu.store.get('optionSets', 'OptSetSlow1')).toBeDefined();

      expect(emu.requests.map((r) => r.status)).toEqual([502, 0, 504, 0]);
      expect(() => emu.addFault({ fault: { kind: 'drop', when: 'later' as 'after' } })).toThrow(/when/);
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
  it('records method, path without context path and query, first-wins query, status, auth and JSON body', async () => {
    await withEmulator({ contextPath: '/dhis' }, async (emu) => {
      await call(emu, '/api/metadata?importMode=VALIDATE&importMode=COMMIT&atomicMode=ALL', { body: { options: [] } });
      await call(emu, '/api/me', { auth: null });
      expect(emu.requests).toEqual([
        {
          method: 'POST',
          path: '/api/metadata',
          query: { importMode: 'VALIDATE', atomicMode: 'ALL' },
          status: 200,
          auth: 'basic',
          body: { options: [] },
        },
        { method: 'GET', path: '/api/me', query: {}, status: 401, auth: 'none' },
      ]);
    });
  });

  it('a repeated parameter is logged with the value that took effect: the first', async () => {
    await withEmulator({}, async (emu) => {
      const body = { optionSets: [{ id: 'NewOptSet0Q', name: 'Q', valueType: 'TEXT' }] };
      const r = await call(emu, '/api/metadata?importMode=VALIDATE&importMode=COMMIT', { body });
      expect(r.status).toBe(200);
      expect(emu.store.get('optionSets', 'NewOptSet0Q')).toBeUndefined();
      expect(emu.requests.at(-1)!.query).toEqual({ importMode: 'VALIDATE' });
    });
  });

  it('refuses a request line and headers over 8 KB (431), as Tomcat and Jetty do', async () => {
    await withEmulator({}, async (emu) => {
      const get = (query: string, headers: Record<string, string> = {}): Promise<number> =>
        fetch(`${emu.url}/api/me?${query}`, { headers: { Authorization: BASIC, ...headers } }).then((r) => r.status);
      expect(await get(`pad=${'a'.repeat(7000)}`)).toBe(200);
      expect(await get(`pad=${'a'.repeat(8200)}`)).toBe(431);
      expect(await get('pad=a', { 'X-Pad': 'a'.repeat(8200) })).toBe(431);
      expect(await get(`pad=${'a'.repeat(4500)}`, { 'X-Pad': 'a'.repeat(4500) })).toBe(431);
      expect(emu.requests.map((r) => r.status)).toEqual([200]);
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
