/**
 * The async import job against the answers real servers gave, replayed verbatim from
 * test/fixtures/dhis2/real-2.43.1/ and real-2.42.5.2/ by a scripted HTTP server: every job answer shape,
 * a failed job (ERROR task, empty summary), a job queued behind a stale one, and progress lines.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Dhis2Client, ImportJobError } from '../../src/dhis2/client.ts';

const REAL = join(import.meta.dirname, '../fixtures/dhis2');
const real = (version: string, name: string): unknown =>
  JSON.parse(readFileSync(join(REAL, `real-${version}`, name), 'utf8')) as unknown;

type Route = (req: IncomingMessage) => { status: number; body?: unknown };
const servers: Server[] = [];

async function server(
  version: string,
  routes: Record<string, Route>,
): Promise<{ url: string; log: string[]; close(): void }> {
  const log: string[] = [];
  const s = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const key = `${req.method} ${path}`;
      log.push(key);
      const route =
        routes[key] ?? (path === '/api/system/info' ? () => ({ status: 200, body: { version } }) : undefined);
      const answer = route ? route(req) : { status: 404, body: { httpStatusCode: 404, message: 'not found' } };
      if (answer.body === undefined) {
        res.writeHead(answer.status);
        res.end();
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, log, close: () => s.close() };
}

afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const FAST = { retries: 0, retryDelayMs: 1, pollIntervalMs: 5 };
const COMMIT = { importMode: 'COMMIT', importStrategy: 'CREATE_AND_UPDATE', atomicMode: 'ALL', async: true } as const;

function jobId(answer: unknown): string {
  return ((answer as { response: { id: string } }).response as { id: string }).id;
}

async function failure(p: Promise<unknown>): Promise<ImportJobError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImportJobError);
    return e as ImportJobError;
  }
  throw new Error('expected the import to fail');
}

describe('async import jobs, as real 2.43.1 and 2.42.5.2 answer', () => {
  it.each([
    ['2.43.1', 'import-async-validate-ok.json', 'async-ok-tasks-early.json', 'async-ok-taskSummaries.json'],
    ['2.42.5.2', 'import-async-validate.json', 'async-validate-tasks.json', 'async-validate-taskSummaries.json'],
  ])('%s: the "JobConfiguration" answer is polled to its report', async (version, answerFile, tasksFile, summary) => {
    const answer = real(version, answerFile);
    expect((answer as { response: { responseType: string } }).response.responseType).toBe('JobConfiguration');
    const id = jobId(answer);
    let polls = 0;
    const s = await server(version, {
      'POST /api/metadata': () => ({ status: 200, body: answer }),
      [`GET /api/system/tasks/METADATA_IMPORT/${id}`]: () =>
        // First nothing yet (the job is queued for a moment), then the recorded list.
        ++polls === 1 ? { status: 200, body: [] } : { status: 200, body: real(version, tasksFile) },
      [`GET /api/system/taskSummaries/METADATA_IMPORT/${id}`]: () => ({ status: 200, body: real(version, summary) }),
    });
    const client = await Dhis2Client.connect({ url: s.url, ...FAST });
    const report = await client.importMetadata({ constants: [] }, { ...COMMIT, importMode: 'VALIDATE' });
    expect(report.status).toBe('OK');
    expect(report.stats.total).toBeGreaterThanOrEqual(0);
    expect(polls).toBe(2);
  });

  it.each([
    ['2.43.1', 'import-async-commit-sendmessage.json', 'async-failed-tasks.json'],
    ['2.42.5.2', 'import-async-commit-sendmessage.json', 'async-commit-sendmessage-tasks.json'],
  ])('%s: a failed job (ERROR task, empty summary) reports the task message', async (version, answerFile, tasks) => {
    const answer = real(version, answerFile);
    const id = jobId(answer);
    const s = await server(version, {
      'POST /api/metadata': () => ({ status: 200, body: answer }),
      [`GET /api/system/tasks/METADATA_IMPORT/${id}`]: () => ({ status: 200, body: real(version, tasks) }),
      // Recorded: HTTP 200 with an empty body.
      [`GET /api/system/taskSummaries/METADATA_IMPORT/${id}`]: () => ({ status: 200 }),
    });
    const client = await Dhis2Client.connect({ url: s.url, ...FAST });
    const e = await failure(client.importMetadata({ programRuleActions: [] }, COMMIT));
    expect(e.failure).toBe('failed');
    expect(e.mayStillCommit).toBe(false);
    expect(e.message).toMatch(/job \w+ failed on .*: Process failed: org\.hibernate\.TransientPropertyValueException/);
    expect(e.message).not.toContain('\n');
  });

  it('the older "JobConfigurationWebMessageResponse" answer is still a job', async () => {
    const answer = real('2.43.1', 'import-async-validate-ok.json') as { response: Record<string, unknown> };
    answer.response.responseType = 'JobConfigurationWebMessageResponse';
    const id = jobId(answer);
    const s = await server('2.42.1', {
      'POST /api/metadata': () => ({ status: 200, body: answer }),
      [`GET /api/system/tasks/METADATA_IMPORT/${id}`]: () => ({
        status: 200,
        body: real('2.43.1', 'async-ok-tasks.json'),
      }),
      [`GET /api/system/taskSummaries/METADATA_IMPORT/${id}`]: () => ({
        status: 200,
        body: real('2.43.1', 'async-ok-taskSummaries.json'),
      }),
    });
    const client = await Dhis2Client.connect({ url: s.url, ...FAST });
    expect((await client.importMetadata({}, COMMIT)).status).toBe('OK');
  });

  describe('a job queued behind a stale RUNNING job (recorded jobConfigurations)', () => {
    const queued = real('2.43.1', 'async-queued-behind-stale-job.jobConfiguration.json') as Record<string, unknown>;
    const stale = real('2.43.1', 'async-stale-running-job.jobConfiguration.json') as Record<string, unknown>;
    const answer = real('2.43.1', 'import-async-commit-sendmessage.json') as { response: Record<string, unknown> };
    const id = queued.id as string;
    answer.response.id = id;
    answer.response.relativeNotifierEndpoint = `/api/system/tasks/METADATA_IMPORT/${id}`;

    async function queue(cancellable: boolean) {
      let cancelled = false;
      const s = await server('2.43.1', {
        'POST /api/metadata': () => ({ status: 200, body: answer }),
        [`GET /api/system/tasks/METADATA_IMPORT/${id}`]: () => ({ status: 200, body: [] }),
        // A cancelled queued job: still SCHEDULED, but no longer enabled (tryCancel), so it never starts.
        [`GET /api/jobConfigurations/${id}`]: () => ({
          status: 200,
          body: cancelled ? { ...queued, enabled: false, lastExecutedStatus: 'STOPPED' } : { ...queued, enabled: true },
        }),
        'GET /api/jobConfigurations': () => ({ status: 200, body: { jobConfigurations: [queued, stale] } }),
        [`POST /api/jobConfigurations/${id}/cancel`]: () => {
          cancelled = cancellable;
          return { status: 204 };
        },
      });
      const progress: string[] = [];
      const client = await Dhis2Client.connect({
        url: s.url,
        ...FAST,
        startTimeoutMs: 120,
        progressIntervalMs: 40,
        progress: (m) => progress.push(m),
      });
      return { s, client, progress };
    }

    it('is found within the bounded wait, cancelled, and reported with what blocks it', async () => {
      const { s, client, progress } = await queue(true);
      const started = Date.now();
      const e = await failure(client.importMetadata({}, COMMIT));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(e.failure).toBe('not-started');
      expect(e.mayStillCommit).toBe(false);
      expect(e.message).toContain(`another METADATA_IMPORT job (${stale.id as string}`);
      expect(e.message).toContain(`RUNNING since ${stale.created as string}`);
      expect(e.message).toContain('DHIS2 queues imports behind it');
      expect(e.message).toContain('nothing was imported');
      expect(s.log).toContain(`POST /api/jobConfigurations/${id}/cancel`);
      expect(progress.some((m) => /^import job \w+: \d+ s, not started yet/.test(m))).toBe(true);
    });

    it('says plainly that it will still run when it cannot be removed', async () => {
      const { client } = await queue(false);
      const e = await failure(client.importMetadata({}, COMMIT));
      expect(e.failure).toBe('not-started');
      expect(e.mayStillCommit).toBe(true);
      expect(e.message).toContain('WILL STILL RUN');
    });
  });

  it('a long job prints progress lines while it runs', async () => {
    const answer = real('2.43.1', 'import-async-validate-ok.json');
    const id = jobId(answer);
    const started = Date.now();
    const s = await server('2.43.1', {
      'POST /api/metadata': () => ({ status: 200, body: answer }),
      [`GET /api/system/tasks/METADATA_IMPORT/${id}`]: () =>
        Date.now() - started < 300
          ? { status: 200, body: [{ level: 'INFO', message: 'Validating bundle', completed: false }] }
          : { status: 200, body: real('2.43.1', 'async-ok-tasks.json') },
      [`GET /api/system/taskSummaries/METADATA_IMPORT/${id}`]: () => ({
        status: 200,
        body: real('2.43.1', 'async-ok-taskSummaries.json'),
      }),
    });
    const progress: string[] = [];
    const client = await Dhis2Client.connect({
      url: s.url,
      ...FAST,
      progressIntervalMs: 50,
      progress: (m) => progress.push(m),
    });
    expect((await client.importMetadata({}, COMMIT)).status).toBe('OK');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatch(/^import job \w+: \d+ s, still running: Validating bundle$/);
  });
});
