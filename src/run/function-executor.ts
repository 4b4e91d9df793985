import { format } from 'node:util';
import { ExecutionError, OptionsError, joinPath } from '../errors.js';
import type { Pipeline, PipelineStep } from '../pipeline/model.js';
import type { RunOccurrence } from './request.js';
import { isStopped } from './context-internals.js';
import { StepErrorCode } from './result.js';
import type { LogWriter, StepContext, StepExecutor, StepInvocation, StepOutcome } from './step-executor.js';

/** What an in-process step function gets. */
export interface FunctionStepContext {
  /** Aborts when the step must stop; a function should return (or throw) soon after. */
  readonly signal: AbortSignal;
  /** The run's id. */
  readonly runId: string;
  /** The job the run belongs to; absent for a run executed directly. */
  readonly jobId?: string;
  /** The project the run's snapshot was taken of. */
  readonly projectId: string;
  /** The whole pipeline of the run. */
  readonly pipeline: Pipeline;
  /** The step being run. */
  readonly step: PipelineStep;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The step's effective parameters in this run. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** The pipeline's effective parameters in this run. */
  readonly pipelineParameters: Readonly<Record<string, unknown>>;
  /**
   * What the run stands for, for runs of a job: `scheduledAt` (clock ms; the ISO form is
   * `env.PIPELINE_JOBS_SCHEDULED_AT`), `timezone`, `trigger`, `batchIndex`, `runIndex`.
   * Absent for a run executed directly without one.
   */
  readonly occurrence?: RunOccurrence;
  /** The variables a process step would see (the host's `process.env` is not changed). */
  readonly env: Readonly<Record<string, string>>;
  /** The step file's folder in the working copy (the working copy for steps without a file); `''` when the run has no working copy. */
  readonly cwd: string;
  /** The run's working copy; `''` when it has none (a job without a project directory). */
  readonly workDir: string;
  /** Where the function may keep files of this step beyond the run. */
  readonly artifactsDir: string;
  /** The step's standard output (its log). */
  readonly stdout: LogWriter;
  /** The step's standard error (its log). */
  readonly stderr: LogWriter;
  /** Writes one line to the step's stdout (`util.format` of the arguments). */
  log(...args: unknown[]): void;
}

/** A step as a function. Returning (or resolving) is success; throwing (or rejecting) is failure. */
export type StepFunction = (context: FunctionStepContext) => unknown;

/** Options of {@link FunctionStepExecutor}. */
export interface FunctionStepExecutorOptions {
  /**
   * The step functions, by step uuid or by `file_path` (the uuid is looked up first).
   * @example { extract: async ({ parameters, log }) => log('rows', parameters.limit) }
   */
  functions: Readonly<Record<string, StepFunction>>;
}

/**
 * Runs steps as functions in this process: pipelines defined in code, tests. The
 * function gets a context (signal, parameters, log writers, env, cwd) instead of a
 * process. JavaScript cannot be killed: a function that ignores its signal is given up
 * on after the grace period (`STEP_UNRESPONSIVE`) and keeps running in the background.
 */
export class FunctionStepExecutor implements StepExecutor {
  readonly #functions: ReadonlyMap<string, StepFunction>;

  /**
   * Checks and keeps the step functions.
   * @param options the step functions
   * @throws {@link OptionsError} `OPTIONS_INVALID` when `functions` is not an object or holds a non-function
   */
  constructor(options: FunctionStepExecutorOptions) {
    const functions = options?.functions;
    if (functions === null || typeof functions !== 'object') {
      throw new OptionsError('OPTIONS_INVALID', 'FunctionStepExecutor needs a functions object', { path: 'options.functions', value: functions });
    }
    for (const [key, fn] of Object.entries(functions)) {
      if (typeof fn !== 'function') {
        throw new OptionsError('OPTIONS_INVALID', 'Every step function must be a function', { path: joinPath('options.functions', key), value: fn });
      }
    }
    this.#functions = new Map(Object.entries(functions));
  }

  /**
   * Runs the step's function with a {@link FunctionStepContext}; resolves (success) when it
   * returns or its promise resolves, rejects with what it threw (failure).
   * @param invocation what to run; the function is looked up by step uuid, then `file_path`
   * @param context the signal, log writers, environment and working directory of the attempt
   * @throws {@link ExecutionError} `STEP_FUNCTION_MISSING` when no function is registered for the step;
   *   `STEP_UNRESPONSIVE` when the function did not settle within the grace period after the stop
   */
  async run(invocation: StepInvocation, context: StepContext): Promise<StepOutcome> {
    const { step } = invocation;
    const fn = this.#functions.get(step.uuid) ?? (step.file_path === '' ? undefined : this.#functions.get(step.file_path));
    if (!fn) {
      throw new ExecutionError(StepErrorCode.FUNCTION_MISSING, `No function is registered for step "${step.title || step.uuid}"`, {
        path: joinPath('steps', step.uuid),
        value: step.uuid,
        hint: 'Register it in the functions option under the step uuid or its file_path',
      });
    }
    if (isStopped(context)) throw context.signal.reason;
    const { stdout } = context;
    const fnContext: FunctionStepContext = {
      get signal() {
        return context.signal;
      },
      runId: invocation.runId,
      projectId: invocation.projectId,
      pipeline: invocation.pipeline,
      step,
      attempt: invocation.attempt,
      parameters: invocation.parameters,
      pipelineParameters: invocation.pipelineParameters,
      // Read on use: building the step's variables costs more than most in-process steps.
      get env() {
        return context.env;
      },
      cwd: context.cwd,
      workDir: context.workDir,
      get artifactsDir() {
        return context.artifactsDir;
      },
      stdout,
      stderr: context.stderr,
      log: (...args: unknown[]) => stdout.write(`${format(...args)}\n`),
    };
    if (invocation.jobId !== undefined) (fnContext as { jobId?: string }).jobId = invocation.jobId;
    if (invocation.occurrence !== undefined) (fnContext as { occurrence?: RunOccurrence }).occurrence = invocation.occurrence;
    const result = fn(fnContext);
    if (!isPromiseLike(result)) return {};
    await abandonAfterGrace(Promise.resolve(result), context);
    return {};
  }
}

/** Waits for `work`; once the signal aborted, waits at most the grace period more. */
function abandonAfterGrace(work: Promise<unknown>, context: StepContext): Promise<unknown> {
  if (context.signal.aborted) return raceGrace(work, context);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      raceGrace(work, context).then(resolve, reject);
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        context.signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        context.signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function raceGrace(work: Promise<unknown>, context: StepContext): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = context.clock.setTimeout(() => {
      reject(
        new ExecutionError(StepErrorCode.UNRESPONSIVE, 'The step function did not return within the grace period after it was told to stop', {
          hint: 'Step functions should watch context.signal; this one may still be running in the background',
        }),
      );
    }, context.gracePeriodMs);
    work.then(
      (v) => {
        context.clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        context.clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
