import { TypedEmitter } from '../events.js';
import { JobStateError, NotFoundError, OptionsError } from '../errors.js';
import { JobStatus, isEndState } from '../status.js';
import type { JobFilter, RunFilter, StorageEvent } from '../storage/port.js';
import type { Json, JobRecord, OccurrenceRecord, Page, RunRecord } from '../storage/records.js';
import { resumeIncompleteBatches, startBatch } from './batches.js';
import { GridCache, type SchedulerContext, keyedLock } from './context.js';
import { Dispatcher } from './dispatcher.js';
import { duplicateSpec } from './duplicate.js';
import { finishJobIfDone } from './finish.js';
import { buildJobRecord, type BuiltJob } from './job-builder.js';
import { applyUpdate } from './job-update.js';
import { assertAllowed } from './lifecycle.js';
import { WATCHED, processJob, startBuffered } from './occurrences.js';
import { keepsLogs, purgeRuns } from './purge.js';
import { recoverRunProcesses, sweepLeftovers } from './recovery.js';
import { type JobSchedulerOptions, type ResolvedSchedulerOptions, resolveOptions } from './options.js';
import { handleRun, wireExecutorEvents } from './run-handler.js';
import { ScheduleCache, isCron } from './schedule-adapter.js';
import { TimerLoop } from './timer-loop.js';
import type { Job, JobSpec, JobUpdate, Run, SchedulerEvents } from './types.js';
import { toJob, toRun } from './views.js';

/**
 * Jobs, schedules, batches and their policies: Orchest's Jobs page as an API. Runs wait
 * in storage and are claimed with a lease, so several processes can share one store.
 *
 * @example
 * const scheduler = new JobScheduler({ storage, snapshots, executor });
 * await scheduler.start();
 * const job = await scheduler.createJob({ name: 'nightly', projectDir, pipeline: 'main.orchest',
 *   schedule: { type: 'cron', cron: '0 3 * * *', timezone: 'Europe/Berlin' } });
 */
export class JobScheduler {
  readonly #o: ResolvedSchedulerOptions;
  readonly #events: TypedEmitter<SchedulerEvents>;
  readonly #ctx: SchedulerContext;
  readonly #unwire: () => void;
  #started = false;
  #stopped = false;
  #lastRescan = Number.NEGATIVE_INFINITY;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(options: JobSchedulerOptions) {
    this.#o = resolveOptions({ ...options });
    const o = this.#o;
    this.#events = new TypedEmitter<SchedulerEvents>(o.logger);
    const fail = (error: unknown, during: string): void => {
      o.logger.error(`pipeline-jobs scheduler: ${during} failed`, { error });
      this.#events.emit('scheduler:error', { error, during });
    };
    const lock = keyedLock();
    const ctxRef: { ctx?: SchedulerContext } = {};
    const dispatcher = new Dispatcher({
      storage: o.storage,
      clock: o.clock,
      logger: o.logger,
      owner: o.owner,
      concurrency: o.concurrency,
      leaseMs: o.leaseMs,
      heartbeatMs: o.heartbeatMs,
      pollMs: o.pollMs,
      claimBatch: Math.max(1, Math.min(o.concurrency, 256)),
      handle: (run, signal) => handleRun(ctxRef.ctx!, run, signal),
      onFinished: async (run, outcome, stored) => {
        const reason = outcome.reason ?? null;
        if (stored) this.#events.emit('run:finished', { jobId: run.jobId, runId: run.id, status: outcome.status, reason });
        await this.#afterRun(run, stored);
      },
      onError: fail,
      onPoll: () => this.#poll(),
    });
    const timer = new TimerLoop(o.clock, o.maxSleepMs, (ids) => {
      // One after another, in due order: started all at once, their awaits interleave and
      // the first batch is written only after every due job was read and planned.
      void (async () => {
        for (const id of ids) await processJob(this.#ctx, id).catch((err: unknown) => fail(err, `processing job ${id}`));
      })();
    });
    this.#ctx = { o, events: this.#events, timer, dispatcher, grids: new GridCache(o.maxRunsPerBatch), schedules: new ScheduleCache(), lock, fail };
    ctxRef.ctx = this.#ctx;
    this.#unwire = wireExecutorEvents(this.#ctx);
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SchedulerEvents>(event: K, listener: (payload: SchedulerEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Starts watching schedules and running pending runs: prepares the storage, recovers
   * runs whose process died, finishes batches left half-written, and arms the timer for
   * every job (occurrences missed while no process ran follow their missed policy).
   */
  async start(): Promise<void> {
    if (this.#started) return;
    if (this.#stopped) throw new JobStateError('SCHEDULER_STOPPED', 'A stopped scheduler cannot be started again', { hint: 'Create a new JobScheduler' });
    this.#started = true;
    // A handle, not a timer of the scheduler's logic: it only keeps Node running.
    if (this.#o.keepAlive) this.#keepAlive = setInterval(() => undefined, 2 ** 30);
    await this.#o.storage.init();
    if (this.#o.storage.subscribe) this.#unsubscribe = await this.#o.storage.subscribe((e) => this.#onStorageEvent(e));
    this.#ctx.timer.start();
    await this.#poll();
    this.#ctx.dispatcher.start();
  }

  /** Reacts at once to what other processes did (when the storage can tell). */
  #onStorageEvent(e: StorageEvent): void {
    if (this.#stopped) return;
    const { dispatcher } = this.#ctx;
    if (e.type === 'runs-pending') dispatcher.wake();
    else if (e.type === 'cancel') void dispatcher.heartbeat();
    else if (e.jobId === undefined) this.#lastRescan = Number.NEGATIVE_INFINITY;
    else processJob(this.#ctx, e.jobId).catch((err: unknown) => this.#ctx.fail(err, `processing job ${e.jobId}`));
  }

  /**
   * Stops the timer and claiming. `drain` (default) waits for runs going in this process
   * to finish, up to `timeoutMs`, then cancels the rest; `cancel` cancels them at once.
   * Cancelled runs end ABORTED. Does not close the storage (the host owns it).
   */
  async stop(options: { mode?: 'drain' | 'cancel'; timeoutMs?: number } = {}): Promise<void> {
    this.#stopped = true;
    this.#ctx.timer.stop();
    this.#ctx.dispatcher.stopClaiming();
    const { clock } = this.#o;
    if (options.mode === 'cancel') this.#ctx.dispatcher.abortAll('cancelled');
    else if (this.#ctx.dispatcher.activeCount > 0) {
      const timeout = new Promise<'timeout'>((resolve) => clock.setTimeout(() => resolve('timeout'), options.timeoutMs ?? 30_000));
      if ((await Promise.race([this.#ctx.dispatcher.onIdle().then(() => 'idle' as const), timeout])) === 'timeout') this.#ctx.dispatcher.abortAll('cancelled');
    }
    await this.#ctx.dispatcher.onIdle();
    this.#unwire();
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    await this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Creates a job: takes a snapshot of the project, reads the pipeline and its
   * parameters from the snapshot, checks the schedule, and stores the job (as a draft
   * with `draft: true`). Bad input throws a typed error and leaves nothing behind.
   */
  async createJob(spec: JobSpec): Promise<Job> {
    const built: BuiltJob = await buildJobRecord(this.#ctx, spec);
    await this.#o.storage.insertJob(built.record);
    const job = toJob(built.record, this.#ctx.grids);
    this.#events.emit('job:created', { job });
    if (built.record.status !== JobStatus.DRAFT) await this.#kick(built.record.id);
    return (await this.getJob(built.record.id)) ?? job;
  }

  /** Confirms a draft: one-off -> PENDING, cron -> STARTED. */
  async confirmJob(jobId: string): Promise<Job> {
    const job = await this.#require(jobId);
    assertAllowed('confirm', job.status, isCron(job), jobId);
    const status = isCron(job) ? JobStatus.STARTED : JobStatus.PENDING;
    const patch = confirmPatch(job, this.#o.clock.now());
    const next = await this.#o.storage.updateJob(jobId, { ...patch, status }, { status: [JobStatus.DRAFT], version: job.version }, this.#o.clock.now());
    if (!next) return this.confirmJob(jobId);
    this.#events.emit('job:updated', { job: toJob(next, this.#ctx.grids) });
    await this.#kick(jobId);
    return this.#view(jobId);
  }

  /** Applies an explicit patch, as the lifecycle table allows. Edits apply to later batches. */
  async updateJob(jobId: string, update: JobUpdate): Promise<Job> {
    const next = await applyUpdate(this.#ctx, await this.#require(jobId), update);
    this.#events.emit('job:updated', { job: toJob(next, this.#ctx.grids) });
    await this.#kick(jobId);
    return this.#view(jobId);
  }

  /** Pauses a cron job: occurrences while paused are skipped (`paused`), never caught up. */
  async pauseJob(jobId: string): Promise<Job> {
    const job = await this.#require(jobId);
    assertAllowed('pause', job.status, isCron(job), jobId);
    if (job.status === JobStatus.PAUSED) return this.#view(jobId);
    await processJob(this.#ctx, jobId); // what fell due before the pause still runs
    const done = await this.#o.storage.updateJob(jobId, { status: JobStatus.PAUSED }, { status: [JobStatus.STARTED] }, this.#o.clock.now());
    if (!done) return this.pauseJob(jobId);
    this.#events.emit('job:paused', { jobId });
    return this.#view(jobId);
  }

  /** Resumes a paused cron job from now on. */
  async resumeJob(jobId: string): Promise<Job> {
    const job = await this.#require(jobId);
    assertAllowed('resume', job.status, isCron(job), jobId);
    if (job.status === JobStatus.STARTED) return this.#view(jobId);
    await processJob(this.#ctx, jobId); // records what fell due while paused as skipped
    const done = await this.#o.storage.updateJob(jobId, { status: JobStatus.STARTED }, { status: [JobStatus.PAUSED] }, this.#o.clock.now());
    if (!done) return this.resumeJob(jobId);
    this.#events.emit('job:resumed', { jobId });
    await this.#kick(jobId);
    return this.#view(jobId);
  }

  /** Starts an extra batch now; the schedule is left as it is. */
  async triggerJob(jobId: string): Promise<{ batchIndex: number; runCount: number }> {
    const job = await this.#require(jobId);
    assertAllowed('trigger', job.status, isCron(job), jobId);
    const batch = await this.#ctx.lock(jobId, async () => {
      const fresh = await this.#require(jobId);
      assertAllowed('trigger', fresh.status, isCron(fresh), jobId);
      return startBatch(this.#ctx, fresh, 'manual', null, [fresh.status]);
    });
    if (!batch) return this.triggerJob(jobId);
    return { batchIndex: batch.batchIndex, runCount: batch.runCount };
  }

  /** Cancels a job: ABORTED at once; pending runs ABORTED, running runs cancelled. */
  async cancelJob(jobId: string): Promise<Job> {
    const job = await this.#require(jobId);
    assertAllowed('cancel', job.status, isCron(job), jobId);
    const now = this.#o.clock.now();
    const done = await this.#o.storage.updateJob(jobId, { status: JobStatus.ABORTED, finishedAt: now }, { status: [job.status], version: job.version }, now);
    if (!done) return this.cancelJob(jobId);
    this.#ctx.timer.set(jobId, undefined);
    const { flagged } = await this.#o.storage.cancelRuns({ jobId }, now);
    for (const id of flagged) this.#ctx.dispatcher.abort(id, 'cancelled');
    this.#events.emit('job:finished', { jobId, status: JobStatus.ABORTED });
    return this.#view(jobId);
  }

  /**
   * Deletes a job with its runs, their logs (unless `keepLogs`), artifacts and kept
   * working copies, and its snapshot when no other job uses it. A run of it still
   * stopping in this process is awaited first.
   */
  async deleteJob(jobId: string, options: { keepLogs?: boolean } = {}): Promise<void> {
    const job = await this.#require(jobId);
    assertAllowed('delete', job.status, isCron(job), jobId);
    const runIds = await this.#o.storage.deleteJob(jobId);
    this.#ctx.timer.set(jobId, undefined);
    this.#ctx.grids.forget(jobId);
    this.#ctx.schedules.forget(jobId);
    await purgeRuns(this.#ctx, runIds, options.keepLogs === true);
    const others = await this.#o.storage.listJobs({ limit: Number.MAX_SAFE_INTEGER });
    if (!others.items.some((j) => j.snapshotId === job.snapshotId)) {
      // Already gone is fine: a delete interrupted by a crash may have removed it.
      if (await this.#o.snapshots.get(job.snapshotId)) await this.#o.snapshots.delete(job.snapshotId);
    }
    this.#events.emit('job:deleted', { jobId });
  }

  /** A new job like this one, on a new snapshot of the project as it is now. */
  async duplicateJob(jobId: string, overrides: Partial<Pick<JobSpec, 'name' | 'draft'>> = {}): Promise<Job> {
    return this.createJob(await duplicateSpec(this.#ctx, await this.#require(jobId), overrides));
  }

  async getJob(jobId: string): Promise<Job | undefined> {
    const job = await this.#o.storage.getJob(jobId);
    return job && toJob(job, this.#ctx.grids);
  }

  /** Jobs of a project (newest first), filtered by status, with run counts per status. */
  async listJobs(filter: JobFilter = {}): Promise<Page<Job>> {
    const page = await this.#o.storage.listJobs(filter);
    return { items: page.items.map((j) => toJob(j, this.#ctx.grids)), next: page.next };
  }

  /** The next `n` occurrences of a job's schedule from now (or `from`). */
  async previewJob(jobId: string, n = 10, from?: number): Promise<number[]> {
    return this.#ctx.schedules.preview(await this.#require(jobId), n, from ?? this.#o.clock.now());
  }

  /** The job's occurrence ledger: started batches and skips with reasons, oldest first. */
  async listOccurrences(jobId: string, page?: { limit?: number; cursor?: string | null }): Promise<Page<OccurrenceRecord>> {
    await this.#require(jobId);
    return this.#o.storage.listOccurrences(jobId, page);
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const run = await this.#o.storage.getRun(runId);
    return run && toRun(run, await this.#o.storage.getStepStates(runId));
  }

  /** A job's runs in run order, filtered by status and batch, with cursor pagination. */
  async listRuns(jobId: string, filter: RunFilter = {}): Promise<Page<Run>> {
    await this.#require(jobId);
    const page = await this.#o.storage.listRuns(jobId, filter);
    return { items: page.items.map((r) => toRun(r, [])), next: page.next };
  }

  /** Cancels one run: PENDING -> ABORTED at once; STARTED: stopped, then ABORTED. */
  async cancelRun(runId: string): Promise<void> {
    const run = await this.#requireRun(runId);
    if (isEndState(run.status)) {
      throw new JobStateError('RUN_ALREADY_FINISHED', `Run "${runId}" already ended`, { path: 'runId', value: run.status, hint: 'Only PENDING or STARTED runs can be cancelled' });
    }
    const { flagged, aborted } = await this.#o.storage.cancelRuns({ runIds: [runId] }, this.#o.clock.now());
    for (const id of flagged) this.#ctx.dispatcher.abort(id, 'cancelled');
    if (aborted.length > 0) await this.#afterRun(run, true);
  }

  /** Deletes one finished run with its logs (unless `keepLogs`), artifacts and kept working copy. */
  async deleteRun(runId: string, options: { keepLogs?: boolean } = {}): Promise<void> {
    const run = await this.#requireRun(runId);
    if (!isEndState(run.status)) {
      throw new JobStateError('RUN_NOT_FINISHED', `Run "${runId}" is still ${run.status}`, { path: 'runId', value: run.status, hint: 'Cancel it first, or wait for it to end' });
    }
    // Files first: a crash in between leaves a record that can be deleted again, never orphaned files.
    await purgeRuns(this.#ctx, [runId], options.keepLogs === true);
    await this.#o.storage.deleteRuns(run.jobId, { runIds: [runId] });
  }

  /** Resolves when the job reaches an end state (or is deleted). */
  async waitForJob(jobId: string, signal?: AbortSignal): Promise<Job> {
    const ended = this.#events.once('job:finished', (p) => p.jobId === jobId, signal);
    const job = await this.#require(jobId);
    if (isEndState(job.status)) return toJob(job, this.#ctx.grids);
    await ended;
    return this.#view(jobId);
  }

  /** Resolves when the run ends. */
  async waitForRun(runId: string, signal?: AbortSignal): Promise<Run> {
    const ended = this.#events.once('run:finished', (p) => p.runId === runId, signal);
    const run = await this.#requireRun(runId);
    if (!isEndState(run.status)) await ended;
    return (await this.getRun(runId))!;
  }

  /** Resolves when this process runs nothing and claims nothing. */
  async onIdle(): Promise<void> {
    await this.#ctx.dispatcher.onIdle();
  }

  async #afterRun(run: RunRecord, stored: boolean): Promise<void> {
    const job = await this.#o.storage.getJob(run.jobId);
    if (!job) return;
    const retain = (job.options as { maxRetainedRuns?: number | null } | null)?.maxRetainedRuns;
    if (stored && typeof retain === 'number') {
      await purgeRuns(this.#ctx, await this.#o.storage.deleteRuns(job.id, { keepLatest: retain }), keepsLogs(job));
    }
    await startBuffered(this.#ctx, job.id);
    await finishJobIfDone(this.#ctx, job.id);
  }

  async #poll(): Promise<void> {
    const requeue = (job: JobRecord): boolean => (job.options as { onInterrupted?: string } | null)?.onInterrupted === 'rerun';
    for (const r of await this.#o.storage.recoverExpiredRuns(requeue, this.#o.clock.now())) {
      this.#o.logger.warn('a run whose process died was recovered', { runId: r.run.id, outcome: r.outcome });
      await recoverRunProcesses(this.#ctx, r.run, r.outcome);
      if (r.outcome === 'failed') {
        this.#events.emit('run:finished', { jobId: r.run.jobId, runId: r.run.id, status: r.run.status, reason: r.run.reason });
        await this.#afterRun(r.run, true);
      }
    }
    await resumeIncompleteBatches(this.#ctx);
    // Jobs other processes created or changed: picked up here when no notification came.
    const now = this.#o.clock.now();
    if (now - this.#lastRescan >= this.#o.rescanMs) {
      this.#lastRescan = now;
      // What dead runs left on this machine, also where their recovery itself was cut short.
      await sweepLeftovers(this.#ctx).catch((err: unknown) => this.#ctx.fail(err, 'sweeping what dead runs left'));
      for (const id of await this.#o.storage.listJobIds(WATCHED)) if (!this.#ctx.timer.has(id)) await processJob(this.#ctx, id);
    }
  }

  async #kick(jobId: string): Promise<void> {
    await processJob(this.#ctx, jobId);
    this.#ctx.dispatcher.wake();
  }

  async #view(jobId: string): Promise<Job> {
    return toJob(await this.#require(jobId), this.#ctx.grids);
  }

  async #require(jobId: string): Promise<JobRecord> {
    const job = await this.#o.storage.getJob(jobId);
    if (!job) throw new NotFoundError('JOB_NOT_FOUND', `No job with id "${jobId}"`, { path: 'jobId', value: jobId, hint: 'List jobs with listJobs()' });
    return job;
  }

  async #requireRun(runId: string): Promise<RunRecord> {
    const run = await this.#o.storage.getRun(runId);
    if (!run) throw new NotFoundError('RUN_NOT_FOUND', `No run with id "${runId}"`, { path: 'runId', value: runId, hint: 'List runs with listRuns(jobId)' });
    return run;
  }
}

/** On confirm, a `now` schedule means the moment of confirmation, and a cron schedule starts then. */
function confirmPatch(job: JobRecord, now: number): { schedule?: Json; scheduleCursor?: number } {
  const s = job.schedule as { type?: string } | null;
  if (s?.type === 'now') return { schedule: { ...(s as Record<string, Json>), at: now } };
  if (s?.type === 'cron') return { scheduleCursor: now };
  return {};
}
