/**
 * An async metadata import (POST /api/metadata?async=true) as a server job: read the job answer in every
 * shape DHIS2 gives it, poll the job to its end with progress lines, and never leave a job behind that
 * could still commit unseen.
 *
 * What real servers do (recorded: test/fixtures/dhis2/real-2.43.1/, real-2.42.5.2/; dhis2-api.md):
 * - the answer is a WebMessage whose `response.responseType` is "JobConfiguration" since 2.42.5 and 2.43.1
 *   (WebMessageResponse.getResponseType() drops the "WebMessageResponse" suffix), and
 *   "JobConfigurationWebMessageResponse" in 2.38-2.42.4 and 2.43.0;
 * - GET system/tasks/METADATA_IMPORT/{id} lists the job's notifications newest first; the last one has
 *   `completed: true`. A job that failed has an ERROR notification "Process failed: ..." and its
 *   taskSummary is 200 with an EMPTY body;
 * - a job left RUNNING by a server killed mid-import blocks every new import of the same type: they stay
 *   SCHEDULED/NOT_STARTED (GET jobConfigurations/{id}) with an empty task list until housekeeping
 *   reschedules the stale job, minutes to hours later.
 */
import { ConfigError, Dhis2Error } from '../errors.ts';
import { redact } from '../util/secrets.ts';
import type { Http, HttpResponse } from './http.ts';
import { parseImportReport, type ImportReport, type ImportStats, type ImportStatus } from './import-report.ts';
import { isRecord } from './json.ts';

export interface JobWait {
  /** Time between two polls of the job. */
  pollIntervalMs: number;
  /** How long a started job may run before we stop waiting (and try to cancel it). */
  asyncTimeoutMs: number;
  /** How long a job may stay queued (no notification) before we look for what blocks it. */
  startTimeoutMs: number;
  /** Time between two progress lines while the job runs. */
  progressIntervalMs: number;
  /** Where progress lines go (the job log). */
  progress?: (message: string) => void;
}

/** How a job ended without a report: the caller must say whether anything may still change. */
export type JobFailure =
  | 'failed'
  | 'not-started'
  | 'still-running'
  | 'vanished'
  /** The job completed without an error, so the import ran, but its report could not be read. */
  | 'report-unread';

/**
 * How a job whose report could not be read said it ended, in its completed task (from 2.42: "Import complete
 * with status OK, 1 created, 0 updated, 0 deleted, 0 ignored", real-2.43.1/async-ok-tasks.json and
 * real-2.42.5.2/async-validate-tasks.json): its status and counts, the task's text, and why the report was unread.
 */
export interface JobEnded {
  status: ImportStatus;
  stats: ImportStats;
  said: string;
  why: string;
}

export class ImportJobError extends Dhis2Error {
  constructor(
    message: string,
    readonly failure: JobFailure,
    /** True when the server may still apply the import after this error (the caller must say so plainly). */
    readonly mayStillCommit: boolean,
    /** For 'report-unread': what the completed task says of the end, when it says it in full. */
    readonly ended?: JobEnded,
  ) {
    super(message);
  }
}

/** The completed task's own words, as 2.42+ write them; anything else (an older "Import:Done") says no counts. */
const COMPLETED_TASK =
  /^Import complete with status (OK|WARNING|ERROR), (\d+) created, (\d+) updated, (\d+) deleted, (\d+) ignored$/;

function jobEnded(said: string | undefined, why: string): JobEnded | undefined {
  const m = said === undefined ? null : COMPLETED_TASK.exec(said);
  if (!m || said === undefined) return undefined;
  const [created, updated, deleted, ignored] = m.slice(2).map(Number) as [number, number, number, number];
  const stats = { created, updated, deleted, ignored, total: created + updated + deleted + ignored };
  return { status: m[1] as ImportStatus, stats, said, why };
}

/**
 * Whether a COMMIT import that threw `e` may still change the server, so that nothing may treat the import as
 * over (the restore lock stays: issue 17, 4). Over are: a job DHIS2 reports failed, cancelled before it
 * started, stopped or gone (ImportJobError without mayStillCommit), a request the server refused (a 4xx
 * answer: nothing was started), and a payload refused before any request (ConfigError). Anything else may
 * still run: a job left running after the wait, a request whose answer was lost or came from a proxy (5xx),
 * an error of our own after the request was sent.
 */
export function mayStillChange(e: unknown): boolean {
  if (e instanceof ImportJobError) return e.mayStillCommit;
  if (e instanceof Dhis2Error && e.status !== undefined && e.status >= 400 && e.status < 500) return false;
  return !(e instanceof ConfigError);
}

export interface Job {
  id: string;
  jobType: string;
  tasksPath: string;
  summaryPath: string;
  configPath: string;
}

const JOB_RESPONSE_TYPES: readonly string[] = ['JobConfiguration', 'JobConfigurationWebMessageResponse'];

/**
 * The job of an async import's answer: {response: {responseType: JobConfiguration, id, jobType, ...}}.
 * Any answer that names a job id with a job type or notifier endpoint is taken as a job, whatever its
 * responseType says: refusing it would leave the job running unseen (issue 9: the step failed while the
 * job it had started went on and changed the server).
 */
export function asyncJob(body: unknown): Job | undefined {
  if (!isRecord(body) || !isRecord(body.response)) return undefined;
  const response = body.response;
  if (typeof response.id !== 'string' || !response.id) return undefined;
  const typed = typeof response.responseType === 'string' && JOB_RESPONSE_TYPES.includes(response.responseType);
  const endpoint = typeof response.relativeNotifierEndpoint === 'string' ? response.relativeNotifierEndpoint : '';
  if (!typed && !endpoint && typeof response.jobType !== 'string') return undefined;
  const jobType = typeof response.jobType === 'string' && response.jobType ? response.jobType : 'METADATA_IMPORT';
  const id = encodeURIComponent(response.id);
  return {
    id: response.id,
    jobType,
    tasksPath: endpoint.startsWith('/api/') ? endpoint : `system/tasks/${jobType}/${id}`,
    summaryPath: `system/taskSummaries/${jobType}/${id}`,
    configPath: `jobConfigurations/${id}`,
  };
}

const QUEUED = new Set(['SCHEDULED', 'NOT_STARTED']);

/**
 * Polls the job until it completes and returns its import report. Throws ImportJobError when it failed,
 * never started (after cancelling it), or is still running at the end of the wait.
 */
export async function waitForJob(http: Http, job: Job, wait: JobWait): Promise<ImportReport> {
  const started = Date.now();
  let lastProgress = started;
  let seen = false;
  let empties = 0;
  let queueChecked = false;
  let polls = 0;
  for (;;) {
    const notifications = await tasks(http, job);
    // A job whose notifications were there and are gone: the server restarted and lost it (DHIS2 keeps
    // them in memory). Several empty answers in a row: one alone may come from another node behind a
    // load balancer.
    empties = notifications.length === 0 ? empties + 1 : 0;
    if (seen && empties >= 3) {
      throw new ImportJobError(
        `the metadata import job ${job.id} vanished from ${http.server} (restarted?): an atomic import that ` +
          'did not finish is rolled back, but check the program there before running again',
        'vanished',
        false,
      );
    }
    seen ||= notifications.length > 0;
    const done = notifications.find((n) => n.completed === true);
    if (done) return summary(http, job, notifications, wait, started);

    const elapsed = Date.now() - started;
    if (!seen && !queueChecked && elapsed >= wait.startTimeoutMs) {
      queueChecked = true;
      await failIfQueued(http, job, elapsed);
    }
    if (elapsed >= wait.asyncTimeoutMs) return giveUp(http, job, wait, started);
    if (Date.now() - lastProgress >= wait.progressIntervalMs) {
      lastProgress = Date.now();
      const latest = notifications[0];
      const what = typeof latest?.message === 'string' && latest.message ? `: ${clip(latest.message)}` : '';
      wait.progress?.(
        `import job ${job.id}: ${Math.round(elapsed / 1000)} s, ${seen ? 'still running' : 'not started yet'}${what}`,
      );
    }
    await sleep(pollDelay(wait, polls++));
  }
}

async function tasks(http: Http, job: Job): Promise<Record<string, unknown>[]> {
  const res = await http.request({ method: 'GET', path: job.tasksPath, retry: true });
  return Array.isArray(res.body) ? res.body.filter(isRecord) : [];
}

/**
 * The report of a completed job. A failed job has an ERROR notification and no summary (200, empty body):
 * its message is the import's error. A successful one may answer an empty summary for a moment. A summary
 * that cannot be read (an error answer, or empty to the end of the wait) after a job that completed without
 * an ERROR is no failure of the import: the import ran, and the error says so (failure 'report-unread').
 */
async function summary(
  http: Http,
  job: Job,
  notifications: Record<string, unknown>[],
  wait: JobWait,
  started: number,
): Promise<ImportReport> {
  const error = notifications.find((n) => n.level === 'ERROR');
  const failed = error && typeof error.message === 'string' ? error.message : undefined;
  const failedError = (reason: string) =>
    new ImportJobError(`the metadata import job ${job.id} failed on ${http.server}: ${clip(reason)}`, 'failed', false);
  let unreadable = 0;
  for (let attempt = 0; ; attempt++) {
    let res: HttpResponse;
    try {
      res = await http.request({ method: 'GET', path: job.summaryPath, retry: true });
    } catch (e) {
      if (!(e instanceof Dhis2Error)) throw e;
      // The tasks already say how it ended: a failed job's error is the one to report.
      if (failed !== undefined) throw failedError(failed);
      // A 500 may pass: read again a few times, then report what the tasks say.
      if (++unreadable >= SUMMARY_READS) throw reportUnread(http, job, notifications, e.message);
      await sleep(pollDelay(wait, attempt));
      continue;
    }
    if (isRecord(res.body) && Object.keys(res.body).length > 0) {
      try {
        return parseImportReport(res.body, res.status);
      } catch (e) {
        if (!(e instanceof Dhis2Error)) throw e;
        if (failed !== undefined) throw failedError(failed);
        throw reportUnread(http, job, notifications, e.message);
      }
    }
    if (failed !== undefined) throw failedError(failed);
    if (attempt >= 5 && Date.now() - started >= wait.asyncTimeoutMs) {
      throw reportUnread(http, job, notifications, `DHIS2 answered ${job.summaryPath} empty`);
    }
    await sleep(pollDelay(wait, attempt));
  }
}

/** Reads of a task summary that fail (an error answer) before the job is reported without its report. */
const SUMMARY_READS = 3;

/**
 * A job that completed without an ERROR notification, whose report could not be read (`why`): the import ran
 * on the server, whatever it changed is there. Never "failed" alone: that would read as nothing imported. The
 * completed notification says how it ended from 2.42 ("Import complete with status OK, 1 created, ...":
 * real-2.43.1/async-ok-tasks.json); with status ERROR an atomic import kept nothing.
 */
function reportUnread(http: Http, job: Job, notifications: Record<string, unknown>[], why: string): ImportJobError {
  const done = notifications.find((n) => n.completed === true);
  const said = done && typeof done.message === 'string' && done.message ? clip(done.message) : undefined;
  const status = said ? /\bwith status (OK|WARNING|ERROR)\b/.exec(said)?.[1] : undefined;
  const task = said ? ` (its last task: "${said}")` : '';
  const what =
    status === 'ERROR'
      ? `ran to its end with status ERROR${task}: an atomic import keeps nothing then, but its report, with the errors,`
      : `ran to its end: the import happened${task}, and what it changed is on the server, but its report`;
  return new ImportJobError(
    `the metadata import job ${job.id} on ${http.server} ${what} could not be read (${clip(why)}): ` +
      'check the program on the server before running again',
    'report-unread',
    false,
    jobEnded(said, clip(why)),
  );
}

/** GET jobConfigurations/{id}, as real-2.43.1/async-stale-running-job.jobConfiguration.json. */
interface JobConfig {
  id?: string;
  enabled?: boolean;
  name?: string;
  jobStatus?: string;
  created?: string;
  lastExecuted?: string;
  lastAlive?: string;
}

async function jobConfig(http: Http, job: Job): Promise<JobConfig | undefined> {
  const res = await http.request({ method: 'GET', path: job.configPath, retry: true, expect: [404] });
  return res.status === 404 || !isRecord(res.body) ? undefined : (res.body as JobConfig);
}

/**
 * A job that has not started after startTimeoutMs: when DHIS2 still has it queued, something blocks the
 * queue (a job of the same type left RUNNING). Cancel ours, make sure it is gone, and say what blocks.
 */
async function failIfQueued(http: Http, job: Job, elapsed: number): Promise<void> {
  const config = await jobConfig(http, job);
  if (!config?.jobStatus || !QUEUED.has(config.jobStatus)) return;
  const blocker = await runningJob(http, job);
  const why = blocker
    ? `another ${job.jobType} job (${blocker.id}${blocker.name ? `, "${clip(blocker.name)}"` : ''}) has been RUNNING since ` +
      `${blocker.lastExecuted ?? blocker.created ?? 'an unknown time'}${blocker.lastAlive ? ` (last alive ${blocker.lastAlive})` : ''}, ` +
      'and DHIS2 queues imports behind it until its housekeeping clears a stale job (jobsRescheduleAfterMinutes)'
    : `DHIS2 left it ${config.jobStatus}`;
  const seconds = Math.round(elapsed / 1000);
  const gone = await cancelQueued(http, job);
  if (gone) {
    throw new ImportJobError(
      `the metadata import job ${job.id} did not start within ${seconds} s: ${why}. It was cancelled: nothing was imported`,
      'not-started',
      false,
    );
  }
  throw new ImportJobError(
    `the metadata import job ${job.id} did not start within ${seconds} s: ${why}. It could not be cancelled, so it ` +
      `WILL STILL RUN when the queue frees and may change the server then (see /api/${job.configPath})`,
    'not-started',
    true,
  );
}

/** The other job of the same type that DHIS2 reports RUNNING, if any. */
async function runningJob(http: Http, job: Job): Promise<JobConfig | undefined> {
  try {
    const res = await http.request({
      method: 'GET',
      path: 'jobConfigurations',
      query: {
        filter: `jobType:eq:${job.jobType}`,
        fields: 'id,name,jobStatus,created,lastExecuted,lastAlive',
        paging: false,
      },
      retry: true,
    });
    const list = isRecord(res.body) && Array.isArray(res.body.jobConfigurations) ? res.body.jobConfigurations : [];
    return (list.filter(isRecord) as JobConfig[]).find((j) => j.jobStatus === 'RUNNING' && j.id !== job.id);
  } catch {
    // Only for the message: a user without the right to list jobs still gets the rest of it.
    return undefined;
  }
}

/**
 * Cancels a job that has not started and checks that it never will. DHIS2 (2.41+): POST
 * jobConfigurations/{id}/cancel on a queued ONCE_ASAP job sets `enabled = false` (lastExecutedStatus STOPPED;
 * jobStatus reads SCHEDULED until housekeeping makes it DISABLED), and the scheduler starts only enabled jobs
 * (HibernateJobConfigurationStore.tryCancel / tryStart). DELETE is no way out: an import job is not
 * configurable, so it answers 409 (JobConfigurationController.checkModifiable).
 */
async function cancelQueued(http: Http, job: Job): Promise<boolean> {
  try {
    await http.request({ method: 'POST', path: `${job.configPath}/cancel`, retry: false, expect: [404, 409] });
  } catch {
    // Checked below: what counts is whether the job can still run.
  }
  try {
    const after = await jobConfig(http, job);
    return after === undefined || after.enabled === false || after.jobStatus === 'DISABLED';
  } catch {
    return false;
  }
}

/** After the wait, how long a job asked to stop is still followed: as long again, at most 5 minutes. */
export function graceMs(wait: JobWait): number {
  return Math.min(wait.asyncTimeoutMs, 5 * 60_000);
}

/**
 * The wait is over and the job still runs: ask DHIS2 to stop it, and follow it a while longer (graceMs) to
 * see how it ends: its report if it finished after all (the step then tells the truth, never a failure
 * while the change landed), an error if it stopped. Only a job still running after that is reported as
 * one that may still change the server.
 */
async function giveUp(http: Http, job: Job, wait: JobWait, started: number): Promise<ImportReport> {
  const waited = `${Math.round((Date.now() - started) / 1000)} s`;
  wait.progress?.(`import job ${job.id}: still running after ${waited}; asking DHIS2 to stop it`);
  try {
    await http.request({ method: 'POST', path: `${job.configPath}/cancel`, retry: false, expect: [404, 409] });
  } catch {
    // Whether it ended is read from the job below.
  }
  const until = Date.now() + graceMs(wait);
  let lastProgress = Date.now();
  while (Date.now() < until) {
    await sleep(wait.pollIntervalMs);
    const notifications = await tasks(http, job);
    if (notifications.some((n) => n.completed === true)) {
      wait.progress?.(`import job ${job.id}: it ended after ${Math.round((Date.now() - started) / 1000)} s`);
      return summary(http, job, notifications, wait, started);
    }
    const config = await jobConfig(http, job).catch(() => undefined);
    if (config?.jobStatus && ['STOPPED', 'FAILED', 'DISABLED'].includes(config.jobStatus)) {
      throw new ImportJobError(
        `the metadata import job ${job.id} did not finish within ${waited}; asked to stop, DHIS2 reports it ` +
          `${config.jobStatus}: check the program on the server before running again`,
        'still-running',
        false,
      );
    }
    if (Date.now() - lastProgress >= wait.progressIntervalMs) {
      lastProgress = Date.now();
      wait.progress?.(
        `import job ${job.id}: ${Math.round((Date.now() - started) / 1000)} s, asked to stop, still running`,
      );
    }
  }
  const total = `${Math.round((Date.now() - started) / 1000)} s`;
  throw new ImportJobError(
    `the metadata import job ${job.id} on ${http.server} is still running after ${total} although asked to stop: ` +
      `it WILL STILL RUN and may change the server when it ends (follow /api/${job.tasksPath.replace(/^\/api\//, '')})`,
    'still-running',
    true,
  );
}

/**
 * The n-th wait between polls: 25 ms doubling up to pollIntervalMs. A small import is done in a fraction of
 * a second; polling it every second would add most of a second to every restore.
 */
function pollDelay(wait: JobWait, n: number): number {
  return Math.min(wait.pollIntervalMs, 25 * 2 ** Math.min(n, 10));
}

function clip(s: string): string {
  const t = redact(s).replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 300)}...` : t;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
