import { setMaxListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ExecutionError, joinPath } from '../errors.js';
import type { TimerHandle } from '../clock.js';
import { runDag } from './dag-runner.js';
import { TypedEmitter } from '../events.js';
import type { RunExecutorEventName, RunExecutorEvents, RunExecutorListener } from './events.js';
import { resolveExecutorOptions, resolveRunSettings, type ResolvedExecutorOptions, type RunExecutorOptions } from './options.js';
import { validateRequest, type RunRequest } from './request.js';
import { RunErrorCode, StepErrorCode, serializeError, type RunResult, type SerializedError, type StepResult } from './result.js';
import { stopRun, type RunContext, type StepState } from './run-context.js';
import { KeepWorkingCopy, RunStatus, StepStatus } from './status.js';
import { buildRunEnvironment } from './step-environment.js';
import { SYSTEM_LINE_PREFIX } from './step-log.js';
import { keepOutputs, listWorkingCopies, materializeWorkspace, removeWorkingCopy, workspacePaths } from './workspace.js';
import { encodeId } from './file-log-store.js';
import type { LogStore } from './log-store.js';
import type { TerminateReport } from './processes.js';
import { endRunProcesses, listRunProcesses, type RunProcesses } from './run-processes.js';
import type { StepExecutor } from './step-executor.js';

/** Options of {@link RunExecutor.purgeRun}. */
export interface PurgeOptions {
  /** Keep the run's step logs. @default false */
  readonly keepLogs?: boolean;
}

/** What {@link RunExecutor.findLeftovers} found. */
export interface Leftovers {
  /** Live processes of runs not executing here, by run and attempt. */
  readonly processes: readonly RunProcesses[];
  /** Ids of runs with a working copy in the work root, not executing here. */
  readonly workingCopies: readonly string[];
}

/** Options of one {@link RunExecutor.execute} call. */
export interface ExecuteOptions {
  /** Cancels the run: running steps are stopped (gracefully, then by force), the run ends ABORTED. @default none */
  signal?: AbortSignal;
}

/**
 * Executes pipeline runs: a working copy per run, the steps in DAG order with bounded
 * parallelism through pluggable {@link StepExecutor}s, logs to a {@link LogStore},
 * retries, timeouts, cancellation; see docs/semantics.md, "Running a pipeline run".
 *
 * @example
 * const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: new FileLogStore({ directory: 'logs' }), workRoot: '/var/tmp/runs' });
 * const result = await executor.execute({ runId, projectId, pipeline, parameters, source: { directory: 'my-project' } });
 */
export class RunExecutor {
  readonly #options: ResolvedExecutorOptions;
  readonly #events: TypedEmitter<RunExecutorEvents>;
  readonly #active = new Map<string, { stop: () => void; done: Promise<unknown>; attempt: number }>();

  /**
   * Checks the options; nothing is created on disk until a run executes.
   * @param options the step executors and log store (required), the work and artifacts roots, and the default run
   *   settings (parallelism, timeouts, retries, log limits, ...)
   * @throws {@link OptionsError} `OPTIONS_INVALID` naming the bad option
   */
  constructor(options: RunExecutorOptions) {
    this.#options = resolveExecutorOptions(options);
    this.#events = new TypedEmitter<RunExecutorEvents>(this.#options.logger);
  }

  /** Subscribes to an event; returns the unsubscribe function. Listener errors never break a run. */
  on<E extends RunExecutorEventName>(event: E, listener: RunExecutorListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  /** Where step logs go (the scheduler deletes a run's logs with the run). */
  get logStore(): LogStore {
    return this.#options.logStore;
  }

  /**
   * Removes what a run left in the work root: its working copy (after its process died,
   * or when it was kept). Refused while the run executes here.
   * @throws {@link ExecutionError} `RUN_INVALID_REQUEST` for a string that is not a run id, `RUN_ALREADY_RUNNING`
   *   while the run executes here
   */
  async removeWorkingCopy(runId: string): Promise<void> {
    await removeWorkingCopy({ root: path.join(this.#options.workRoot, 'work', this.#idDir(runId)) });
  }

  /**
   * Removes a run's kept artifacts (declared outputs, executed notebooks): retention.
   * @throws {@link ExecutionError} `RUN_INVALID_REQUEST` for a string that is not a run id, `RUN_ALREADY_RUNNING`
   *   while the run executes here
   */
  async removeArtifacts(runId: string): Promise<void> {
    await rm(path.join(this.#options.artifactsRoot, this.#idDir(runId)), { recursive: true, force: true });
  }

  /**
   * Removes everything of a run: its kept artifacts (declared outputs, executed notebooks
   * and their HTML), its kept working copy, and its logs unless `keepLogs`. The
   * scheduler calls it when retention or a delete removes the run. When the run still
   * executes here, it is cancelled and its end awaited first, so nothing of it is written
   * (or recreated) after the purge. Idempotent.
   * @param runId the run
   * @param options whether to keep the run's logs
   * @throws {@link ExecutionError} `RUN_INVALID_REQUEST` for a string that is not a run id, `RUN_ALREADY_RUNNING`
   *   when a new execution of the run started here meanwhile
   */
  async purgeRun(runId: string, options: PurgeOptions = {}): Promise<void> {
    const active = this.#active.get(runId);
    if (active) {
      active.stop();
      await active.done.catch((error: unknown) => this.#options.logger.debug('a purged run ended with an error', { runId, error }));
      // A new execution under the same id may have started meanwhile: that one is refused below.
    }
    const dir = this.#idDir(runId);
    await Promise.all([
      rm(path.join(this.#options.artifactsRoot, dir), { recursive: true, force: true, maxRetries: 3 }),
      removeWorkingCopy({ root: path.join(this.#options.workRoot, 'work', dir) }),
      options.keepLogs ? undefined : this.#options.logStore.delete(runId),
    ]);
  }

  /**
   * What runs left behind on this machine: live processes of any run (by the variables
   * every step process inherits) and working copies in the work root, except those of runs
   * executing here now. The scheduler decides, from storage, which of them are dead.
   */
  async findLeftovers(): Promise<Leftovers> {
    const active = new Set(this.#active.keys());
    const processes = listRunProcesses().filter((p) => !active.has(p.runId));
    const workingCopies = (await listWorkingCopies(this.#options.workRoot, this.#options.logger)).filter((id) => !active.has(id));
    return { processes, workingCopies };
  }

  /**
   * Ends the processes of a run that does not execute here (its process died): every
   * process started for it, or only those of the attempts `attempts` accepts (attempt
   * numbers as passed in {@link RunRequest.attempt}). Found by the run's variables, so
   * nothing needs to have been recorded. When the run executes here, its own attempt and
   * later ones are never touched.
   * @param runId the run
   * @param options which attempts (all when absent), and the time between SIGTERM and SIGKILL (default: the
   *   executor's `gracePeriodMs`)
   */
  async endRunProcesses(runId: string, options: { attempts?: (attempt: number) => boolean; gracePeriodMs?: number } = {}): Promise<TerminateReport> {
    const wanted = options.attempts ?? (() => true);
    return endRunProcesses(runId, {
      gracePeriodMs: options.gracePeriodMs ?? this.#options.defaults.gracePeriodMs,
      clock: this.#options.clock,
      // Looked up at every pass: the run may start here while its leftovers are being ended.
      attempts: (a) => wanted(a) && a < (this.#active.get(runId)?.attempt ?? Infinity),
    });
  }

  #idDir(runId: string): string {
    if (typeof runId !== 'string' || runId === '' || runId === '.' || runId === '..' || /[/\\\0]/.test(runId)) {
      throw new ExecutionError('RUN_INVALID_REQUEST', 'Not a run id', { path: 'runId', value: runId });
    }
    if (this.#active.has(runId)) {
      throw new ExecutionError('RUN_ALREADY_RUNNING', 'This run is executing here; its files stay until it ends', { path: 'runId', value: runId });
    }
    return encodeId(runId);
  }

  /** Ids of the runs executing now. */
  get activeRuns(): string[] {
    return [...this.#active.keys()];
  }

  /**
   * Executes one run and resolves with its result (also when it failed or was cancelled).
   * Rejects, before anything is created, for a bad request: a typed error naming the field.
   * @param request the run: its id, pipeline, parameters, project source and settings
   * @param options the signal that cancels the run
   * @throws {@link ExecutionError} `RUN_INVALID_REQUEST`, `RUN_INVALID_ENV`, `RUN_RESERVED_ENV` for a bad request,
   *   `RUN_ALREADY_RUNNING` when a run with this id executes here; {@link OptionsError} `OPTIONS_INVALID`
   *   for bad `request.options`; {@link NotFoundError} `SNAPSHOT_NOT_FOUND` for an unknown snapshot;
   *   {@link PipelineError} for a pipeline whose connections are invalid
   */
  async execute(request: RunRequest, options: ExecuteOptions = {}): Promise<RunResult> {
    const valid = await validateRequest(request);
    const settings = valid.options === undefined ? this.#options.defaults : resolveRunSettings(valid.options, this.#options.defaults, 'request.options');
    if (this.#active.has(valid.runId)) {
      throw new ExecutionError('RUN_ALREADY_RUNNING', 'This run is already executing here', { path: 'runId', value: valid.runId });
    }
    const ctx = this.#context(valid, settings);
    const done = this.#run(ctx, options.signal);
    this.#active.set(valid.runId, { stop: () => stopRun(ctx, cancelled()), done, attempt: valid.attempt ?? 1 });
    try {
      return await done;
    } finally {
      this.#active.delete(valid.runId);
    }
  }

  /** Cancels every active run and waits until they ended. */
  async close(): Promise<void> {
    const runs = [...this.#active.values()];
    for (const r of runs) r.stop();
    await Promise.allSettled(runs.map((r) => r.done));
  }

  #context(request: RunRequest, settings: RunContext['settings']): RunContext {
    const { pipeline } = request;
    const fromFile = pipeline.settings.max_steps_parallelism;
    const parallelism = Math.min(settings.maxParallelism, typeof fromFile === 'number' && fromFile > 0 ? fromFile : Infinity);
    const stop = new AbortController();
    // Every step waiting out a retry backoff listens to it: no listener limit applies.
    setMaxListeners(0, stop.signal);
    return {
      request,
      settings,
      options: this.#options,
      events: this.#events,
      ws: workspacePaths(this.#options.workRoot, this.#options.artifactsRoot, request.runId, pipeline, request.source !== undefined),
      runEnv: {},
      base: { runId: request.runId, ...(request.jobId === undefined ? {} : { jobId: request.jobId }), projectId: request.projectId },
      parallelism,
      stop,
      stopReason: undefined,
      stopListeners: new Set(),
      firstFailure: undefined,
    };
  }

  async #run(ctx: RunContext, signal: AbortSignal | undefined): Promise<RunResult> {
    const { clock, logger } = this.#options;
    const { request, ws, settings } = ctx;
    const startedAt = clock.now();
    const states = stepStates(ctx);
    const onCancel = (): void => stopRun(ctx, cancelled());
    if (signal?.aborted) onCancel();
    else signal?.addEventListener('abort', onCancel, { once: true });
    let runTimer: TimerHandle | undefined;
    if (settings.runTimeoutMs !== Infinity) {
      runTimer = clock.setTimeout(
        () =>
          stopRun(ctx, {
            status: StepStatus.ABORTED,
            stepError: { code: StepErrorCode.RUN_TIMEOUT, message: `Stopped because the run took longer than its timeout (${settings.runTimeoutMs} ms)` },
          }),
        settings.runTimeoutMs,
      );
    }
    this.#events.emit('run:started', { ...ctx.base, pipelineUuid: request.pipeline.uuid, startedAt, workingCopy: ws.root });
    let workspaceError: SerializedError | undefined;
    let materialized = false;
    try {
      if (!ctx.stopReason) {
        // Without a source there is no working copy: nothing of the run touches the disk here.
        if (request.source) await materializeWorkspace(ws, request.source, request.pipeline, request.parameters, ctx.stop.signal, logger);
        materialized = true;
        ctx.runEnv = buildRunEnvironment({
          hostEnv: this.#options.hostEnv,
          allowList: this.#options.envAllowList,
          jobEnv: request.env ?? {},
          runId: request.runId,
          ...(request.attempt === undefined ? {} : { attempt: request.attempt }),
          ...(request.jobId === undefined ? {} : { jobId: request.jobId }),
          projectId: request.projectId,
          pipelineUuid: request.pipeline.uuid,
          pipelineFile: ws.pipelineFile,
          pipelineParameters: request.parameters.pipeline,
          ...(request.occurrence === undefined ? {} : { occurrence: request.occurrence }),
        });
        await runDag(ctx, states);
      }
    } catch (error) {
      // runDag never rejects: this is the working copy. When the run was stopped meanwhile,
      // the error is the stop itself (materialize honours the signal) and the stop reason says it all.
      if (ctx.stopReason) logger.debug('making the working copy was stopped', { runId: request.runId, error });
      else {
        workspaceError = { ...serializeError(error, RunErrorCode.WORKSPACE_FAILED), code: RunErrorCode.WORKSPACE_FAILED };
        logger.error('the working copy of a run could not be made', { runId: request.runId, error });
      }
    } finally {
      signal?.removeEventListener('abort', onCancel);
      if (runTimer) clock.clearTimeout(runTimer);
    }
    if (!materialized) abortAll(ctx, states, workspaceError);
    await this.#closeUnstartedLogs(ctx, states);
    const status = runStatus(ctx, workspaceError);
    const hasCopy = ws.root !== '';
    const outputs = await this.#keepFiles(ctx, materialized && hasCopy);
    const keep = hasCopy && (settings.keepWorkingCopy === KeepWorkingCopy.ALWAYS || (settings.keepWorkingCopy === KeepWorkingCopy.ON_FAILURE && status !== RunStatus.SUCCESS));
    if (!keep && hasCopy) await removeWorkingCopy(ws);
    const finishedAt = clock.now();
    const error = runError(ctx, status, workspaceError);
    const result: RunResult = {
      runId: request.runId,
      ...(request.jobId === undefined ? {} : { jobId: request.jobId }),
      projectId: request.projectId,
      pipelineUuid: request.pipeline.uuid,
      status,
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      ...(error ? { error } : {}),
      steps: stepResults(ctx, states),
      artifactsDir: ws.artifactsDir,
      outputs,
      ...(keep && materialized ? { workingCopy: ws.root } : {}),
    };
    this.#events.emit('run:finished', { ...ctx.base, status, startedAt, finishedAt, durationMs: result.durationMs, result });
    return result;
  }

  /** Copies the declared outputs; a failure there is logged and does not change the run's status. */
  async #keepFiles(ctx: RunContext, materialized: boolean): Promise<string[]> {
    if (!materialized) return [];
    try {
      return await keepOutputs(ctx.ws, ctx.settings.outputs);
    } catch (error) {
      this.#options.logger.error('keeping the outputs of a run failed', { runId: ctx.base.runId, error });
      return [];
    }
  }

  /** Steps that never started still get a (short) log saying why. */
  async #closeUnstartedLogs(ctx: RunContext, states: readonly StepState[]): Promise<void> {
    const store = this.#options.logStore;
    for (const s of states) {
      if (s.startedAt !== undefined) continue;
      const key = { runId: ctx.base.runId, stepId: s.step.uuid };
      try {
        await store.append(key, `${SYSTEM_LINE_PREFIX}not started: ${s.error?.code ?? ''}: ${s.error?.message ?? ''}\n`, 'system');
        await store.end(key);
      } catch (error) {
        this.#options.logger.error('log store failed', { runId: ctx.base.runId, stepId: s.step.uuid, error });
      }
    }
  }
}

function cancelled(): { status: StepStatus; stepError: SerializedError } {
  return { status: StepStatus.ABORTED, stepError: { code: StepErrorCode.CANCELLED, message: 'Stopped because the run was cancelled' } };
}

function stepStates(ctx: RunContext): StepState[] {
  const byId = new Map<string, StepState>();
  const states = ctx.request.pipeline.steps.map((step) => {
    const s: StepState = { step, children: [], waiting: step.incoming_connections.length, status: StepStatus.PENDING, attempts: 0, history: [], artifacts: [], logTruncated: false };
    byId.set(step.uuid, s);
    return s;
  });
  for (const s of states) for (const from of s.step.incoming_connections) byId.get(from)!.children.push(s);
  return states;
}

/** Marks every step ABORTED when the run stopped before any could start. */
function abortAll(ctx: RunContext, states: readonly StepState[], workspaceError: SerializedError | undefined): void {
  const now = ctx.options.clock.now();
  const error = ctx.stopReason?.stepError ?? {
    code: RunErrorCode.WORKSPACE_FAILED,
    message: `Not started: the working copy could not be made (${workspaceError?.message ?? 'unknown error'})`,
  };
  for (const s of states) {
    if (s.status !== StepStatus.PENDING) continue;
    s.status = StepStatus.ABORTED;
    s.finishedAt = now;
    s.error = error;
    ctx.events.emit('step:finished', { ...ctx.base, stepId: s.step.uuid, status: s.status, attempts: 0, finishedAt: now, error });
  }
}

/** FAILURE if a step failed, the run timed out or had no working copy; ABORTED if cancelled; else SUCCESS. */
function runStatus(ctx: RunContext, workspaceError: SerializedError | undefined): RunStatus {
  if (ctx.firstFailure || workspaceError) return RunStatus.FAILURE;
  const code = ctx.stopReason?.stepError.code;
  if (code === StepErrorCode.RUN_TIMEOUT) return RunStatus.FAILURE;
  if (code === StepErrorCode.CANCELLED) return RunStatus.ABORTED;
  return RunStatus.SUCCESS;
}

function runError(ctx: RunContext, status: RunStatus, workspaceError: SerializedError | undefined): SerializedError | undefined {
  if (status === RunStatus.SUCCESS) return undefined;
  if (ctx.firstFailure) {
    const f = ctx.firstFailure;
    return { code: RunErrorCode.STEP_FAILED, message: `Step "${f.title || f.stepId}" failed: ${f.error.code}: ${f.error.message}`, path: joinPath('steps', f.stepId) };
  }
  if (workspaceError) return workspaceError;
  if (ctx.stopReason?.stepError.code === StepErrorCode.RUN_TIMEOUT) {
    return { code: RunErrorCode.TIMEOUT, message: `The run took longer than its timeout (${ctx.settings.runTimeoutMs} ms)` };
  }
  return { code: RunErrorCode.CANCELLED, message: 'The run was cancelled' };
}

function stepResults(ctx: RunContext, states: readonly StepState[]): Record<string, StepResult> {
  const out: Record<string, StepResult> = {};
  for (const s of states) {
    // Built field by field: for pipelines of thousands of steps, spreads cost.
    const r: { -readonly [K in keyof StepResult]: StepResult[K] } = {
      uuid: s.step.uuid,
      title: s.step.title,
      status: s.status,
      attempts: s.attempts,
      history: s.history,
      log: { runId: ctx.base.runId, stepId: s.step.uuid },
      logTruncated: s.logTruncated,
      artifacts: s.artifacts,
    };
    if (s.startedAt !== undefined) r.startedAt = s.startedAt;
    if (s.finishedAt !== undefined) r.finishedAt = s.finishedAt;
    if (s.startedAt !== undefined && s.finishedAt !== undefined) r.durationMs = s.finishedAt - s.startedAt;
    if (s.exitCode !== undefined) r.exitCode = s.exitCode;
    if (s.signal !== undefined) r.signal = s.signal;
    if (s.error) r.error = s.error;
    if (s.logError) r.logError = s.logError;
    if (s.process) r.process = s.process;
    out[s.step.uuid] = r;
  }
  return out;
}
