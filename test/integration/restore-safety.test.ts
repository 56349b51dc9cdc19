/**
 * Restore under pressure, against the emulator at DHIS2 2.43.1: two restores of one program never
 * interleave (a lock in the dataStore), a restore whose result the server does not hold says WARNING, and
 * an interrupted multi-program restore says what it imported and where the rollback point is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.ts';
import { runAction } from '../helpers/run-action.ts';
import { editProgramFile as edit, exportedWorkspace } from '../helpers/program-files.ts';

const COVAC = 'yDuAzyqYABS';
const TA = 'f1AyMswryyQ';
const LOCKS = 'dhis2-metadata-locks';

let emulator: Emulator;
let cleanup: (() => void)[] = [];
afterEach(async () => {
  await emulator?.close();
  cleanup.forEach((f) => f());
  cleanup = [];
});

async function start(options: EmulatorOptions = {}) {
  emulator = await startEmulator({ version: '2.43.1', ...options });
}

const creds = () => ({ 'server-url': emulator.url, username: 'admin', password: 'district' });

const exported = (programs: string[]) => exportedWorkspace(creds(), programs, cleanup);

const restore = (dir: string, extra: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runAction(
    { command: 'restore', ...creds(), ...extra },
    { workspace: dir, env: { GITHUB_REPOSITORY: 'acme/dhis2-config', GITHUB_RUN_ID: '777', ...env } },
  );

async function waitFor(ok: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('two restores of one program never interleave', () => {
  it('the second waits a bounded time, then fails naming the holder; nothing of it is imported', async () => {
    await start({ jobDurationMs: 2500 });
    const first = await exported([COVAC]);
    edit(first, COVAC, (doc) => (doc.dataElements[0].formName = 'First restore'));
    const second = await exported([COVAC]);
    edit(second, COVAC, (doc) => (doc.dataElements[0].formName = 'Second restore'));

    const a = restore(first, {}, { GITHUB_ACTOR: 'alice', GITHUB_RUN_ID: '1001' });
    await waitFor(() => emulator.dataStore.get(LOCKS)?.has(`restore-${COVAC}`) === true);
    const b = await restore(second, { 'import-timeout': '1' }, { GITHUB_ACTOR: 'bob', GITHUB_RUN_ID: '1002' });
    expect(b.code).toBe(1);
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0]).toMatch(
      new RegExp(
        `restore of program ${COVAC} on .* is locked by alice in acme/dhis2-config \\(https://github.com/acme/dhis2-config/actions/runs/1001\\) since`,
      ),
    );
    const ra = await a;
    expect(ra.errors).toEqual([]);
    expect(ra.code).toBe(0);
    expect(emulator.store.list('dataElements').some((d) => d.formName === 'First restore')).toBe(true);
    expect(emulator.store.list('dataElements').some((d) => d.formName === 'Second restore')).toBe(false);
    // Released when done.
    expect(emulator.dataStore.get(LOCKS)?.has(`restore-${COVAC}`) ?? false).toBe(false);
  });

  it('a second restore that may wait long enough runs after the first, against what the first left', async () => {
    await start({ jobDurationMs: 1500 });
    const first = await exported([COVAC]);
    edit(first, COVAC, (doc) => (doc.dataElements[0].formName = 'First restore'));
    const second = await exported([COVAC]);
    edit(second, COVAC, (doc) => (doc.dataElements[1].formName = 'Second restore'));
    const from = emulator.requests.length;
    const a = restore(first);
    await waitFor(() => emulator.dataStore.get(LOCKS)?.has(`restore-${COVAC}`) === true);
    const [ra, rb] = await Promise.all([a, restore(second, { 'import-timeout': '60' })]);
    expect(ra.code).toBe(0);
    expect(rb.errors).toEqual([]);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain('waiting for the lock held by');
    // The second planned after the first had finished: its file still has the first's data element as it
    // was, so it puts it back (it is the file that wins), and its own change lands.
    const des = emulator.store.list('dataElements');
    expect(des.some((d) => d.formName === 'Second restore')).toBe(true);
    expect(des.some((d) => d.formName === 'First restore')).toBe(false);
    // Never interleaved: the second read the program to plan only after the first had committed, verified
    // and released its lock.
    const log = emulator.requests.slice(from).map((r) => `${r.method} ${r.path}`);
    const reads = log.flatMap((l, i) => (l === `GET /api/programs/${COVAC}/metadata.json` ? [i] : []));
    const commits = emulator.requests
      .slice(from)
      .flatMap((r, i) => (r.method === 'POST' && r.query.importMode === 'COMMIT' ? [i] : []));
    const released = log.findIndex((l) => l === `DELETE /api/dataStore/${LOCKS}/restore-${COVAC}`);
    expect(reads).toHaveLength(2);
    expect(commits).toHaveLength(2);
    expect(commits[0]!).toBeLessThan(released);
    expect(released).toBeLessThan(reads[1]!);
  });

  it('an expired lock (a holder that died) does not block', async () => {
    await start();
    const dir = await exported([COVAC]);
    edit(dir, COVAC, (doc) => (doc.dataElements[0].formName = 'After a dead run'));
    emulator.dataStore.set(
      LOCKS,
      new Map([
        [
          `restore-${COVAC}`,
          {
            owner: 'a runner that was killed',
            purpose: 'restore',
            acquired: '2026-01-01T00:00:00.000Z',
            expires: '2026-01-01T01:00:00.000Z',
            token: 'dead',
          },
        ],
      ]),
    );
    const r = await restore(dir, { 'import-timeout': '5' });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(emulator.dataStore.get(LOCKS)?.has(`restore-${COVAC}`) ?? false).toBe(false);
  });
});

describe('verification', () => {
  it('a restored object the server no longer holds as sent makes the status WARNING, not OK', async () => {
    await start();
    const dir = await exported([COVAC]);
    let deId = '';
    edit(dir, COVAC, (doc) => {
      deId = doc.dataElements[0].id;
      doc.dataElements[0].formName = 'Restored form name';
    });
    // Someone changes the data element again between the import and the verification's read of it.
    emulator.addFault({ method: 'GET', path: '/api/dataElements', fault: { kind: 'latency', ms: 1500 } });
    const running = restore(dir);
    await waitFor(() => emulator.requests.some((r) => r.path.startsWith('/api/system/taskSummaries/')));
    emulator.store.put('dataElements', { ...emulator.store.get('dataElements', deId)!, formName: 'Changed meanwhile' });
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.outputs.status).toBe('WARNING');
    expect(r.stdout).toMatch(
      new RegExp(`::warning::program ${COVAC}: dataElements ${deId} differs after the restore: formName`),
    );
  });
});

describe('an interrupted restore (Ctrl-C, a cancelled workflow)', () => {
  it('says which programs were imported and where the rollback point is, then exits 130', async () => {
    await start({ jobDurationMs: 3000 });
    const dir = await exported([COVAC, TA]);
    edit(dir, COVAC, (doc) => (doc.dataElements[0].formName = 'Interrupted run, first program'));
    edit(dir, TA, (doc) => (doc.dataElements[0].formName = 'Interrupted run, second program'));
    const r = await runAction(
      { command: 'restore', ...creds() },
      // The programs go in config order: COVAC first. Interrupt once it is done and the next one runs.
      { workspace: dir, interrupt: { when: new RegExp(`\\(${COVAC}\\): OK`) } },
    );
    expect(r.code).toBe(130);
    const line = r.errors.find((e) => e.includes('restore interrupted'));
    expect(line).toContain(`restore interrupted (SIGINT): imported ${COVAC}.`);
    expect(line).toContain(`Program ${TA} was being imported: its import job may still run on the server`);
    expect(line).toMatch(/Rollback points: .*yDuAzyqYABS\.json/);
    // The locks: released on the way out when TA's import had not been sent yet at the signal; left to expire
    // (both, saying so) when it had, since its job may still run (issue 17, 4; restore-lock.test.ts).
    const left = r.stdout.includes('not released: the run stopped while an import job was running');
    expect(emulator.dataStore.get(LOCKS)?.size ?? 0).toBe(left ? 2 : 0);
  });
});
