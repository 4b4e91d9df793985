import type { RunResult, SerializedError } from './result.js';
import type { RunStatus, StepStatus } from './status.js';
import type { StepProcessInfo } from './step-executor.js';

/** Fields every event of a run carries. */
interface RunEventBase {
  readonly runId: string;
  readonly jobId?: string;
  readonly projectId: string;
}

/** The events of a {@link RunExecutor}, one payload object each. Times are clock ms. */
export interface RunExecutorEvents {
  'run:started': RunEventBase & { readonly pipelineUuid: string; readonly startedAt: number; /** `''` for a run without a working copy. */ readonly workingCopy: string };
  'run:finished': RunEventBase & {
    readonly status: RunStatus;
    readonly startedAt: number;
    readonly finishedAt: number;
    readonly durationMs: number;
    readonly result: RunResult;
  };
  /** Emitted for every attempt. */
  'step:started': RunEventBase & { readonly stepId: string; readonly attempt: number; readonly startedAt: number };
  /** An attempt failed and another one follows after `delayMs`. */
  'step:retrying': RunEventBase & {
    readonly stepId: string;
    readonly attempt: number;
    readonly nextAttempt: number;
    readonly delayMs: number;
    readonly error: SerializedError;
  };
  /** Emitted once per step, also for steps that never started (ABORTED, attempts 0). */
  'step:finished': RunEventBase & {
    readonly stepId: string;
    readonly status: StepStatus;
    readonly attempts: number;
    readonly startedAt?: number;
    readonly finishedAt: number;
    readonly durationMs?: number;
    readonly exitCode?: number | null;
    readonly error?: SerializedError;
  };
  /** A step's processes started: what a crash recovery needs to find them (`killStepProcesses`). */
  'step:process': RunEventBase & { readonly stepId: string; readonly attempt: number; readonly process: StepProcessInfo };
}

export type RunExecutorEventName = keyof RunExecutorEvents;
export type RunExecutorListener<E extends RunExecutorEventName> = (payload: RunExecutorEvents[E]) => void;
