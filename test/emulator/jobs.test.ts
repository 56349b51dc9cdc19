import { describe, expect, it } from 'vitest';
import type { Emulator } from './index.ts';
import { call, withEmulator, type Res } from './helpers.ts';

const CONSTANT = (id: string): unknown => ({ constants: [{ id, name: `Job constant ${id}`, value: 1 }] });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startImport(emu: Emulator, body: unknown, query = 'async=true'): Promise<string> {
  const r = await call(emu, `/api/metadata?${query}`, { body });
  expect(r.status).toBe(200);
  return r.json.response.id as string;
}

async function job(emu: Emulator, id: string): Promise<Res> {
  return call(emu, `/api/jobConfigurations/${id}`);
}

async function until(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error('condition not reached');
}

describe('async import answer by version', () => {
  it.each([
    ['2.41.3', 'JobConfigurationWebMessageResponse', 'SCHEDULED'],
    ['2.42.4', 'JobConfigurationWebMessageResponse', 'NOT_STARTED'],
    ['2.42.5.2', 'JobConfiguration', 'NOT_STARTED'],
    ['2.43.0', 'JobConfigurationWebMessageResponse', 'NOT_STARTED'],
    ['2.43.1', 'JobConfiguration', 'NOT_STARTED'],
  ])('%s: responseType %s, jobStatus %s', async (version, responseType, jobStatus) => {
    await withEmulator({ version }, async (emu) => {
      const r = await call(emu, '/api/metadata?async=true&importMode=VALIDATE', { body: CONSTANT('JobConst001') });
      expect(r.json.response.responseType).toBe(responseType);
      expect(r.json.response.jobStatus).toBe(jobStatus);
      if (version !== '2.41.3') {
        expect(r.json.message).toMatch(/^Initiated METADATA_IMPORT \(\d+\)$/);
        expect(r.json.response.jobParameters).toMatchObject({ async: true, metadataSyncImport: false });
      }
    });
  });
});

describe('job lifecycle (2.43.1)', () => {
  it('a job runs jobDurationMs and commits only when it finishes', async () => {
    await withEmulator({ version: '2.43.1', jobDurationMs: 400 }, async (emu) => {
      const id = await startImport(emu, CONSTANT('JobConst002'));
      await until(async () => (await job(emu, id)).json.jobStatus === 'RUNNING');
      expect(emu.store.get('constants', 'JobConst002')).toBeUndefined();
      const running = await call(emu, `/api/system/tasks/METADATA_IMPORT/${id}`);
      expect(running.json.some((n: { completed: boolean }) => n.completed)).toBe(false);
      expect((await call(emu, `/api/system/taskSummaries/METADATA_IMPORT/${id}`)).text).toBe('');
      await until(async () => (await job(emu, id)).json.jobStatus === 'DISABLED');
      expect(emu.store.get('constants', 'JobConst002')).toBeDefined();
      const done = (await job(emu, id)).json;
      expect(done).toMatchObject({ enabled: false, lastExecutedStatus: 'COMPLETED' });
      expect(done.lastAlive).toBeUndefined();
      const tasks = (await call(emu, `/api/system/tasks/METADATA_IMPORT/${id}`)).json;
      expect(tasks[0]).toMatchObject({ completed: true, level: 'INFO' });
      expect(tasks[0].message).toMatch(/^Import complete with status OK, 1 created/);
      expect(tasks.at(-1)).toMatchObject({ message: 'Metadata import started', dataType: 'PARAMETERS' });
    });
  });

  it('a second import waits while the first runs (one RUNNING job per type)', async () => {
    await withEmulator({ version: '2.43.1', jobDurationMs: 200 }, async (emu) => {
      const first = await startImport(emu, CONSTANT('JobConst003'));
      const second = await startImport(emu, CONSTANT('JobConst004'));
      await until(async () => (await job(emu, first)).json.jobStatus === 'RUNNING');
      expect((await job(emu, second)).json).toMatchObject({
        jobStatus: 'SCHEDULED',
        lastExecutedStatus: 'NOT_STARTED',
      });
      await until(async () => (await job(emu, second)).json.lastExecutedStatus === 'COMPLETED');
      expect(emu.store.get('constants', 'JobConst004')).toBeDefined();
    });
  });

  it('an async COMMIT that fails: ERROR task, empty summary, job FAILED, nothing kept', async () => {
    await withEmulator({ version: '2.43.1' }, async (emu) => {
      const actions = {
        programRuleActions: [
          {
            id: 'Wb8EPEWMiJO',
            programRule: { id: 'W0YQaz1qRJb' },
            programRuleActionType: 'SENDMESSAGE',
            templateUid: 'dzW10q0QMvN',
          },
        ],
      };
      const before = emu.store.snapshot();
      const id = await startImport(emu, actions);
      await until(async () => (await job(emu, id)).json.jobStatus === 'DISABLED');
      expect((await job(emu, id)).json.lastExecutedStatus).toBe('FAILED');
      const tasks = (await call(emu, `/api/system/tasks/METADATA_IMPORT/${id}`)).json;
      expect(tasks[0]).toMatchObject({ level: 'ERROR', completed: true });
      expect(tasks[0].message).toMatch(/^Process failed: org\.hibernate\.TransientPropertyValueException/);
      const summary = await call(emu, `/api/system/taskSummaries/METADATA_IMPORT/${id}`);
      expect([summary.status, summary.text]).toEqual([200, '']);
      expect(emu.store.snapshot() === before).toBe(true);
    });
  });
});

describe('the stale-job queue (2.43.1)', () => {
  it('a stale RUNNING job holds every new import SCHEDULED with tasks [] until housekeeping', async () => {
    await withEmulator({ version: '2.43.1' }, async (emu) => {
      const stale = emu.leaveStaleImportJob();
      const s = (await job(emu, stale)).json;
      expect(s).toMatchObject({ jobType: 'METADATA_IMPORT', jobStatus: 'RUNNING', lastExecutedStatus: 'NOT_STARTED' });
      expect(Date.now() - Date.parse(`${s.lastAlive}Z`)).toBeGreaterThan(5 * 60_000);
      const id = await startImport(emu, CONSTANT('JobConst005'));
      await sleep(150);
      expect((await job(emu, id)).json).toMatchObject({ jobStatus: 'SCHEDULED', lastExecutedStatus: 'NOT_STARTED' });
      expect((await call(emu, `/api/system/tasks/METADATA_IMPORT/${id}`)).json).toEqual([]);
      expect(emu.store.get('constants', 'JobConst005')).toBeUndefined();

      // What blocks: the job configurations list filtered by type and status.
      const list = await call(
        emu,
        '/api/jobConfigurations?filter=jobType:eq:METADATA_IMPORT&filter=jobStatus:eq:RUNNING&fields=id,jobStatus,lastAlive&paging=false',
      );
      expect(list.json.jobConfigurations.map((j: { id: string }) => j.id)).toEqual([stale]);

      // Cancel answers 204 but a dead job stays RUNNING; DELETE is refused.
      expect((await call(emu, `/api/jobConfigurations/${stale}/cancel`, { method: 'POST' })).status).toBe(204);
      expect((await job(emu, stale)).json.jobStatus).toBe('RUNNING');
      const del = await call(emu, `/api/jobConfigurations/${stale}`, { method: 'DELETE' });
      expect(del.status).toBe(409);
      expect(del.json.message).toBe(`Job ${stale} is a system job that cannot be deleted.`);

      expect(emu.clearStaleJobs()).toBe(1);
      expect((await job(emu, stale)).json).toMatchObject({ jobStatus: 'DISABLED', lastExecutedStatus: 'FAILED' });
      await until(async () => (await job(emu, id)).json.lastExecutedStatus === 'COMPLETED');
      expect(emu.store.get('constants', 'JobConst005')).toBeDefined();
    });
  });

  it('a cancelled queued import never runs, not even after housekeeping', async () => {
    await withEmulator({ version: '2.43.1' }, async (emu) => {
      emu.leaveStaleImportJob();
      const before = emu.store.snapshot();
      const id = await startImport(emu, CONSTANT('JobConst006'));
      expect((await call(emu, `/api/jobConfigurations/${id}/cancel`, { method: 'POST' })).status).toBe(204);
      expect((await job(emu, id)).json).toMatchObject({
        jobStatus: 'SCHEDULED',
        enabled: false,
        lastExecutedStatus: 'STOPPED',
      });
      emu.clearStaleJobs();
      await sleep(150);
      expect((await job(emu, id)).json).toMatchObject({ jobStatus: 'DISABLED', lastExecutedStatus: 'STOPPED' });
      expect((await call(emu, `/api/system/tasks/METADATA_IMPORT/${id}`)).json).toEqual([]);
      expect(emu.store.snapshot() === before).toBe(true);
      expect((await call(emu, '/api/jobConfigurations/NoSuchJob01/cancel', { method: 'POST' })).status).toBe(404);
    });
  });

  it('is not emulated before 2.41', async () => {
    await withEmulator({ version: '2.40.2' }, async (emu) => {
      expect(() => emu.leaveStaleImportJob()).toThrow(/2\.41/);
    });
  });
});

describe('imports on 2.42+/2.43', () => {
  const action = (id: string): unknown => ({
    programRuleActions: [
      { id, programRule: { id: 'W0YQaz1qRJb' }, programRuleActionType: 'SENDMESSAGE', templateUid: 'dzW10q0QMvN' },
    ],
  });

  it('templateUid: updating a stored action fails (409, message only) from 2.42, creating one works', async () => {
    for (const [version, status] of [
      ['2.41.3', 200],
      ['2.42.5.2', 409],
      ['2.43.1', 409],
    ] as const) {
      await withEmulator({ version }, async (emu) => {
        const r = await call(emu, '/api/metadata', { body: action('Wb8EPEWMiJO') });
        expect(r.status, version).toBe(status);
        if (status === 409) {
          expect(Object.keys(r.json).sort()).toEqual(['httpStatus', 'httpStatusCode', 'message', 'status']);
          expect(r.json.status).toBe('ERROR');
        }
        const created = await call(emu, '/api/metadata', { body: action('JobAction01') });
        expect(created.status, version).toBe(200);
        expect(emu.store.get('programRuleActions', 'JobAction01')).toBeDefined();
      });
    }
  });

  it('a COMMIT that updates a program or an option set bumps an unchanged version (VersionedObjectObjectBundleHook)', async () => {
    await withEmulator({ version: '2.43.1' }, async (emu) => {
      const program = emu.store.get('programs', 'yDuAzyqYABS')!;
      const optionSet = emu.store.list('optionSets')[0]!;
      const pv = typeof program.version === 'number' ? program.version : 0;
      const ov = typeof optionSet.version === 'number' ? optionSet.version : 0;
      const r = await call(emu, '/api/metadata?importReportMode=FULL', {
        body: { programs: [program], optionSets: [optionSet] },
      });
      expect(r.status).toBe(200);
      expect(emu.store.get('programs', 'yDuAzyqYABS')!.version).toBe(pv + 1);
      expect(emu.store.get('optionSets', optionSet.id as string)!.version).toBe(ov + 1);
      // A higher stored version wins over a lower one in the payload.
      await call(emu, '/api/metadata', { body: { programs: [{ ...program, version: 0 }] } });
      expect(emu.store.get('programs', 'yDuAzyqYABS')!.version).toBe(Math.max(pv + 1, 0));
      // VALIDATE changes nothing.
      await call(emu, '/api/metadata?importMode=VALIDATE', { body: { programs: [program] } });
      expect(emu.store.get('programs', 'yDuAzyqYABS')!.version).toBe(Math.max(pv + 1, 0));
    });
  });

  it('2.43 auth: 302 to /login/ without credentials, 401 for XHR, 400 for an unknown token; 2.42 keeps 401', async () => {
    await withEmulator({ version: '2.43.1' }, async (emu) => {
      const none = await call(emu, '/api/me', { auth: null, redirect: 'manual' });
      expect(none.status).toBe(302);
      expect(none.headers.get('location')).toBe(`${emu.url}/login/`);
      expect((await call(emu, '/login/', { auth: null })).status).toBe(200);
      const bad = await call(emu, '/api/me', { auth: 'ApiToken d2p_notAToken' });
      expect([bad.status, bad.json.message]).toEqual([400, 'Checksum validation failed']);
    });
    await withEmulator({ version: '2.42.5.2' }, async (emu) => {
      expect((await call(emu, '/api/me', { auth: null, redirect: 'manual' })).status).toBe(401);
      expect((await call(emu, '/api/me', { auth: 'ApiToken d2p_notAToken' })).status).toBe(401);
    });
  });
});
