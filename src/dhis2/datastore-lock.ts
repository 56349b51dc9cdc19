/**
 * A lock in the DHIS2 dataStore, so that two restores of the same program on the same server never
 * interleave (two merges in a row, a re-run next to a run, a CLI run next to the workflow). The record says
 * who holds it, from which run, and until when: a holder that died (a killed runner) stops blocking once its
 * lock expires. A live holder renews it, so the expiry only has to cover what can happen once it is gone.
 *
 * The dataStore has no compare-and-set: PUT and DELETE act whatever the key holds. Its one atomic step is POST
 * of a key that exists, which answers 409 (dhis2-api.md; recorded in real-2.43.1/datastore-post-existing.json):
 * the row has a unique constraint on (namespace, key) (dhis2-core DatastoreEntry.hbm.xml,
 * keyjsonvalue_unique_key_in_namespace), so of two concurrent creates one fails even when both passed
 * DefaultDatastoreService.addEntry's "already exists" check. Everything here rests on that step:
 *
 * - a free key is taken with POST: won by exactly one run;
 * - a record that is expired, or no lock of ours at all, is taken over through a CLAIM: a key named after the
 *   exact value seen (`<key>.takeover-<fingerprint>`), created with POST. Only the one run that created it may
 *   replace that value, and only if the key still holds it: it deletes the old record and creates its own,
 *   again with POST (never PUT, which would overwrite whoever took the key meanwhile). Then it confirms twice,
 *   each after a delay longer than its writes took, that the record is still its own, and removes the claim.
 *   Every other run meets the claim (409) and backs off with jitter; once the new record is there it waits
 *   for it like any other lock. A delayed write cannot make a second winner: a late POST of a claim or of the
 *   lock answers 409, and a late DELETE can only remove the value its claim was for (nobody else may change it
 *   while the claim stands). A claim whose run died mid-takeover expires after CLAIM_TTL_MS; the next run then
 *   claims the next generation (`...-2`, `-3`).
 */
import { createHash, randomUUID } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import { Dhis2Error, UserError } from '../errors.ts';
import type { DataStore } from './datastore.ts';
import { isRecord } from './json.ts';
import { redact } from '../util/secrets.ts';

export const LOCK_NAMESPACE = 'dhis2-metadata-locks';

/** How long a takeover claim stands: far longer than its run needs to replace the record and confirm. */
const CLAIM_TTL_MS = 10 * 60_000;
/** A claim older than this when its run is about to delete the old record: the run gives up instead. */
const CLAIM_ACT_MS = 2 * 60_000;
/** Claims of dead (or planted) takeovers walked past before backing off for this round. */
const CLAIM_GENERATIONS = 20;
/** The clocks of two runners (or a workstation) may differ: an expiry this much further ahead still counts. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Of a record that is not ours, this many characters go into the warning (it is data, not ours). */
const EXCERPT = 80;

export interface LockRecord {
  /** Who holds it: the workflow run's actor and repository, or user@host for the CLI. */
  owner: string;
  /** A link to the run, when there is one. */
  run?: string;
  /** What it is held for, e.g. "restore of program Lt6P15ps7f6". */
  purpose: string;
  acquired: string;
  expires: string;
  /** Unique per acquisition: tells our record from another holder's. */
  token: string;
  /** Why it is still there, for a lock left to expire (an import job that may still run). */
  note?: string;
}

export interface LockOptions {
  owner: string;
  run?: string;
  purpose: string;
  /** How long the record holds after its holder last wrote it (renewed every renewMs while held). */
  ttlMs: number;
  /** The longest ttlMs or hold (leave) of any run of this tool: a record expiring later is none of ours. */
  maxTtlMs: number;
  /** Time between two renewals (default: a quarter of ttlMs, at most 5 minutes). */
  renewMs?: number;
  /** How long to wait for a held lock before giving up. */
  waitMs: number;
  pollMs: number;
  /** The least wait before each of the two reads that confirm a takeover (default 2 s). */
  confirmMs?: number;
  /** A line while waiting. */
  progress?: (message: string) => void;
  /** A warning: a record that is no lock of ours, a lock lost while held. */
  warn?: (message: string) => void;
}

export interface HeldLock {
  key: string;
  /** Until when the record holds, as last written. */
  readonly expires: Date;
  /** Removes the record (only our own: a lock that expired and was taken over is the new holder's). */
  release(): Promise<void>;
  /**
   * Stops renewing and leaves the record to expire, its expiry moved to now + holdMs (never earlier than it
   * was) with the note saying why. Returns that expiry, or undefined when the record is no longer ours.
   */
  leave(holdMs: number, note: string): Promise<Date | undefined>;
}

export class LockHeldError extends UserError {}

/** A stored value as this tool sees it. */
type Judged =
  | { state: 'absent' }
  | { state: 'valid'; record: LockRecord }
  | { state: 'expired'; record: LockRecord }
  | { state: 'invalid'; why: string };

/** Text of a record anyone may write, short and on one line: redacted first, so no cut leaves a secret's start. */
function clip(text: string, max = 120): string {
  const flat = redact(text).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

function describe(r: LockRecord): string {
  const run = typeof r.run === 'string' && r.run ? ` (${clip(r.run)})` : '';
  const since = typeof r.acquired === 'string' ? ` since ${clip(r.acquired, 40)}` : '';
  const note = typeof r.note === 'string' && r.note ? ` (${clip(r.note)})` : '';
  return `${clip(r.owner)}${run}${since}, until ${r.expires} at the latest${note}`;
}

/**
 * Whether a stored value is a lock of this tool: an object with an owner, a token and an expiry that is a
 * date no further ahead than the longest lock any run of ours writes (plus clock skew). Anything else, even
 * a record made to look like ours, blocks nothing (issue 17, 6).
 */
function judge(value: unknown, maxTtlMs: number, now = Date.now()): Judged {
  if (value === undefined) return { state: 'absent' };
  if (!isRecord(value)) return { state: 'invalid', why: 'not an object' };
  if (typeof value.owner !== 'string' || !value.owner.trim()) return { state: 'invalid', why: 'no owner' };
  if (typeof value.token !== 'string' || !value.token) return { state: 'invalid', why: 'no token' };
  const expires = typeof value.expires === 'string' ? Date.parse(value.expires) : NaN;
  if (!Number.isFinite(expires)) return { state: 'invalid', why: 'no expiry that is a date' };
  if (expires > now + maxTtlMs + CLOCK_SKEW_MS) {
    return {
      state: 'invalid',
      why: `expires ${clip(String(value.expires), 40)}, later than any lock of this tool can (${Math.round(maxTtlMs / 60_000)} min from now)`,
    };
  }
  const record = { ...value, expires: new Date(expires).toISOString() } as unknown as LockRecord;
  return { state: expires <= now ? 'expired' : 'valid', record };
}

/** The exact value seen, whatever it is: two runs that read the same value name the same claim. */
function fingerprint(value: unknown): string {
  return createHash('sha256')
    .update(stringify(value) ?? 'undefined')
    .digest('hex')
    .slice(0, 20);
}

function excerpt(value: unknown): string {
  const text = (typeof value === 'string' ? JSON.stringify(value) : stringify(value)) ?? String(value);
  return clip(text, EXCERPT);
}

/** POST: 'created', 'exists' (409), or 'unknown' (no answer, or a 5xx: the create may have landed). */
async function create(store: DataStore, key: string, value: unknown): Promise<'created' | 'exists' | 'unknown'> {
  try {
    await store.create(LOCK_NAMESPACE, key, value);
    return 'created';
  } catch (e) {
    if (!(e instanceof Dhis2Error)) throw e;
    if (e.status === 409) return 'exists';
    // Two concurrent creates can also end in a 500 for the one the unique constraint refused.
    if (e.status === undefined || e.status >= 500) return 'unknown';
    throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A wait of about ms (half to one and a half), so two runs that back off together do not retry together. */
function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}

export async function acquireLock(store: DataStore, key: string, options: LockOptions): Promise<HeldLock> {
  const started = Date.now();
  let lastSaid = 0;
  const warned = new Set<string>();
  const token = randomUUID();
  const fresh = (): LockRecord => {
    const now = Date.now();
    return {
      owner: options.owner,
      purpose: options.purpose,
      acquired: new Date(now).toISOString(),
      expires: new Date(now + options.ttlMs).toISOString(),
      token,
      ...(options.run ? { run: options.run } : {}),
    };
  };
  for (;;) {
    await create(store, key, fresh());
    // Read back whatever the create answered: ours only if the stored record is (a 201 in a namespace DHIS2
    // hides stores nothing; a lost answer or a 5xx may have stored it).
    const seenAt = Date.now();
    const value = await store.get<unknown>(LOCK_NAMESPACE, key);
    if (isRecord(value) && value.token === token) return held(store, key, value as unknown as LockRecord, options);
    const seen = judge(value, options.maxTtlMs);
    if (seen.state === 'invalid' || seen.state === 'expired') {
      const print = fingerprint(value);
      if (seen.state === 'invalid' && !warned.has(print)) {
        warned.add(print);
        options.warn?.(
          `dataStore ${LOCK_NAMESPACE}/${key} holds no lock of this tool (${seen.why}): ${excerpt(value)}; ` +
            'it blocks nothing and is replaced',
        );
      }
      if (seen.state === 'expired' && !warned.has(print)) {
        warned.add(print);
        options.progress?.(`${options.purpose}: taking over the expired lock of ${describe(seen.record)}`);
      }
      const won = await takeOver(store, key, print, seenAt, fresh(), options);
      if (won) return held(store, key, won, options);
    }
    const waited = Date.now() - started;
    const holder = seen.state === 'valid' ? seen.record : undefined;
    if (waited >= options.waitMs) {
      throw new LockHeldError(
        `${options.purpose} is locked by ${holder ? describe(holder) : 'another run'}: waited ${Math.round(waited / 1000)} s. ` +
          `Run again when it has finished (the lock is dataStore ${LOCK_NAMESPACE}/${key}; delete it only if that run is gone)`,
      );
    }
    if (holder && Date.now() - lastSaid >= 10_000) {
      lastSaid = Date.now();
      options.progress?.(`${options.purpose}: waiting for the lock held by ${describe(holder)}`);
    }
    // A key found absent was released between our create and our read: try again soon.
    await sleep(jitter(seen.state === 'absent' ? Math.min(options.pollMs, 250) : options.pollMs));
  }
}

/** A claim of another run that still stands: its run is replacing the record, so we back off. */
function liveClaim(value: unknown, now = Date.now()): boolean {
  if (!isRecord(value) || typeof value.token !== 'string' || typeof value.expires !== 'string') return false;
  const expires = Date.parse(value.expires);
  return Number.isFinite(expires) && expires > now && expires <= now + CLAIM_TTL_MS + CLOCK_SKEW_MS;
}

/**
 * Replaces the value seen at `key` (its fingerprint `print`) with `mine`, if this run is the one that claims it. Returns the
 * record now held, or undefined when another run claims it, the value changed, or the new record is not ours.
 */
async function takeOver(
  store: DataStore,
  key: string,
  print: string,
  seenAt: number,
  mine: LockRecord,
  options: LockOptions,
): Promise<LockRecord | undefined> {
  let claimKey: string | undefined;
  let slowest = 0;
  const timed = async <T>(step: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await step();
    } finally {
      slowest = Math.max(slowest, Date.now() - t);
    }
  };
  for (let generation = 1, tries = 0; generation <= CLAIM_GENERATIONS && tries < 2 * CLAIM_GENERATIONS; tries++) {
    const candidate = `${key}.takeover-${print}${generation > 1 ? `-${generation}` : ''}`;
    const now = Date.now();
    const claim = {
      owner: options.owner,
      purpose: `takeover of ${LOCK_NAMESPACE}/${key}`,
      acquired: new Date(now).toISOString(),
      expires: new Date(now + CLAIM_TTL_MS).toISOString(),
      token: mine.token,
    };
    const made = await timed(() => create(store, candidate, claim));
    if (made === 'created') {
      claimKey = candidate;
      break;
    }
    const existing = await store.get<unknown>(LOCK_NAMESPACE, candidate);
    if (isRecord(existing) && existing.token === mine.token) {
      claimKey = candidate;
      break;
    }
    if (existing === undefined) continue; // removed by its run meanwhile: the same name again
    if (liveClaim(existing)) return undefined; // another run is taking it over
    generation++; // the claim of a run that died mid-takeover (or a planted one): the next generation
  }
  if (!claimKey) return undefined;
  const dropClaim = () => store.remove(LOCK_NAMESPACE, claimKey).catch(() => false);
  try {
    // Only the value the claim is for, and only soon after it was seen: a decision that old is not acted on.
    if (Date.now() - seenAt > CLAIM_ACT_MS) return undefined;
    const now = await store.get<unknown>(LOCK_NAMESPACE, key);
    if (now === undefined || fingerprint(now) !== print) return undefined;
    await timed(() => store.remove(LOCK_NAMESPACE, key));
    const record: LockRecord = {
      ...mine,
      acquired: new Date().toISOString(),
      expires: new Date(Date.now() + options.ttlMs).toISOString(),
    };
    const made = await timed(() => create(store, key, record));
    if (made === 'exists') return undefined; // another run took the free key first: it holds it
    // Confirm twice, each after longer than any of our writes took: a write of another run that was under way
    // (whatever made it) has landed by then, and we would see it.
    for (let i = 0; i < 2; i++) {
      await sleep(Math.max(options.confirmMs ?? 2000, 2 * slowest));
      const after = await store.get<unknown>(LOCK_NAMESPACE, key);
      if (!isRecord(after) || after.token !== record.token) return undefined;
    }
    return record;
  } finally {
    // Safe at once: a run that claims the same value again re-reads the key first and finds ours.
    await dropClaim();
  }
}

/** The lock held: renewed every renewMs until released or left. */
function held(store: DataStore, key: string, record: LockRecord, options: LockOptions): HeldLock {
  let current = record;
  let stopped = false;
  let lost = false;
  /** Released or left: the record is no longer ours to touch. */
  let ended = false;
  let pending: Promise<void> = Promise.resolve();
  const renewMs = options.renewMs ?? Math.min(options.ttlMs / 4, 5 * 60_000);
  const ours = (value: unknown) => isRecord(value) && value.token === current.token;
  const loseIt = (why: string) => {
    lost = true;
    stopped = true;
    clearInterval(timer);
    options.warn?.(
      `the lock for ${options.purpose} (dataStore ${LOCK_NAMESPACE}/${key}) ${why}: another restore may start`,
    );
  };
  const renew = async () => {
    if (stopped) return;
    if (Date.now() >= Date.parse(current.expires)) return loseIt('expired before it could be renewed');
    try {
      const value = await store.get<unknown>(LOCK_NAMESPACE, key);
      if (stopped) return;
      if (!ours(value)) return loseIt(value === undefined ? 'was deleted' : 'was taken by another run');
      const next = { ...current, expires: new Date(Date.now() + options.ttlMs).toISOString() };
      await store.update(LOCK_NAMESPACE, key, next);
      current = next;
    } catch (e) {
      options.warn?.(
        `could not renew the lock for ${options.purpose}: ${(e as Error).message} (it holds until ${current.expires})`,
      );
    }
  };
  const timer = setInterval(() => {
    pending = pending.then(renew);
  }, renewMs);
  timer.unref();
  const stop = async () => {
    stopped = true;
    clearInterval(timer);
    await pending;
  };
  return {
    key,
    get expires() {
      return new Date(current.expires);
    },
    async release() {
      if (ended) return;
      ended = true;
      await stop();
      if (lost) return;
      const value = await store.get<unknown>(LOCK_NAMESPACE, key);
      if (ours(value)) await store.remove(LOCK_NAMESPACE, key);
    },
    async leave(holdMs, note) {
      if (ended) return undefined;
      ended = true;
      await stop();
      if (lost) return undefined;
      const value = await store.get<unknown>(LOCK_NAMESPACE, key);
      if (!ours(value)) return undefined;
      // Never past the longest lock of ours: a record expiring later would be taken for a planted one.
      const until = Math.min(Math.max(Date.parse(current.expires), Date.now() + holdMs), Date.now() + options.maxTtlMs);
      const next = { ...current, expires: new Date(until).toISOString(), note };
      await store.update(LOCK_NAMESPACE, key, next);
      current = next;
      return new Date(until);
    },
  };
}
