/**
 * Runs a run's checks in a worker thread (check-worker.ts, bundled as dist/check-worker.js) when there is
 * one, so that they run beside the plan and the server's answers instead of before them; without the bundle
 * (the sources run directly, as in unit tests) the same functions run in this thread. Either way the answers
 * are the same values: a worker's UserError comes back as a UserError with its message and place.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError, type SourceLocation } from '../errors.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import type { ProgramBefore } from './baseline.ts';
import type { RuleTestFile } from './rule-test-file.ts';
import { checkProgram, programBefore, type CheckInput, type ProgramChecked } from './run-checks.ts';

/** A file's checks, or a program's problems before the change (its metadata on the server). */
export type Question =
  { kind: 'file'; input: Omit<CheckInput, 'doc'> } | { kind: 'before'; id: string; doc: MetadataDocument };
export type WorkerQuestion = Question & { n: number };

export type WorkerAnswer =
  | { n: number; ok: true; value: unknown }
  | {
      n: number;
      ok: false;
      error: { message: string; user: boolean; location: SourceLocation; stack?: string };
    };

/** Where the bundled worker is: beside the bundle that runs (dist/). */
const WORKER_URL = new URL('./check-worker.js', import.meta.url);

export interface Checker {
  file(input: CheckInput): Promise<ProgramChecked>;
  before(doc: MetadataDocument, id: string): Promise<ProgramBefore | null>;
  close(): Promise<void>;
}

/** A checker in a worker thread when the bundle has one, else in this thread. */
export function startChecker(tests: RuleTestFile[]): Checker {
  if (!existsSync(fileURLToPath(WORKER_URL))) return inThread(tests);
  const worker = new Worker(WORKER_URL, { workerData: { tests } });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  const failAll = (e: Error) => {
    failed ??= e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
    worker.unref();
  };
  worker.on('message', (a: WorkerAnswer) => {
    const w = waiting.get(a.n);
    if (!w) return;
    waiting.delete(a.n);
    if (waiting.size === 0) worker.unref();
    if (a.ok) w.resolve(a.value);
    else if (a.error.user) w.reject(new UserError(a.error.message, a.error.location));
    else w.reject(Object.assign(new Error(a.error.message), { stack: a.error.stack }));
  });
  worker.on('error', failAll);
  // An answer that can't be read would leave its question waiting for ever.
  worker.on('messageerror', failAll);
  worker.on('exit', (code) => failAll(new Error(`the checks' worker stopped (exit code ${code})`)));
  // What keeps the process alive only while a question waits for its answer (a run that ends early needs no
  // close); set after the listeners: attaching the 'message' listener refs the worker again (observed on Node
  // 20: unref'd before it, a run that ended early waited for the worker).
  worker.unref();
  const ask = <T>(q: Question): Promise<T> => {
    if (failed) return Promise.reject(failed);
    const n = next++;
    return new Promise<T>((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(n, { resolve: resolve as (v: unknown) => void, reject });
      try {
        worker.postMessage({ ...q, n });
      } catch (e) {
        // A question that can't be sent (a value that can't be copied) waits for nothing.
        waiting.delete(n);
        if (waiting.size === 0) worker.unref();
        reject(e as Error);
      }
    });
  };
  return {
    file: ({ doc: _doc, ...input }) => ask<ProgramChecked>({ kind: 'file', input }),
    before: (doc, id) => ask<ProgramBefore | null>({ kind: 'before', id, doc }),
    close: async () => {
      failed ??= new Error('the checks were closed');
      await worker.terminate();
    },
  };
}

function inThread(tests: RuleTestFile[]): Checker {
  return {
    file: (input) => checkProgram(input, tests),
    before: (doc, id) => programBefore(doc, id),
    close: async () => {},
  };
}
