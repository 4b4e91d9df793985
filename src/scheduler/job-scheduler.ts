import { yieldTo } from '../clock.js';
import { TypedEmitter } from '../events.js';
import { JobStateError, NotFoundError } from '../errors.js';
import { JobStatus, isEndState } from '../status.js';
import type { StorageEvent } from '../storage/port.js';
import { jobFilterOf, pageOf, previewOptionsOf, runFilterOf, stepStatesOf } from './queries.js';
import type { Occurrence } from '../schedule/index.js';
import type { BatchRecord, JobPatch, JobRecord, OccurrenceRecord, Page, RunRecord } from '../storage/records.js';
import { BatchCache } from './batch-cache.js';
import { resumeIncompleteBatches, startBatch } from './batches.js';
import { GridCache, type SchedulerContext, keyedLock } from './context.js';
import { Dispatcher } from './dispatcher.js';
import { duplicateSpec } from './duplicate.js';
import { emitAborted, finishJobIfDone } from './finish.js';
import { jobKeyOf, sameJobOrThrow } from './job-key.js';
import { SharedJobReads } from './job-reads.js';
import { buildJobRecord, type BuiltJob } from './job-builder.js';
import { applyUpdate } from './job-update.js';
import { assertAllowed } from './lifecycle.js';
import { WATCHED, processJob, startBuffered } from './occurrences.js';
import { keepsLogs, purgeRuns } from './purge.js';
import { recoverRunProcesses, sweepLeftovers } from './recovery.js';
import { type FollowLogOptions, followStepLog, getJobBatch, listJobBatches, readStepLog } from './results.js';
import { type JobSchedulerOptions, type ResolvedSchedulerOptions, resolveOptions } from './options.js';
import { handleRun, wireExecutorEvents } from './run-handler.js';
import { ScheduleCache, isCron } from './schedule-adapter.js';
import { snapshotInUse } from './snapshot-refs.js';
import { TimerLoop } from './timer-loop.js';
import type { Job, JobQuery, JobSpec, JobUpdate, PageOptions, PreviewJobOptions, Run, RunQuery, SchedulerEvents } from './types.js';
import { toJob, toRun } from './views.js';
import { Waiters } from './waiters.js';

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
  readonly #waiters: Waiters;
  #started = false;
  #starting: Promise<void> | undefined;
  #stopped = false;
  /** Background work not tied to a run (timer processing, polls, notifications): `stop()` waits for it. */
  readonly #background = new Set<Promise<unknown>>();
  #lastRescan = Number.NEGATIVE_INFINITY;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;

  /**
   * A scheduler over `storage` and `executor` (and `snapshots`, for jobs with a project
   * directory). Nothing runs until `start()`.
   * @throws OptionsError `OPTIONS_MISSING` / `OPTIONS_INVALID` for missing or bad options
   */
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
      onClaimed: (runs) => ctxRef.ctx!.jobReads.claimed(runs),
      onFinished: async (run, outcome, stored) => {
        const reason = outcome.reason ?? null;
        if (stored) this.#events.emit('run:finished', { jobId: run.jobId, runId: run.id, status: outcome.status, reason });
        await this.#afterRun(run, stored);
      },
      onError: fail,
      onPoll: () => this.#track(this.#poll()),
    });
    const timer = new TimerLoop(o.clock, o.maxSleepMs, (ids) => {
      // One after another, in due order: started all at once, their awaits interleave and
      // the first batch is written only after every due job was read and planned. Between
      // two jobs the process gets a turn, so the runs already written start (their working
      // copies need I/O) while later jobs' batches are written.
      void this.#track(
        (async () => {
          for (const [i, id] of ids.entries()) {
            if (i > 0) await yieldTo(o.clock);
            // Stopped meanwhile: the rest are handled at the next start, as occurrences missed.
            if (this.#stopped) return;
            await processJob(this.#ctx, id).catch((err: unknown) => fail(err, `processing job ${id}`));
          }
        })(),
      );
    });
    this.#ctx = { o, events: this.#events, timer, dispatcher, grids: new GridCache(o.maxRunsPerBatch), batches: new BatchCache(), jobReads: new SharedJobReads(o.storage, o.clock), schedules: new ScheduleCache(), lock, fail };
    ctxRef.ctx = this.#ctx;
    this.#unwire = wireExecutorEvents(this.#ctx);
    this.#waiters = new Waiters(o.storage, o.clock, o.pollMs, fail);
    // An end seen in this process is checked at once; other processes' ends by the poll.
    // (A job ends only with its own event here: a run's end re-reads the waited runs alone.)
    this.#events.on('run:finished', () => this.#waiters.check({ runs: true, jobs: false }));
    for (const e of ['job:finished', 'job:deleted'] as const) this.#events.on(e, () => this.#waiters.check());
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
    if (this.#stopped) throw new JobStateError('SCHEDULER_STOPPED', 'A stopped scheduler cannot be started again', { hint: 'Create a new JobScheduler' });
    if (this.#started) return;
    // Concurrent calls share one attempt; a failed attempt leaves nothing behind and can be retried.
    this.#starting ??= this.#startOnce().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** All or nothing: on a failure everything started so far is undone before it rethrows. */
  async #startOnce(): Promise<void> {
    try {
      await this.#o.storage.init();
      if (this.#o.storage.subscribe) this.#unsubscribe = await this.#o.storage.subscribe((e) => this.#onStorageEvent(e));
      await this.#poll();
      if (this.#stopped) return; // stop() was called meanwhile: it wins
      this.#ctx.timer.start();
      this.#ctx.dispatcher.start();
      // A handle, not a timer of the scheduler's logic: it only keeps Node running.
      if (this.#o.keepAlive) this.#keepAlive = setInterval(() => undefined, 2 ** 30);
      this.#started = true;
    } catch (error) {
      this.#ctx.timer.stop();
      this.#ctx.dispatcher.stopClaiming();
      const unsubscribe = this.#unsubscribe;
      this.#unsubscribe = undefined;
      await unsubscribe?.().catch((e: unknown) => this.#o.logger.warn('unsubscribing after a failed start failed', { error: e }));
      throw error;
    }
  }

  /** Keeps `work` in the set `stop()` waits for until it settles. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#background.add(work);
    void work.then(
      () => this.#background.delete(work),
      () => this.#background.delete(work),
    );
    return work;
  }

  /** Reacts at once to what other processes did (when the storage can tell). */
  #onStorageEvent(e: StorageEvent): void {
    if (this.#stopped) return;
    this.#waiters.check();
    const { dispatcher } = this.#ctx;
    if (e.type === 'runs-pending') dispatcher.wake();
    else if (e.type === 'cancel') void this.#track(dispatcher.heartbeat());
    else if (e.jobId === undefined) this.#lastRescan = Number.NEGATIVE_INFINITY;
    else void this.#track(processJob(this.#ctx, e.jobId).catch((err: unknown) => this.#ctx.fail(err, `processing job ${e.jobId}`)));
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
    await this.#ctx.dispatcher.giveBackUnknownClaims();
    await this.#starting?.catch(() => undefined); // a failed start was reported to its caller
    // Timer processing, polls and notification handling started before the stop end first.
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    await this.#ctx.dispatcher.onIdle();
    await this.#waiters.close(new JobStateError('SCHEDULER_STOPPED', 'The scheduler stopped while this was waited for', { hint: 'Wait on a scheduler that runs' }));
    this.#unwire();
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    await this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** `await using scheduler = ...`: stops the scheduler (as `stop()`) at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Creates a job: takes a snapshot of the project, reads the pipeline and its
   * parameters from the snapshot, checks the schedule, and stores the job (as a draft
   * with `draft: true`). Bad input throws a typed error and leaves nothing behind. With a
   * `key`, a create that was already made returns that job (a retry is safe).
   */
  async createJob(spec: JobSpec): Promise<Job> {
    const key = jobKeyOf(spec);
    if (key) {
      // A retry: the job is there (perhaps its first create failed after the insert).
      const held = (await this.#o.storage.listJobs({ key: key.key, limit: 1 })).items[0];
      if (held) return this.#keyed(sameJobOrThrow(held, key));
    }
    const built: BuiltJob = await buildJobRecord(this.#ctx, spec, key);
    const stored = await this.#o.storage.insertJob(built.record);
    if (stored.id !== built.record.id) {
      // Another create with this key (another process) stored its job first.
      await built.discard();
      return this.#keyed(sameJobOrThrow(stored, key!));
    }
    const job = toJob(built.record, this.#ctx.grids);
    this.#events.emit('job:created', { job });
    if (built.record.status !== JobStatus.DRAFT) await this.#kick(built.record.id);
    return (await this.getJob(built.record.id)) ?? job;
  }

  /** The job a key already names: kicked again (the first create may have failed before its kick). */
  async #keyed(existing: JobRecord): Promise<Job> {
    if (existing.status !== JobStatus.DRAFT) await this.#kick(existing.id);
    return (await this.getJob(existing.id)) ?? toJob(existing, this.#ctx.grids);
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
  async triggerJob(jobId: string): Promise<{
    /** The new batch's index. */
    batchIndex: number;
    /** How many runs it has. */
    runCount: number;
  }> {
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
    const { flagged, aborted } = await this.#o.storage.cancelRuns({ jobId }, now);
    for (const id of flagged) this.#ctx.dispatcher.abort(id, 'cancelled');
    emitAborted(this.#ctx, jobId, aborted);
    this.#events.emit('job:finished', { jobId, status: JobStatus.ABORTED });
    return this.#view(jobId);
  }

  /**
   * Deletes a job with its runs, their logs (unless `keepLogs`), artifacts and kept
   * working copies, and its snapshot when no other job uses it. A cancelled job whose runs are still stopping is refused (`JobStateError`
   * `JOB_RUNS_STOPPING`): nothing of a run may be written after its job is gone. Wait
   * with `waitForRun` (or `onIdle` in the process that runs them) and delete again.
   */
  async deleteJob(jobId: string, options: { keepLogs?: boolean } = {}): Promise<void> {
    const job = await this.#require(jobId);
    assertAllowed('delete', job.status, isCron(job), jobId);
    if (job.counters.STARTED > 0 || job.counters.PENDING > 0) {
      throw new JobStateError('JOB_RUNS_STOPPING', `Job "${jobId}" still has ${job.counters.STARTED + job.counters.PENDING} run(s) stopping`, {
        path: 'counters',
        value: { STARTED: job.counters.STARTED, PENDING: job.counters.PENDING },
        hint: 'Wait until its runs have ended (waitForRun, or onIdle in the process running them), then delete it',
      });
    }
    const runIds = await this.#o.storage.deleteJob(jobId);
    this.#ctx.timer.set(jobId, undefined);
    this.#ctx.grids.forget(jobId);
    this.#ctx.batches.forget(jobId);
    this.#ctx.schedules.forget(jobId);
    await purgeRuns(this.#ctx, runIds, options.keepLogs === true);
    if (job.snapshotId !== null && !(await snapshotInUse(this.#o.storage, job.snapshotId))) {
      // Already gone is fine: a delete interrupted by a crash may have removed it.
      if (await this.#o.snapshots.get(job.snapshotId)) await this.#o.snapshots.delete(job.snapshotId);
    }
    this.#events.emit('job:deleted', { jobId });
  }

  /** A new job like this one, on a new snapshot of the project as it is now. */
  async duplicateJob(jobId: string, overrides: Partial<Pick<JobSpec, 'name' | 'draft'>> = {}): Promise<Job> {
    return this.createJob(await duplicateSpec(this.#ctx, await this.#require(jobId), overrides));
  }

  /** The job, or `undefined` when there is none with that id. */
  async getJob(jobId: string): Promise<Job | undefined> {
    const job = await this.#o.storage.getJob(jobId);
    return job && toJob(job, this.#ctx.grids);
  }

  /** Jobs of a project (newest first), filtered by status, with run counts per status. */
  async listJobs(filter: JobQuery = {}): Promise<Page<Job>> {
    const page = await this.#o.storage.listJobs(jobFilterOf(filter));
    return { items: page.items.map((j) => toJob(j, this.#ctx.grids)), nextCursor: page.nextCursor };
  }

  /**
   * The next `n` occurrences of a job's schedule after now (or `options.from`), as the
   * pure `preview` of `pipeline-jobs/schedule` gives them: each with its instant (`time`),
   * its wall-clock time in the schedule's zone, a `dst` label when it falls on a clock
   * change, and `skipped: 'dst'` for one that does not run (`gap: 'skip'`; leave those
   * out with `includeSkipped: false`).
   */
  async previewJob(jobId: string, n = 10, options: PreviewJobOptions = {}): Promise<Occurrence[]> {
    const { from, includeSkipped } = previewOptionsOf(n, options);
    return this.#ctx.schedules.preview(await this.#require(jobId), n, from ?? this.#o.clock.now(), includeSkipped);
  }

  /** The job's occurrence ledger: started batches and skips with reasons, oldest first. */
  async listOccurrences(jobId: string, page?: PageOptions): Promise<Page<OccurrenceRecord>> {
    const query = pageOf(page, 'page');
    await this.#require(jobId);
    return this.#o.storage.listOccurrences(jobId, query);
  }

  /** The run with its steps' states, or `undefined` when there is none with that id. */
  async getRun(runId: string): Promise<Run | undefined> {
    const run = await this.#o.storage.getRun(runId);
    return run && toRun(run, await this.#o.storage.getStepStates(runId));
  }

  /**
   * A job's runs in run order, each with its steps' states (one read for the page),
   * filtered by status (one or several) and batch, a page at a time.
   */
  async listRuns(jobId: string, filter: RunQuery = {}): Promise<Page<Run>> {
    const query = runFilterOf(filter);
    await this.#require(jobId);
    const page = await this.#o.storage.listRuns(jobId, query);
    const steps = await stepStatesOf(this.#o.storage, page.items.map((r) => r.id));
    return { items: page.items.map((r) => toRun(r, steps.get(r.id) ?? [])), nextCursor: page.nextCursor };
  }

  /** Cancels one run: PENDING -> ABORTED at once; STARTED: stopped, then ABORTED. */
  async cancelRun(runId: string): Promise<void> {
    const run = await this.#requireRun(runId);
    if (isEndState(run.status)) {
      throw new JobStateError('RUN_ALREADY_FINISHED', `Run "${runId}" already ended`, { path: 'runId', value: run.status, hint: 'Only PENDING or STARTED runs can be cancelled' });
    }
    const { flagged, aborted } = await this.#o.storage.cancelRuns({ runIds: [runId] }, this.#o.clock.now());
    for (const id of flagged) this.#ctx.dispatcher.abort(id, 'cancelled');
    emitAborted(this.#ctx, run.jobId, aborted);
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

  /** A step's log as written so far (`undefined`: nothing written yet). Rejects for an unknown run. */
  async readLog(runId: string, stepId: string): Promise<string | undefined> {
    return readStepLog(this.#results(), runId, stepId);
  }

  /**
   * A step's log, live: what was written so far, then each new piece. Ends when the
   * step's log ends, when the run has ended, or on `options.signal`.
   */
  followLog(runId: string, stepId: string, options?: FollowLogOptions): AsyncIterable<string> {
    return followStepLog(this.#results(), runId, stepId, options);
  }

  /** A job's batches, newest first, with cursor pagination (`limit` default 50). */
  async listBatches(jobId: string, page?: PageOptions): Promise<Page<BatchRecord>> {
    return listJobBatches(this.#o.storage, jobId, page);
  }

  /** One batch of a job (`undefined` when it does not exist). */
  async getBatch(jobId: string, batchIndex: number): Promise<BatchRecord | undefined> {
    return getJobBatch(this.#o.storage, jobId, batchIndex);
  }

  #results() {
    return { storage: this.#o.storage, logStore: this.#o.executor.logStore, clock: this.#o.clock };
  }


  /**
   * Resolves when the job reaches an end state, as storage says: whichever process ended
   * it (each process reads the waited jobs again on its events, on storage notifications
   * and every `pollMs` of its clock). Rejects with `NotFoundError` (`JOB_NOT_FOUND`) when
   * the job does not exist or is deleted meanwhile, with `JobStateError`
   * (`SCHEDULER_NOT_STARTED`) on a scheduler not started, (`SCHEDULER_STOPPED`) when it
   * stops meanwhile, and with the signal's reason when `signal` aborts.
   */
  async waitForJob(jobId: string, signal?: AbortSignal): Promise<Job> {
    this.#assertRunning('waitForJob');
    await this.#require(jobId);
    return toJob(await this.#waiters.job(jobId, signal), this.#ctx.grids);
  }

  /**
   * Resolves when the run ends, as storage says, in any process (see {@link waitForJob};
   * `RUN_NOT_FOUND` when the run does not exist or is deleted meanwhile).
   */
  async waitForRun(runId: string, signal?: AbortSignal): Promise<Run> {
    this.#assertRunning('waitForRun');
    await this.#requireRun(runId);
    const run = await this.#waiters.run(runId, signal);
    return toRun(run, await this.#o.storage.getStepStates(runId));
  }

  #assertRunning(what: string): void {
    if (!this.#started || this.#stopped) {
      throw new JobStateError(this.#stopped ? 'SCHEDULER_STOPPED' : 'SCHEDULER_NOT_STARTED', `${what} needs a started scheduler`, {
        path: 'scheduler',
        value: this.#stopped ? 'stopped' : 'not started',
        hint: this.#stopped ? 'Wait on a scheduler that runs' : 'Call `await scheduler.start()` first',
      });
    }
  }

  /** Resolves when this process runs nothing and claims nothing. */
  async onIdle(): Promise<void> {
    await this.#ctx.dispatcher.onIdle();
  }

  async #afterRun(run: RunRecord, stored: boolean): Promise<void> {
    // Read after the run's end was written (shared with runs that ended with it).
    const job = await this.#ctx.jobReads.get(run.jobId);
    if (!job) return;
    const retain = job.options.maxRetainedRuns;
    if (stored && typeof retain === 'number') {
      await purgeRuns(this.#ctx, await this.#o.storage.deleteRuns(job.id, { keepLatest: retain }), keepsLogs(job));
    }
    await startBuffered(this.#ctx, job.id, job);
    await finishJobIfDone(this.#ctx, job.id, job);
  }

  async #poll(): Promise<void> {
    const requeue = (job: JobRecord): boolean => job.options.onInterrupted === 'rerun';
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
      for (const id of await this.#o.storage.listJobIds(WATCHED)) {
        if (this.#ctx.timer.has(id)) continue;
        await processJob(this.#ctx, id);
        await yieldTo(this.#o.clock); // thousands of jobs: runs and I/O go on between them
      }
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
function confirmPatch(job: JobRecord, now: number): JobPatch {
  const s = job.schedule;
  if (s.type === 'now') return { schedule: { ...s, at: now } };
  if (s.type === 'cron') return { scheduleCursor: now };
  return {};
}
