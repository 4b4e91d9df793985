import type { TimerHandle } from '../clock.js';
import type { PinnedEnvironment } from '../environment.js';
import { ExecutionError } from '../errors.js';
import { attemptStopped } from './context-internals.js';
import type { RunContext, StepState, StopReason } from './run-context.js';
import { StepErrorCode, serializeError, type SerializedError } from './result.js';
import { LogErrorPolicy, LogOverflowPolicy, StepStatus } from './status.js';
import type { StepContext, StepExecutor, StepInvocation, StepOutcome, StepProcessInfo } from './step-executor.js';
import type { StepLog } from './step-log.js';

/** How one attempt ended. */
export interface AttemptEnd {
  readonly status: StepStatus;
  readonly error?: SerializedError;
  readonly retryable: boolean;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
}

/** What all attempts of a step share; `env` and `artifactsDir` are computed on first use. */
export interface StepSetup {
  readonly env: () => Readonly<Record<string, string>>;
  readonly artifactsDir: () => string;
  readonly cwd: string;
  readonly environment: PinnedEnvironment | undefined;
  readonly timeoutMs: number;
  readonly log: StepLog;
}

/**
 * Runs one attempt: the executor under the step timeout, the run's stop and the log cap.
 * The attempt's AbortController is only made when somebody reads `context.signal` (or it
 * must abort), and stops reach the attempt through the run's listener set rather than an
 * event listener: both keep in-process steps cheap. Never rejects.
 */
export async function runAttempt(ctx: RunContext, s: StepState, executor: StepExecutor, invocation: StepInvocation, setup: StepSetup): Promise<AttemptEnd> {
  const { clock, logger, settleTimeoutMs } = ctx.options;
  const log = setup.log;
  let controller: AbortController | undefined;
  let abortError: ExecutionError | undefined;
  let reason: AttemptEnd | undefined;
  let giveUp: (() => void) | undefined;
  let giveUpTimer: TimerHandle | undefined;
  const halt = (end: AttemptEnd): void => {
    if (reason) return;
    reason = end;
    // An Error as the reason: executors that rethrow it (throwIfAborted) throw a typed error.
    // Halts carry the step's own codes (timeout, cancelled, log failure, fail-fast).
    abortError = new ExecutionError(end.error!.code as StepErrorCode, end.error!.message);
    controller?.abort(abortError);
    // The executor has the grace period plus the settle time to finish; then it is given up on.
    giveUpTimer = clock.setTimeout(() => giveUp?.(), ctx.settings.gracePeriodMs + settleTimeoutMs);
  };
  const onRunStop = (r: StopReason): void => halt({ status: r.status, error: r.stepError, retryable: false });
  ctx.stopListeners.add(onRunStop);
  let timer: TimerHandle | undefined;
  if (setup.timeoutMs !== Infinity) {
    timer = clock.setTimeout(
      () => halt({ status: StepStatus.FAILURE, error: { code: StepErrorCode.TIMEOUT, message: `The step ran longer than its timeout (${setup.timeoutMs} ms)` }, retryable: true }),
      setup.timeoutMs,
    );
  }
  if (ctx.settings.logOverflow === LogOverflowPolicy.FAIL) {
    // One StepLog spans the attempts; the running attempt is the one to stop.
    log.onOverflow = () =>
      halt({
        status: StepStatus.FAILURE,
        error: { code: StepErrorCode.OUTPUT_LIMIT, message: `The step wrote more than ${ctx.settings.maxLogBytes} bytes of output (maxLogBytes)` },
        retryable: false,
      });
  }
  if (ctx.settings.onLogError === LogErrorPolicy.FAIL) {
    log.onError = (error) => halt({ status: StepStatus.FAILURE, error: logFailed(error), retryable: false });
  }
  const context: StepContext & { [attemptStopped]: () => boolean } = {
    [attemptStopped]: () => reason !== undefined,
    get signal(): AbortSignal {
      if (!controller) {
        controller = new AbortController();
        if (abortError) controller.abort(abortError);
      }
      return controller.signal;
    },
    stdout: log.stdout,
    stderr: log.stderr,
    cwd: setup.cwd,
    workDir: ctx.ws.root,
    get artifactsDir(): string {
      return setup.artifactsDir();
    },
    get env(): Readonly<Record<string, string>> {
      return setup.env();
    },
    ...(setup.environment ? { environment: setup.environment } : {}),
    gracePeriodMs: ctx.settings.gracePeriodMs,
    clock,
    logger,
    recordProcess(info: StepProcessInfo): void {
      s.process = info;
      ctx.events.emit('step:process', { ...ctx.base, stepId: invocation.step.uuid, attempt: invocation.attempt, process: info });
    },
  };
  let outcome: StepOutcome | undefined;
  let thrown: unknown;
  let failed = false;
  try {
    // Promise.resolve: an integrator's run() may return a plain outcome.
    const work = Promise.resolve(executor.run(invocation, context));
    outcome = await new Promise<StepOutcome>((resolve, reject) => {
      work.then(resolve, reject);
      giveUp = () => reject(unresponsive(ctx.settings.gracePeriodMs + settleTimeoutMs));
    });
  } catch (error) {
    failed = true;
    thrown = error;
  } finally {
    log.onOverflow = undefined;
    log.onError = undefined;
    ctx.stopListeners.delete(onRunStop);
    if (timer) clock.clearTimeout(timer);
    if (giveUpTimer) clock.clearTimeout(giveUpTimer);
  }
  if (outcome?.artifacts) s.artifacts = [...outcome.artifacts];
  return classify(outcome, failed, thrown, reason as AttemptEnd | undefined, log);
}

/** The step error of a failed log store. */
export function logFailed(error: unknown): SerializedError {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    code: StepErrorCode.LOG_FAILED,
    message: `The step's log could not be written (${reason}); output from then on was lost`,
    hint: 'Free space or fix the permissions of the log store; onLogError: \'warn\' lets steps go on without their log',
  };
}

function unresponsive(ms: number): ExecutionError {
  return new ExecutionError(StepErrorCode.UNRESPONSIVE, `The step executor did not stop within ${ms} ms after it was told to; it was given up on`, {
    hint: 'A StepExecutor must settle soon after its signal aborts',
  });
}

function classify(outcome: StepOutcome | undefined, failed: boolean, thrown: unknown, reason: AttemptEnd | undefined, log: StepLog): AttemptEnd {
  let end: AttemptEnd;
  if (reason) {
    if (failed && thrown instanceof ExecutionError && thrown.code === StepErrorCode.UNRESPONSIVE) log.system(thrown.message);
    end = reason;
  } else if (failed) {
    // A thrown ExecutionError means the step could not start at all: retrying cannot help.
    return { status: StepStatus.FAILURE, error: serializeError(thrown), retryable: !(thrown instanceof ExecutionError) };
  } else if (outcome?.signal) {
    end = { status: StepStatus.FAILURE, error: { code: StepErrorCode.KILLED, message: `The step's process was killed by ${outcome.signal}` }, retryable: true };
  } else if (outcome?.exitCode !== undefined && outcome.exitCode !== null && outcome.exitCode !== 0) {
    end = { status: StepStatus.FAILURE, error: { code: StepErrorCode.EXIT_CODE, message: `The step exited with code ${outcome.exitCode}` }, retryable: true };
  } else {
    end = outcome?.exitCode === undefined && outcome?.signal === undefined ? SUCCEEDED : { status: StepStatus.SUCCESS, retryable: false };
  }
  if (outcome && (outcome.exitCode !== undefined || outcome.signal !== undefined)) return { ...end, exitCode: outcome.exitCode, signal: outcome.signal };
  return end;
}

/** The end of most in-process attempts, shared. */
const SUCCEEDED: AttemptEnd = Object.freeze({ status: StepStatus.SUCCESS, retryable: false });

