/**
 * Async metadata imports as DHIS2 jobs: POST /api/metadata?async=true, the notifications of
 * /api/system/tasks/METADATA_IMPORT/{id}, the report of /api/system/taskSummaries/METADATA_IMPORT/{id}, and from
 * 2.41 the job configurations (GET /api/jobConfigurations[/{id}], POST /api/jobConfigurations/{id}/cancel,
 * DELETE /api/jobConfigurations/{id}) with the scheduler's rules.
 *
 * Sources: the recordings in test/fixtures/dhis2/real-2.42.5.2 and real-2.43.1 (file named at each shape) and
 * dhis2-core's 2.41+ scheduler: HibernateJobConfigurationStore (tryStart, tryCancel, tryFinish,
 * rescheduleStaleJobs, updateDisabledJobs), DefaultJobSchedulerService.requestCancel,
 * DefaultJobSchedulerLoopService.applyCancellation, HousekeepingJob, JobConfiguration.getJobStatus and
 * JobConfigurationController (preDeleteEntity -> checkModifiable).
 */
import { applyFields, parseFields } from './fields.ts';
import { listObjects } from './export.ts';
import { FatalImportError, runImport, type ImportParams } from './import.ts';
import { importReportBody, type ImportOutcome } from './reports.ts';
import { generateUid } from './schema.ts';
import { now, timestamp, webMessage, type EmulatorUser, type ImportJob, type Reply, type State } from './state.ts';
import type { Obj } from './store.ts';
import type { StaleJobOptions } from './types.ts';
import { asyncJobResponseType, hasExternalSharing, hasJobScheduler, recordedAsyncJobShapes } from './version.ts';

const JOB_TYPE = 'METADATA_IMPORT';

/** Reply.contentType for an answer without a body and without a Content-Type header. */
export const NO_CONTENT_TYPE = '';

export class Jobs {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly state: State) {}

  private get jobs(): Map<string, ImportJob> {
    return this.state.jobs;
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** POST /api/metadata?async=true: store the job, answer the JobConfiguration WebMessage, run it when due. */
  submit(params: ImportParams, payload: Obj, user: EmulatorUser, fatal?: string): Reply {
    const v = this.state.version;
    const createdMs = Date.now();
    const recorded = recordedAsyncJobShapes(v);
    const id = generateUid();
    const at = timestamp(createdMs);
    const job: ImportJob = {
      id,
      // JobConfiguration(type): "%s (%d)".formatted(type.name(), Instant.now().toEpochMilli())
      name: recorded ? `${JOB_TYPE} (${createdMs})` : JOB_TYPE,
      created: at,
      lastUpdated: at,
      notifications: [],
      jobParameters: jobParameters(params),
      jobStatus: 'SCHEDULED',
      lastExecutedStatus: 'NOT_STARTED',
      enabled: true,
      cancel: false,
      executedBy: user.id,
      dead: false,
    };
    job.run = () => this.execute(job, params, payload, user, fatal);
    this.jobs.set(id, job);
    if (!recorded) this.notify(job, `(${user.username}) Import:Start`, false);
    // The answer goes out first; the scheduler picks the job up right after (real 2.43.1: ~80 ms later).
    this.later(() => this.pump(), 0);
    const endpoint = `/api/system/tasks/${JOB_TYPE}/${id}`;
    if (!recorded) {
      const { async: _async, ...older } = params;
      return ok({
        httpStatus: 'OK',
        httpStatusCode: 200,
        status: 'OK',
        message: 'Initiated METADATA_IMPORT',
        response: {
          name: job.name,
          id,
          created: at,
          jobType: JOB_TYPE,
          jobStatus: 'SCHEDULED',
          jobParameters: older,
          relativeNotifierEndpoint: endpoint,
          responseType: asyncJobResponseType(v),
        },
      });
    }
    // real-2.43.1/import-async-validate-ok.json, real-2.42.5.2/import-async-validate.json (+ its Location header).
    return {
      status: 200,
      headers: { Location: `${this.state.baseUrl}/api/system/tasks/${JOB_TYPE}` },
      body: {
        httpStatus: 'OK',
        httpStatusCode: 200,
        status: 'OK',
        message: `Initiated ${job.name}`,
        response: {
          name: job.name,
          id,
          created: at,
          jobType: JOB_TYPE,
          // JobConfiguration.getJobStatus(): a ONCE_ASAP job not saved as SCHEDULED yet is NOT_STARTED.
          jobStatus: 'NOT_STARTED',
          jobParameters: job.jobParameters,
          relativeNotifierEndpoint: endpoint,
          responseType: asyncJobResponseType(v),
        },
      },
    };
  }

  /**
   * The scheduler loop: a SCHEDULED, enabled job starts only when no other job of its type is RUNNING
   * (HibernateJobConfigurationStore.tryStart / getDueJobConfigurations, 2.41+), oldest first ("order by jobtype,
   * created"). Before 2.41 every job starts at once.
   */
  private pump(): void {
    const due = [...this.jobs.values()].filter((j) => j.jobStatus === 'SCHEDULED' && j.enabled && j.run);
    if (!hasJobScheduler(this.state.version)) {
      for (const j of due) this.start(j);
      return;
    }
    if ([...this.jobs.values()].some((j) => j.jobStatus === 'RUNNING')) return;
    const next = due[0];
    if (next) this.start(next);
  }

  private start(job: ImportJob): void {
    const at = now();
    job.jobStatus = 'RUNNING';
    job.lastExecuted = at;
    job.lastAlive = at;
    job.lastUpdated = at;
    job.cancel = false;
    if (recordedAsyncJobShapes(this.state.version)) {
      // real-2.43.1/async-ok-tasks.json, oldest first.
      this.notify(job, 'Metadata import started', false, 'INFO', {
        dataType: 'PARAMETERS',
        data: {
          user: null,
          ...job.jobParameters,
          filename: null,
          csvImportClass: null,
          firstRowIsHeader: true,
        },
      });
      for (const m of [
        'Loading file resource',
        'Loading file content',
        'Running preCreateBundle',
        'Creating bundle',
        'Running postCreateBundle',
        'Validating bundle',
      ]) {
        this.notify(job, m, false);
      }
    }
    const run = job.run!;
    this.later(run, this.state.jobDurationMs);
  }

  /** Runs the import at the end of the job's duration: what it commits, it commits then. */
  private execute(job: ImportJob, params: ImportParams, payload: Obj, user: EmulatorUser, fatal?: string): void {
    if (job.jobStatus !== 'RUNNING') return;
    const v = this.state.version;
    const recorded = recordedAsyncJobShapes(v);
    let outcome: ImportOutcome | undefined;
    let failure: string | undefined = fatal;
    if (failure === undefined) {
      try {
        outcome = runImport(this.state, params, payload, user);
      } catch (err) {
        if (!(err instanceof FatalImportError)) throw err;
        failure = err.message;
      }
    }
    if (outcome) {
      if (recorded) {
        // real-2.43.1/async-ok-taskSummaries.json: the ImportReport with its importParams, no responseType.
        job.summary = {
          importParams: job.jobParameters,
          status: outcome.status,
          typeReports: outcome.typeReports,
          stats: outcome.stats,
        };
        const s = outcome.stats;
        this.notify(
          job,
          `Import complete with status ${outcome.status}, ${s.created} created, ${s.updated} updated, ` +
            `${s.deleted} deleted, ${s.ignored} ignored`,
          true,
        );
      } else {
        job.summary = importReportBody(v, outcome);
        this.notify(job, `(${user.username}) Import:Done`, true);
      }
    } else {
      // real-2.43.1/async-failed-tasks.json: one ERROR notification, completed; no summary (taskSummaries empty).
      this.notify(job, recorded ? `Process failed: ${failure}` : `Import failed: ${failure}`, true, 'ERROR');
    }
    this.finish(job, outcome ? 'COMPLETED' : 'FAILED');
    this.pump();
  }

  /** HibernateJobConfigurationStore.tryFinish for a ONCE_ASAP job: DISABLED, not enabled, STOPPED if cancelled. */
  private finish(job: ImportJob, status: 'COMPLETED' | 'FAILED'): void {
    const at = now();
    job.lastExecutedStatus = job.cancel ? 'STOPPED' : status;
    job.lastFinished = at;
    job.lastUpdated = at;
    job.lastAlive = undefined;
    job.cancel = false;
    job.enabled = false;
    job.jobStatus = 'DISABLED';
  }

  private notify(job: ImportJob, message: string, completed: boolean, level = 'INFO', extra: Obj = {}): void {
    const uid = generateUid();
    // The notification's id and uid are the same value (real-2.43.1/async-ok-tasks.json).
    job.notifications.push({
      level,
      category: JOB_TYPE,
      message,
      completed,
      ...extra,
      id: uid,
      time: now(),
      uid,
    });
  }

  /** GET /api/system/tasks/{type}/{id}: newest first; [] for an unknown job or one that has not started. */
  tasks(jobType: string, id: string): Reply {
    const job = jobType === JOB_TYPE ? this.jobs.get(id) : undefined;
    return { status: 200, body: job ? [...job.notifications].reverse() : [] };
  }

  /**
   * GET /api/system/taskSummaries/{type}/{id}: SystemController.getTaskSummaryJson answers 200 with an empty body
   * (`ResponseEntity.ok().cacheControl(noStore()).build()`) while there is no summary: an unknown job, one still
   * queued or running, a failed one (real-2.43.1/async-failed-taskSummaries.txt, async-unknown-job-summary.txt).
   */
  summary(jobType: string, id: string): Reply {
    const job = jobType === JOB_TYPE ? this.jobs.get(id) : undefined;
    if (!job?.summary) return { status: 200, body: '', contentType: NO_CONTENT_TYPE };
    return { status: 200, body: job.summary };
  }

  /** The JobConfiguration as GET /api/jobConfigurations/{id} serializes it (real-2.42.5.2/async-*-jobConfiguration.json). */
  private serialize(job: ImportJob): Obj {
    const v = this.state.version;
    const user = this.state.users.find((u) => u.id === job.executedBy) ?? this.state.users[0]!;
    const userName = `${user.username} (emulator)`;
    const runtime =
      job.lastExecuted && job.lastFinished ? hms(Date.parse(job.lastFinished) - Date.parse(job.lastExecuted)) : null;
    const nextMs = job.lastExecuted ? Date.parse(`${job.lastExecuted}Z`) + 1000 : Date.now();
    const o: Obj = {
      name: job.name,
      created: job.created,
      lastUpdated: job.lastUpdated,
      translations: [],
      favorites: [],
      lastUpdatedBy: {
        id: user.id,
        code: user.username,
        name: userName,
        displayName: userName,
        username: user.username,
      },
      sharing: hasExternalSharing(v) ? { external: false, users: {}, userGroups: {} } : { users: {}, userGroups: {} },
      jobType: JOB_TYPE,
      schedulingType: 'ONCE_ASAP',
      jobParameters: job.jobParameters,
      enabled: job.enabled,
      // JobConfiguration.getJobStatus(): an enabled DISABLED job reads SCHEDULED; otherwise the stored status.
      jobStatus: job.enabled && job.jobStatus === 'DISABLED' ? 'SCHEDULED' : job.jobStatus,
      lastExecutedStatus: job.lastExecutedStatus,
      lastExecuted: job.lastExecuted,
      lastFinished: job.lastFinished,
      lastAlive: job.lastAlive,
      executedBy: job.executedBy,
      // updateProgress writes errorcodes ("" without errors) as the job records its progress.
      errorCodes: job.lastFinished ? '' : undefined,
      configurable: false,
      nextExecutionTime: timestamp(nextMs),
      lastRuntimeExecution: runtime ?? undefined,
      leaderOnlyJob: true,
      userUid: job.executedBy,
      displayName: job.name,
      access: {
        manage: true,
        ...(hasExternalSharing(v) ? { externalize: true } : {}),
        write: true,
        read: true,
        update: true,
        delete: true,
      },
      favorite: false,
      href: `${this.state.baseUrl}/api/jobConfigurations/${job.id}`,
      id: job.id,
      attributeValues: [],
    };
    // Jackson leaves nulls out (the queued job of real-2.43.1 has no lastAlive, the finished ones no lastAlive).
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
  }

  /** GET /api/jobConfigurations/{id} with `fields` (default all), as any AbstractCrudController. */
  get(id: string, q: URLSearchParams): Reply {
    const job = this.jobs.get(id);
    if (!job) return notFound(id);
    const fields = q.getAll('fields').join(',');
    const o = this.serialize(job);
    return { status: 200, body: fields ? applyFields(o, parseFields(fields), () => undefined) : o };
  }

  /**
   * GET /api/jobConfigurations: the generic list of AbstractCrudController (fields, filter, order, paging) over
   * the emulator's METADATA_IMPORT jobs (a real server lists its system jobs too). jobType and jobStatus are
   * persisted properties, so `filter=jobType:eq:METADATA_IMPORT&filter=jobStatus:eq:RUNNING` works.
   */
  list(q: URLSearchParams): Reply {
    const objects = [...this.jobs.values()].map((j) => this.serialize(j));
    return listObjects(this.state, 'jobConfigurations', objects, q);
  }

  /**
   * POST /api/jobConfigurations/{id}/cancel -> DefaultJobSchedulerService.requestCancel ->
   * HibernateJobConfigurationStore.tryCancel, answered 204 whatever it changed:
   * - RUNNING and not yet cancelled: only `cancel = true`. A job running on this node stops at its next step
   *   (applyCancellation); a job left by a killed server runs nowhere, so nothing happens and it stays RUNNING
   *   until housekeeping. The emulator's own running job still finishes its import (and commits it): the
   *   emulator does not model where a real import would stop; it ends with lastExecutedStatus STOPPED (tryFinish).
   * - SCHEDULED ONCE_ASAP (queued, not started): `enabled = false`, lastExecutedStatus STOPPED; jobStatus stays
   *   SCHEDULED until housekeeping's updateDisabledJobs makes it DISABLED. tryStart needs `enabled = true`, so it
   *   never runs: nothing of its import is committed, its tasks stay [] and its summary empty.
   * - anything else (finished, already cancelled): no change.
   * An unknown id is 404 (the 2.42+ controller's checkExecutingUserOrAdmin looks the job up first).
   */
  cancel(id: string): Reply {
    const job = this.jobs.get(id);
    if (!job) return notFound(id);
    const at = now();
    if (job.jobStatus === 'RUNNING' && !job.cancel) {
      job.cancel = true;
      job.lastUpdated = at;
    } else if (job.jobStatus === 'SCHEDULED') {
      job.enabled = false;
      job.lastExecutedStatus = 'STOPPED';
      job.lastUpdated = at;
    }
    return { status: 204, body: '', contentType: NO_CONTENT_TYPE };
  }

  /**
   * DELETE /api/jobConfigurations/{id}: AbstractCrudController finds the object (404 when unknown), then
   * JobConfigurationController.preDeleteEntity -> checkModifiable refuses every job that is not configurable
   * (METADATA_IMPORT is not: `"configurable": false`) with ConflictException: 409, nothing deleted.
   */
  remove(id: string): Reply {
    const job = this.jobs.get(id);
    if (!job) return notFound(id);
    return webMessage(409, `Job ${id} is a system job that cannot be deleted.`);
  }

  /** A METADATA_IMPORT job left RUNNING by a server killed mid-import (real-2.43.1/async-stale-running-job...). */
  leaveStale(options: StaleJobOptions = {}): string {
    if (!hasJobScheduler(this.state.version)) {
      throw new Error('Emulator: stale jobs are emulated from 2.41 (the job scheduler of DefaultJobSchedulerService)');
    }
    const ageMs = options.ageMs ?? 10 * 60_000;
    const createdMs = Date.now() - ageMs - 100;
    const id = generateUid();
    const user = this.state.users[0]!;
    this.jobs.set(id, {
      id,
      name: `${JOB_TYPE} (${createdMs})`,
      created: timestamp(createdMs),
      lastUpdated: timestamp(createdMs + 60),
      notifications: [],
      jobParameters: jobParameters(undefined),
      jobStatus: 'RUNNING',
      lastExecutedStatus: 'NOT_STARTED',
      enabled: true,
      cancel: false,
      lastExecuted: timestamp(createdMs + 40),
      lastAlive: timestamp(createdMs + 60),
      executedBy: user.id,
      dead: true,
    });
    return id;
  }

  /**
   * HousekeepingJob: applyCancellation (only jobs running on this node), updateDisabledJobs (SCHEDULED and not
   * enabled -> DISABLED), rescheduleStaleJobs (RUNNING without a sign of life for jobsRescheduleAfterMinutes ->
   * DISABLED, not enabled, lastExecutedStatus FAILED, lastFinished now, lastAlive null, cancel false); then the
   * scheduler starts what was waiting. Only the dead jobs count as stale here.
   */
  housekeeping(): number {
    const at = now();
    for (const j of this.jobs.values()) {
      if (j.jobStatus === 'SCHEDULED' && !j.enabled) {
        j.jobStatus = 'DISABLED';
        j.lastUpdated = at;
      }
    }
    let n = 0;
    for (const j of this.jobs.values()) {
      if (!j.dead || j.jobStatus !== 'RUNNING') continue;
      j.jobStatus = 'DISABLED';
      j.enabled = false;
      j.cancel = false;
      j.lastExecutedStatus = 'FAILED';
      j.lastFinished = at;
      j.lastAlive = undefined;
      j.lastUpdated = at;
      n++;
    }
    this.later(() => this.pump(), 0);
    return n;
  }
}

/** The jobParameters of a METADATA_IMPORT job (real-2.43.1/import-async-validate-ok.json: MetadataImportParams). */
function jobParameters(params: ImportParams | undefined): Obj {
  return {
    importMode: params?.importMode ?? 'COMMIT',
    identifier: params?.identifier ?? 'UID',
    preheatMode: params?.preheatMode ?? 'REFERENCE',
    importStrategy: params?.importStrategy ?? 'CREATE_AND_UPDATE',
    atomicMode: params?.atomicMode ?? 'ALL',
    flushMode: params?.flushMode ?? 'AUTO',
    importReportMode: params?.importReportMode ?? 'ERRORS',
    skipSharing: params?.skipSharing ?? false,
    skipTranslation: params?.skipTranslation ?? false,
    skipValidation: params?.skipValidation ?? false,
    metadataSyncImport: false,
    async: true,
    firstRowIsHeader: true,
  };
}

/** DurationFormatUtils.formatDurationHMS: "00:00:00.065". */
function hms(ms: number): string {
  const d = Math.max(0, ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h = Math.floor(d / 3_600_000);
  const m = Math.floor((d % 3_600_000) / 60_000);
  const s = Math.floor((d % 60_000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(d % 1000, 3)}`;
}

function notFound(id: string): Reply {
  return webMessage(404, `JobConfiguration with id ${id} could not be found.`);
}

function ok(body: Obj): Reply {
  return { status: 200, body };
}
