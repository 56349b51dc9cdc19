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

/**
 * The worker's old space, in MB. Without a limit V8 lets a worker's heap grow well past what it holds; the
 * worker needs the engines, the caches of the last two programs (validate-expressions.ts newChecksTurn) and one
 * program. With both, a dry run over 100 programs peaked at 340 to 374 MB instead of 450 to 480, in the same
 * time. A program whose checks need more runs them in this thread (OUT_OF_MEMORY below).
 */
export const WORKER_OLD_SPACE_MB = 64;

export interface CheckerOptions {
  /** The worker's bundle; by default dist/check-worker.js beside the running bundle. */
  workerUrl?: URL;
  /** The worker's old space in MB (WORKER_OLD_SPACE_MB). */
  oldSpaceMb?: number;
  /** Told once when the worker ran out of it and the checks go on in this thread. */
  onInThread?: (why: string) => void;
}

/** A checker in a worker thread when the bundle has one, else in this thread. */
export function startChecker(tests: RuleTestFile[], options: CheckerOptions = {}): Checker {
  const url = options.workerUrl ?? WORKER_URL;
  if (!existsSync(fileURLToPath(url))) return inThread(tests);
  const worker = new Worker(url, {
    workerData: { tests },
    resourceLimits: { maxOldGenerationSizeMb: options.oldSpaceMb ?? WORKER_OLD_SPACE_MB },
  });
  // Each question with how to answer it in this thread (`again`), should the worker run out of memory.
  type Waiting = { again: (c: Checker) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void };
  const waiting = new Map<number, Waiting>();
  let next = 0;
  let failed: Error | undefined;
  // Set when the worker ran out of its heap: every question from then on, and those it had, run here.
  let here: Checker | undefined;
  const failAll = (e: Error) => {
    if (here) return;
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
  worker.on('error', (e: Error) => {
    if ((e as NodeJS.ErrnoException).code !== OUT_OF_MEMORY) return failAll(e);
    // Not a failure of the checks: the same questions, answered in this thread (the same functions).
    here ??= inThread(tests);
    options.onInThread?.(
      `the checks' worker needed more than its ${options.oldSpaceMb ?? WORKER_OLD_SPACE_MB} MB: the checks go on in the main thread`,
    );
    const moved = [...waiting.values()];
    waiting.clear();
    worker.unref();
    for (const w of moved) w.again(here).then(w.resolve, w.reject);
  });
  // An answer that can't be read would leave its question waiting for ever.
  worker.on('messageerror', failAll);
  worker.on('exit', (code) => failAll(new Error(`the checks' worker stopped (exit code ${code})`)));
  // What keeps the process alive only while a question waits for its answer (a run that ends early needs no
  // close); set after the listeners: attaching the 'message' listener refs the worker again (observed on Node
  // 20: unref'd before it, a run that ended early waited for the worker).
  worker.unref();
  let closed: Error | undefined;
  const ask = <T>(question: Question, again: (c: Checker) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(closed);
    if (here) return again(here);
    if (failed) return Promise.reject(failed);
    const n = next++;
    return new Promise<T>((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(n, { again, resolve: resolve as (v: unknown) => void, reject });
      try {
        worker.postMessage({ ...question, n });
      } catch (e) {
        // A question that can't be sent (a value that can't be copied) waits for nothing.
        waiting.delete(n);
        if (waiting.size === 0) worker.unref();
        reject(e as Error);
      }
    });
  };
  return {
    file: (input) => {
      const { doc: _doc, ...sent } = input; // the worker parses the text itself: cheaper than copying the doc
      return ask({ kind: 'file', input: sent }, (c) => c.file(input));
    },
    before: (doc, id) => ask({ kind: 'before', id, doc }, (c) => c.before(doc, id)),
    close: async () => {
      closed ??= new Error('the checks were closed');
      failed ??= closed;
      await worker.terminate();
    },
  };
}

/** Node's error when a worker reaches its resourceLimits (ERR_WORKER_OUT_OF_MEMORY). */
const OUT_OF_MEMORY = 'ERR_WORKER_OUT_OF_MEMORY';

function inThread(tests: RuleTestFile[]): Checker {
  return {
    file: (input) => checkProgram(input, tests),
    before: (doc, id) => programBefore(doc, id),
    close: async () => {},
  };
}
