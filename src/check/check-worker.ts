/**
 * The checks in a thread of their own (dist/check-worker.js): DHIS2's engines take most of a dry run's CPU
 * (a cold Kotlin/JS parse of every expression), and the plan, the diff and the server's answers take the
 * rest; in a worker the two run side by side. It answers the messages of worker-client.ts, one at a time,
 * with the same functions `check` runs in-process, and keeps their verdict cache across programs (the
 * server's copy of a program costs little after its file).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../errors.ts';
import { loadEngines } from './engines.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import type { RuleTestFile } from './rule-test-file.ts';
import { checkProgram, programBefore, type CheckInput } from './run-checks.ts';
import type { WorkerAnswer, WorkerQuestion } from './worker-client.ts';

const tests = (workerData as { tests: RuleTestFile[] }).tests;
// The engines load now, while the run reads the first file: loading them (a 1.7 MB and a 1.5 MB Kotlin/JS
// bundle) is much of a first check's time. Awaited by the first question; a failure is that question's.
loadEngines().catch(() => {});

async function answer(q: WorkerQuestion): Promise<unknown> {
  if (q.kind === 'file') {
    const input: CheckInput = { ...q.input, doc: JSON.parse(q.input.text) as MetadataDocument };
    return checkProgram(input, tests);
  }
  return programBefore(q.doc, q.id);
}

parentPort?.on('message', (q: WorkerQuestion) => {
  answer(q).then(
    (value) => parentPort?.postMessage({ n: q.n, ok: true, value } satisfies WorkerAnswer),
    (e: unknown) => {
      const error = e as Error;
      parentPort?.postMessage({
        n: q.n,
        ok: false,
        error: {
          message: error.message,
          user: isUserError(e),
          location: isUserError(e) ? e.location : {},
          stack: isUserError(e) ? undefined : error.stack,
        },
      } satisfies WorkerAnswer);
    },
  );
});
