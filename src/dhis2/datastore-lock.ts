/**
 * A lock in the DHIS2 dataStore, so that two restores of the same program on the same server never
 * interleave (two merges in a row, a re-run next to a run, a CLI run next to the workflow). It rests on the
 * one atomic step the dataStore has: POST of a key that exists answers 409 (dhis2-api.md, recorded in
 * real-2.43.1/datastore-post-existing.json). The record says who holds it, from which run, and until when:
 * a holder that died (a killed runner) stops blocking once its lock expires.
 */
import { randomUUID } from 'node:crypto';
import { Dhis2Error, UserError } from '../errors.ts';
import type { DataStore } from './datastore.ts';
import { isRecord } from './json.ts';

export const LOCK_NAMESPACE = 'dhis2-metadata-locks';

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
}

export interface LockOptions {
  owner: string;
  run?: string;
  purpose: string;
  /** How long the lock holds when its holder never releases it. */
  ttlMs: number;
  /** How long to wait for a held lock before giving up. */
  waitMs: number;
  pollMs: number;
  /** A line while waiting. */
  progress?: (message: string) => void;
}

export interface HeldLock {
  key: string;
  release(): Promise<void>;
}

export class LockHeldError extends UserError {}

function describe(r: LockRecord): string {
  return `${r.owner}${r.run ? ` (${r.run})` : ''} since ${r.acquired}, until ${r.expires} at the latest`;
}

function asRecord(value: unknown): LockRecord | undefined {
  if (!isRecord(value) || typeof value.token !== 'string' || typeof value.expires !== 'string') return undefined;
  return value as unknown as LockRecord;
}

export async function acquireLock(store: DataStore, key: string, options: LockOptions): Promise<HeldLock> {
  const started = Date.now();
  let lastSaid = 0;
  for (;;) {
    const now = new Date();
    const mine: LockRecord = {
      owner: options.owner,
      purpose: options.purpose,
      acquired: now.toISOString(),
      expires: new Date(now.getTime() + options.ttlMs).toISOString(),
      token: randomUUID(),
      ...(options.run ? { run: options.run } : {}),
    };
    try {
      await store.create(LOCK_NAMESPACE, key, mine);
    } catch (e) {
      if (!(e instanceof Dhis2Error) || e.status !== 409) throw e;
    }
    // Ours only if the stored record is ours (read back: the create may have lost to another run's).
    const held = asRecord(await store.get(LOCK_NAMESPACE, key));
    if (held?.token === mine.token) return release(store, key, mine.token);
    if (held !== undefined && Date.parse(held.expires) <= Date.now()) {
      // Its holder died without releasing it: take it over, then read back whether we won a race for it.
      await store.update(LOCK_NAMESPACE, key, mine);
      await sleep(Math.min(options.pollMs, 250));
      const after = asRecord(await store.get(LOCK_NAMESPACE, key));
      if (after?.token === mine.token) return release(store, key, mine.token);
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) {
      throw new LockHeldError(
        `${options.purpose} is locked by ${held ? describe(held) : 'another run'}: waited ${Math.round(waited / 1000)} s. ` +
          `Run again when it has finished (the lock is dataStore ${LOCK_NAMESPACE}/${key}; delete it only if that run is gone)`,
      );
    }
    if (held && Date.now() - lastSaid >= 10_000) {
      lastSaid = Date.now();
      options.progress?.(`${options.purpose}: waiting for the lock held by ${describe(held)}`);
    }
    await sleep(options.pollMs);
  }
}

function release(store: DataStore, key: string, token: string): HeldLock {
  return {
    key,
    async release() {
      // Only our own record: a lock that expired and was taken over is the new holder's.
      const held = asRecord(await store.get(LOCK_NAMESPACE, key));
      if (held?.token === token) await store.remove(LOCK_NAMESPACE, key);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
