/**
 * The checks' worker of the bundle (dist/check-worker.js), which dry-run starts beside its plan: it answers
 * with exactly what the same checks give in this thread, and a UserError of them comes back as one (message
 * and place), not as a crash of the run.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { checkProgram, programBefore } from '../../src/check/run-checks.ts';
import { startChecker, type WorkerAnswer, type WorkerQuestion } from '../../src/check/worker-client.ts';
import { fixtureText } from '../helpers/fixtures.ts';
import { DIST } from '../helpers/run-action.ts';

const TB = 'Lt6P15ps7f6';
const worker = new Worker(join(DIST, 'check-worker.js'), { workerData: { tests: [] } });
afterAll(() => worker.terminate());

function ask(q: WorkerQuestion): Promise<WorkerAnswer> {
  return new Promise((resolve) => {
    const on = (a: WorkerAnswer) => {
      if (a.n !== q.n) return;
      worker.off('message', on);
      resolve(a);
    };
    worker.on('message', on);
    worker.postMessage(q);
  });
}

describe('the checks worker of the bundle', () => {
  const text = fixtureText('who_TB-REG_TRACKER_V1_DHIS2.33.json');
  const input = { id: TB, file: 'metadata/tb.json', text };

  it("answers a file's checks exactly as the checks in this thread do", async () => {
    const answer = await ask({ n: 1, kind: 'file', input });
    const here = await checkProgram({ ...input, doc: JSON.parse(text) }, []);
    expect(answer.ok).toBe(true);
    const value = (answer as { value: typeof here }).value;
    expect(value.report).toEqual(here.report);
    expect(value.expressionNotes).toEqual(here.expressionNotes);
    expect(value.referenceNotes).toEqual(here.referenceNotes);
    expect(value.report.expressions.filter((v) => v.severity === 'error').length).toBeGreaterThan(0);
  }, 60_000);

  it("answers a program's problems before the change as programBefore does", async () => {
    const doc = JSON.parse(text);
    const answer = await ask({ n: 2, kind: 'before', id: TB, doc });
    expect(answer).toEqual({ n: 2, ok: true, value: await programBefore(doc, TB) });
  }, 60_000);

  it('sends back a UserError with its message and place (a file without the program)', async () => {
    const answer = await ask({ n: 3, kind: 'file', input: { ...input, id: 'AAAAAAAAAAA' } });
    expect(answer).toMatchObject({
      n: 3,
      ok: false,
      error: {
        user: true,
        message: 'program AAAAAAAAAAA is not in metadata/tb.json (its programs[] has no object with that id)',
        location: { file: 'metadata/tb.json' },
      },
    });
  });
});

describe("startChecker with the bundle's worker", () => {
  const text = fixtureText('who_TB-REG_TRACKER_V1_DHIS2.33.json');
  const input = () => ({ id: TB, file: 'metadata/tb.json', text, doc: JSON.parse(text) });
  const workerUrl = pathToFileURL(join(DIST, 'check-worker.js'));

  it.each([
    ['its own heap limit', undefined, false],
    ['a heap too small for the engines: the same answers, from this thread', 4, true],
  ])(
    'with %s',
    async (_what, oldSpaceMb, movesHere) => {
      const moved: string[] = [];
      const checker = startChecker([], { workerUrl, oldSpaceMb, onInThread: (why) => moved.push(why) });
      try {
        const [file, before] = await Promise.all([checker.file(input()), checker.before(input().doc, TB)]);
        const here = await checkProgram(input(), []);
        expect(file.report).toEqual(here.report);
        expect(file.expressionNotes).toEqual(here.expressionNotes);
        expect(before).toEqual(await programBefore(input().doc, TB));
        // A question after the move is answered here too; a UserError stays one.
        await expect(checker.file({ ...input(), id: 'AAAAAAAAAAA' })).rejects.toMatchObject({
          message: 'program AAAAAAAAAAA is not in metadata/tb.json (its programs[] has no object with that id)',
        });
        expect(moved).toEqual(
          movesHere ? [expect.stringMatching(/needed more than its 4 MB: the checks go on in the main thread/)] : [],
        );
      } finally {
        await checker.close();
      }
    },
    120_000,
  );
});
