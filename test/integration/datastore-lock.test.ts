/**
 * The restore lock (src/dhis2/datastore-lock.ts) against the DHIS2 emulator's dataStore (2.43.1: POST 201 / 409
 * when the key exists, PUT replaces, DELETE 200 / 404, as dhis2-api.md and real-2.43.1/datastore-*.json record it):
 * a takeover of an expired lock is won by one run only, even when one run's write is delayed (issue 17, 5); a
 * record that is no lock of ours blocks nothing and is named in a warning (issue 17, 6); a lock left behind for
 * a job that may still run holds until its written expiry (issue 17, 4), and a held lock is renewed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Dhis2Client } from '../../src/dhis2/client.ts';
import {
  acquireLock,
  LOCK_NAMESPACE,
  LockHeldError,
  type HeldLock,
  type LockOptions,
} from '../../src/dhis2/datastore-lock.ts';
import { graceMs, ImportJobError, mayStillChange, type JobWait } from '../../src/dhis2/import-job.ts';
import { LONGEST_RESTORE_LOCK_MS, restoreLockTtlMs } from '../../src/commands/restore.ts';
import { ConfigError, Dhis2Error } from '../../src/errors.ts';
import { startEmulator, type Emulator } from '../emulator/index.ts';

const KEY = 'restore-Lt6P15ps7f6';
const HOUR = 3_600_000;

let emu: Emulator;
afterEach(async () => {
  await emu?.close();
});

async function store(version = '2.43.1') {
  emu = await startEmulator({ version });
  return connect();
}

async function connect() {
  const client = await Dhis2Client.connect({
    url: emu.url,
    auth: { kind: 'basic', username: 'admin', password: 'district' },
  });
  return client.dataStore;
}

const options = (over: Partial<LockOptions> = {}): LockOptions & { warnings: string[]; lines: string[] } => {
  const warnings: string[] = [];
  const lines: string[] = [];
  return {
    owner: 'a test',
    purpose: 'restore of program Lt6P15ps7f6',
    ttlMs: HOUR,
    maxTtlMs: 2 * HOUR,
    waitMs: 3000,
    pollMs: 100,
    confirmMs: 300,
    warn: (m) => warnings.push(m),
    progress: (m) => lines.push(m),
    ...over,
    warnings,
    lines,
  };
};

const stored = () => emu.dataStore.get(LOCK_NAMESPACE)?.get(KEY) as Record<string, unknown> | undefined;
const plant = (value: unknown) => emu.dataStore.set(LOCK_NAMESPACE, new Map([[KEY, value]]));
const deadLock = () => ({
  owner: 'a runner that was killed',
  purpose: 'restore',
  acquired: '2026-01-01T00:00:00.000Z',
  expires: '2026-01-01T01:00:00.000Z',
  token: 'dead',
});

/** Runs both acquisitions at once; the winners release only after both have ended (so none can follow). */
async function race(a: Promise<HeldLock>, b: Promise<HeldLock>) {
  const results = await Promise.allSettled([a, b]);
  const held = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  return { held, refused };
}

describe('taking over an expired lock cannot be won twice', () => {
  it("two runs race for a dead holder's lock, one PUT delayed by 1 s: exactly one holds it", async () => {
    const ds = await store();
    plant(deadLock());
    emu.addFault({ method: 'PUT', path: /dataStore/, fault: { kind: 'latency', ms: 1000, when: 'before' } });
    const { held, refused } = await race(
      acquireLock(ds, KEY, options({ owner: 'run A' })),
      acquireLock(await connect(), KEY, options({ owner: 'run B' })),
    );
    expect(held).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(LockHeldError);
    // The record is the winner's: its release removes it.
    await held[0]!.release();
    expect(stored()).toBeUndefined();
  });

  for (const method of ['POST', 'DELETE', 'GET']) {
    it(`the same race with one ${method} to the dataStore delayed by 1 s: exactly one holds it`, async () => {
      const ds = await store();
      plant(deadLock());
      emu.addFault({ method, path: /dataStore/, fault: { kind: 'latency', ms: 1000, when: 'before' } });
      const { held, refused } = await race(
        acquireLock(ds, KEY, options({ owner: 'run A' })),
        acquireLock(await connect(), KEY, options({ owner: 'run B' })),
      );
      expect(held).toHaveLength(1);
      expect(refused.map((e) => e.constructor.name)).toEqual(['LockHeldError']);
      // No takeover claim is left behind in the namespace.
      expect([...(emu.dataStore.get(LOCK_NAMESPACE)?.keys() ?? [])]).toEqual([KEY]);
    });
  }

  it('three runs race, every write delayed by a random 0-800 ms: exactly one holds it', async () => {
    await store();
    plant(deadLock());
    for (const method of ['POST', 'PUT', 'DELETE']) {
      for (let n = 1; n <= 12; n++) {
        const ms = Math.floor(Math.random() * 800);
        emu.addFault({ method, path: /dataStore/, nth: n, fault: { kind: 'latency', ms, when: 'before' } });
      }
    }
    const runs = await Promise.allSettled(
      ['A', 'B', 'C'].map(async (name) =>
        acquireLock(await connect(), KEY, options({ owner: `run ${name}`, waitMs: 4000 })),
      ),
    );
    expect(runs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('a run that finds the lock being taken over waits for the new holder instead of taking it too', async () => {
    const ds = await store();
    plant(deadLock());
    const first = await acquireLock(ds, KEY, options({ owner: 'run A' }));
    const second = acquireLock(await connect(), KEY, options({ owner: 'run B', waitMs: 1000 }));
    await expect(second).rejects.toThrow(/is locked by run A/);
    await first.release();
  });
});

describe('a record that is no lock of ours blocks nothing', () => {
  const shapes: [string, unknown, RegExp][] = [
    [
      'an expiry in the year 2999',
      { ...deadLock(), owner: 'mallory', token: 't', expires: '2999-01-01T00:00:00.000Z' },
      /expires 2999-01-01T00:00:00.000Z, later than any lock of this tool/,
    ],
    [
      'an expiry that is no date',
      { ...deadLock(), owner: 'mallory', token: 't', expires: 'soon' },
      /no expiry that is a date/,
    ],
    ['a value that is not an object', 'locked by mallory', /not an object/],
    ['an array', [1, 2, 3], /not an object/],
    ['null', null, /not an object/],
    ['no token', { owner: 'mallory', expires: new Date(Date.now() + 60_000).toISOString() }, /no token/],
    ['no owner', { token: 't', expires: new Date(Date.now() + 60_000).toISOString() }, /no owner/],
  ];
  for (const [what, value, why] of shapes) {
    it(`${what}: named in a warning and replaced`, async () => {
      const ds = await store();
      plant(value);
      const o = options({ waitMs: 2000 });
      const started = Date.now();
      const lock = await acquireLock(ds, KEY, o);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(o.warnings).toHaveLength(1);
      expect(o.warnings[0]).toContain(`${LOCK_NAMESPACE}/${KEY} holds no lock of this tool`);
      expect(o.warnings[0]).toMatch(why);
      expect(o.warnings[0]).toContain('it blocks nothing and is replaced');
      expect(stored()?.owner).toBe('a test');
      await lock.release();
    });
  }

  it('the text of a planted record is cut short and never starts a workflow command', async () => {
    const ds = await store();
    plant(`::error::forged\n::add-mask::x ${'y'.repeat(5000)}`);
    const o = options();
    await (await acquireLock(ds, KEY, o)).release();
    expect(o.warnings[0]!.length).toBeLessThan(400);
    expect(o.warnings[0]).not.toContain('\n');
    expect(o.warnings[0]).not.toMatch(/^::/);
  });

  it('a valid lock of another run within the longest we take still blocks', async () => {
    const ds = await store();
    plant({ ...deadLock(), owner: 'alice', token: 'live', expires: new Date(Date.now() + HOUR).toISOString() });
    const o = options({ waitMs: 800 });
    await expect(acquireLock(ds, KEY, o)).rejects.toThrow(/is locked by alice/);
    expect(o.warnings).toEqual([]);
    expect(stored()?.token).toBe('live');
  });
});

describe('a held lock', () => {
  it('is renewed while held, so a long restore never loses it to a takeover', async () => {
    const ds = await store();
    const lock = await acquireLock(ds, KEY, options({ ttlMs: 1200, renewMs: 200 }));
    const first = String(stored()?.expires);
    await new Promise((r) => setTimeout(r, 1600));
    expect(Date.parse(String(stored()?.expires))).toBeGreaterThan(Date.parse(first));
    await expect(acquireLock(await connect(), KEY, options({ owner: 'run B', waitMs: 500 }))).rejects.toThrow(
      LockHeldError,
    );
    await lock.release();
    expect(stored()).toBeUndefined();
  });

  it('left for a job that may still run: stays with a later expiry, a note, and is no longer renewed', async () => {
    const ds = await store();
    const lock = await acquireLock(ds, KEY, options({ ttlMs: 60_000, renewMs: 100 }));
    const until = await lock.leave(2 * HOUR, 'its import job may still run');
    expect(until).toBeInstanceOf(Date);
    expect(Math.abs(until!.getTime() - (Date.now() + 2 * HOUR))).toBeLessThan(5000);
    expect(stored()?.expires).toBe(until!.toISOString());
    expect(stored()?.note).toBe('its import job may still run');
    const written = JSON.stringify(stored());
    await new Promise((r) => setTimeout(r, 400));
    expect(JSON.stringify(stored())).toBe(written);
    await lock.release(); // a no-op after leave
    expect(stored()).toBeDefined();
    const o = options({ owner: 'run B', waitMs: 500, maxTtlMs: 3 * HOUR });
    await expect(acquireLock(await connect(), KEY, o)).rejects.toThrow(/may still run/);
  });

  it('works on DHIS2 2.40 too (PUT does not create a missing key there)', async () => {
    const ds = await store('2.40.3');
    plant(deadLock());
    const lock = await acquireLock(ds, KEY, options({ ttlMs: 1200, renewMs: 200 }));
    await new Promise((r) => setTimeout(r, 500));
    expect(stored()?.owner).toBe('a test');
    await lock.release();
    expect(stored()).toBeUndefined();
  });
});

describe('the expiry rule (issue 17, 4)', () => {
  const wait = (seconds: number): JobWait => ({
    asyncTimeoutMs: seconds * 1000,
    pollIntervalMs: 1000,
    startTimeoutMs: 1000,
    progressIntervalMs: 1000,
  });
  it('a restore lock holds past the longest one import job is followed, twice over, plus 10 minutes', () => {
    for (const seconds of [1, 60, 1800, 3600, 6 * 3600]) {
      const followed = seconds * 1000 + graceMs(wait(seconds));
      expect(restoreLockTtlMs(seconds * 1000)).toBe(2 * followed + 10 * 60_000);
      expect(restoreLockTtlMs(seconds * 1000)).toBeLessThanOrEqual(LONGEST_RESTORE_LOCK_MS);
    }
    // The default import-timeout (1800 s): 80 minutes. No run writes a lock longer than 12 h 20 min.
    expect(restoreLockTtlMs(1_800_000)).toBe(80 * 60_000);
    expect(LONGEST_RESTORE_LOCK_MS).toBe(restoreLockTtlMs(10 * HOUR));
    expect(LONGEST_RESTORE_LOCK_MS).toBe(12 * HOUR + 20 * 60_000);
  });

  it('what an import that threw may still do: only a job or request known to be over lets the lock go', () => {
    expect(mayStillChange(new ImportJobError('still running', 'still-running', true))).toBe(true);
    expect(mayStillChange(new ImportJobError('queued, not cancelled', 'not-started', true))).toBe(true);
    expect(mayStillChange(new ImportJobError('failed', 'failed', false))).toBe(false);
    expect(mayStillChange(new ImportJobError('cancelled before it started', 'not-started', false))).toBe(false);
    expect(mayStillChange(new ImportJobError('vanished', 'vanished', false))).toBe(false);
    expect(mayStillChange(new Dhis2Error('refused', 403))).toBe(false);
    expect(mayStillChange(new Dhis2Error('bad gateway', 502))).toBe(true);
    expect(mayStillChange(new Dhis2Error('no answer'))).toBe(true);
    expect(mayStillChange(new ConfigError('not a JSON object'))).toBe(false);
    expect(mayStillChange(new TypeError('a bug after the request'))).toBe(true);
  });
});
