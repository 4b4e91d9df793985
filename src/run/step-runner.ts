import path from 'node:path';
import { sleep } from '../clock.js';
import type { PinnedEnvironment } from '../environment.js';
import { ExecutionError } from '../errors.js';
import { logFailed, runAttempt, type AttemptEnd, type StepSetup } from './attempt.js';
import { stopRun, type RunContext, type StepState } from './run-context.js';
import { StepErrorCode, serializeError, type StepAttempt } from './result.js';
import { FailurePolicy, LogErrorPolicy, StepStatus } from './status.js';
import { stepEnvironment } from './step-environment.js';
import type { StepExecutor, StepInvocation } from './step-executor.js';
import { StepLog } from './step-log.js';
import { stepArtifactsDir, stepFilePath } from './workspace.js';

/**
 * Runs one step to its end: attempts with retries and backoff, each attempt under its
 * timeout, the run's stop and the log cap. Never rejects: everything becomes the step's
 * status and error.
 */
export async function runStep(ctx: RunContext, s: StepState): Promise<void> {
  const { clock } = ctx.options;
  const { step } = s;
  const log = new StepLog(ctx.options.logStore, { runId: ctx.base.runId, stepId: step.uuid }, {
    maxBytes: ctx.settings.maxLogBytes,
    logger: ctx.options.logger,
  });
  s.status = StepStatus.STARTED;
  s.startedAt = clock.now();
  const environment = ctx.request.environments?.[step.environment];
  const executor = ctx.options.choose(step, environment);
  let filePath = '';
  let setupError: unknown;
  try {
    filePath = stepFilePath(ctx.ws, step);
  } catch (error) {
    setupError = error;
  }
  if (!executor) {
    setupError = new ExecutionError(StepErrorCode.NO_EXECUTOR, `No step executor is configured for step "${step.title || step.uuid}"`, {
      path: `stepExecutors`,
      value: environment?.kind ?? step.environment,
      hint: 'Add an executor for this environment id or kind, or a "*" fallback',
    });
  }
  if (setupError !== undefined) {
    end(s, { status: StepStatus.FAILURE, error: serializeError(setupError), retryable: false }, clock.now());
    log.system(`step failed: ${s.error!.code}: ${s.error!.message}`);
  } else {
    await attempts(ctx, s, executor!, filePath, environment, log);
  }
  await log.close();
  s.logTruncated = log.truncated;
  if (log.error !== undefined) {
    // Also when it failed after the last attempt ended (the final flush or end): never silent.
    s.logError = logFailed(log.error);
    // attempts() changed the status behind TypeScript's back.
    if (ctx.settings.onLogError === LogErrorPolicy.FAIL && (s.status as StepStatus) === StepStatus.SUCCESS) {
      s.status = StepStatus.FAILURE;
      s.error = s.logError;
    }
  }
  s.finishedAt ??= clock.now();
  // attempts() changed the status behind TypeScript's back.
  if ((s.status as StepStatus) === StepStatus.FAILURE) {
    ctx.firstFailure ??= { stepId: step.uuid, title: step.title, error: s.error! };
    if (ctx.settings.failurePolicy === FailurePolicy.FAIL_FAST) {
      stopRun(ctx, {
        status: StepStatus.ABORTED,
        stepError: { code: StepErrorCode.FAIL_FAST, message: `Stopped because step "${step.title || step.uuid}" failed (failure policy fail-fast)` },
      });
    }
  }
  emitFinished(ctx, s);
}

async function attempts(
  ctx: RunContext,
  s: StepState,
  executor: StepExecutor,
  filePath: string,
  environment: PinnedEnvironment | undefined,
  log: StepLog,
): Promise<void> {
  const { clock } = ctx.options;
  const { step } = s;
  const per = ctx.settings.steps[step.uuid];
  const retries = per?.retries ?? ctx.settings.retries;
  const timeoutMs = per?.timeoutMs ?? ctx.settings.stepTimeoutMs;
  const parameters = ctx.request.parameters.steps[step.uuid] ?? step.parameters;
  let env: Readonly<Record<string, string>> | undefined;
  let artifactsDir: string | undefined;
  const setup: StepSetup = {
    env: () => (env ??= stepEnvironment(ctx.runEnv, step.uuid, parameters)),
    artifactsDir: () => (artifactsDir ??= stepArtifactsDir(ctx.ws, step.uuid)),
    cwd: filePath === '' ? ctx.ws.baseDir : path.dirname(filePath),
    environment,
    timeoutMs,
    log,
  };
  for (let attempt = 1; ; attempt++) {
    if (ctx.stopReason) {
      end(s, { status: ctx.stopReason.status, error: ctx.stopReason.stepError, retryable: false }, clock.now());
      return;
    }
    const startedAt = clock.now();
    s.attempts = attempt;
    if (attempt > 1) log.system(`attempt ${attempt} of ${retries.limit + 1}`);
    if (ctx.events.has('step:started')) ctx.events.emit('step:started', { ...ctx.base, stepId: step.uuid, attempt, startedAt });
    const invocation: { -readonly [K in keyof StepInvocation]: StepInvocation[K] } = {
      runId: ctx.base.runId,
      projectId: ctx.base.projectId,
      pipeline: ctx.request.pipeline,
      step,
      attempt,
      parameters,
      pipelineParameters: ctx.request.parameters.pipeline,
      filePath,
    };
    if (ctx.base.jobId !== undefined) invocation.jobId = ctx.base.jobId;
    if (ctx.request.occurrence !== undefined) invocation.occurrence = ctx.request.occurrence;
    const result = await runAttempt(ctx, s, executor, invocation, setup);
    const finishedAt = clock.now();
    // Field by field (no spreads): thousands of in-process steps per second.
    const record: { -readonly [K in keyof StepAttempt]: StepAttempt[K] } = { attempt, startedAt, finishedAt, status: result.status };
    if (result.exitCode !== undefined) record.exitCode = result.exitCode;
    if (result.signal !== undefined) record.signal = result.signal;
    if (result.error) record.error = result.error;
    s.history.push(record);
    if (result.error) log.system(`${result.status === StepStatus.ABORTED ? 'step stopped' : 'step failed'}: ${result.error.code}: ${result.error.message}`);
    const retry = result.status === StepStatus.FAILURE && result.retryable && attempt <= retries.limit && !ctx.stopReason;
    if (!retry) {
      end(s, result, finishedAt);
      return;
    }
    const delayMs = Math.min(retries.maxDelayMs, retries.delayMs * retries.factor ** (attempt - 1));
    ctx.events.emit('step:retrying', { ...ctx.base, stepId: step.uuid, attempt, nextAttempt: attempt + 1, delayMs, error: result.error! });
    log.system(`retrying in ${delayMs} ms`);
    try {
      await sleep(clock, delayMs, ctx.stop.signal);
    } catch (error) {
      // The run stopped during the backoff: the loop's first check ends the step.
      if (!ctx.stopReason) throw error;
    }
  }
}

function end(s: StepState, result: AttemptEnd, at: number): void {
  s.status = result.status;
  s.finishedAt = at;
  if (result.error) s.error = result.error;
  else delete s.error;
  if (result.exitCode !== undefined) s.exitCode = result.exitCode;
  if (result.signal !== undefined) s.signal = result.signal;
}

/** Emits `step:finished` for a step. */
export function emitFinished(ctx: RunContext, s: StepState): void {
  if (!ctx.events.has('step:finished')) return;
  ctx.events.emit('step:finished', {
    ...ctx.base,
    stepId: s.step.uuid,
    status: s.status,
    attempts: s.attempts,
    ...(s.startedAt === undefined ? {} : { startedAt: s.startedAt, durationMs: (s.finishedAt ?? s.startedAt) - s.startedAt }),
    finishedAt: s.finishedAt!,
    ...(s.exitCode === undefined ? {} : { exitCode: s.exitCode }),
    ...(s.error ? { error: s.error } : {}),
  });
}
