import type { PipelineStep } from '../pipeline/model.js';
import type { TypedEmitter } from '../events.js';
import type { RunExecutorEvents } from './events.js';
import type { ResolvedExecutorOptions, ResolvedRunSettings } from './options.js';
import type { RunRequest } from './request.js';
import type { SerializedError, StepAttempt } from './result.js';
import type { StepStatus } from './status.js';
import type { StepProcessInfo } from './step-executor.js';
import type { Workspace } from './workspace.js';

/** Why a run stops early, and what its unfinished steps become. */
export interface StopReason {
  readonly status: StepStatus;
  /** The error of steps stopped by it. */
  readonly stepError: SerializedError;
}

/** The state of one run while it executes (internal). */
export interface RunContext {
  readonly request: RunRequest;
  readonly settings: ResolvedRunSettings;
  readonly options: ResolvedExecutorOptions;
  readonly events: TypedEmitter<RunExecutorEvents>;
  readonly ws: Workspace;
  /** The variables every step sees; steps add their own. */
  runEnv: Readonly<Record<string, string>>;
  /** Fields of every event. */
  readonly base: { readonly runId: string; readonly jobId?: string; readonly projectId: string };
  readonly parallelism: number;
  /** Aborts when the run stops early (cancel, run timeout, fail-fast). */
  readonly stop: AbortController;
  stopReason: StopReason | undefined;
  /** Running attempts, told when the run stops (one listener per attempt on the signal would not scale). */
  readonly stopListeners: Set<(reason: StopReason) => void>;
  /** The first step that failed, in time. */
  firstFailure: { readonly stepId: string; readonly title: string; readonly error: SerializedError } | undefined;
}

/** The state of one step while the run executes (internal). */
export interface StepState {
  readonly step: PipelineStep;
  readonly children: StepState[];
  /** Incoming steps that have not succeeded yet. */
  waiting: number;
  status: StepStatus;
  startedAt?: number;
  finishedAt?: number;
  attempts: number;
  readonly history: StepAttempt[];
  exitCode?: number | null;
  signal?: string | null;
  error?: SerializedError;
  artifacts: readonly string[];
  process?: StepProcessInfo;
  logTruncated: boolean;
  /** The log store failed for this step. */
  logError?: SerializedError;
}

/** Stops the run: the first reason wins; running attempts are told, pending steps will not start. */
export function stopRun(ctx: RunContext, reason: StopReason): void {
  if (ctx.stopReason) return;
  ctx.stopReason = reason;
  for (const listener of [...ctx.stopListeners]) listener(reason);
  ctx.stop.abort(reason);
}
