import type { RunResult, SerializedError } from './result.js';
import type { RunStatus, StepStatus } from './status.js';
import type { StepProcessInfo } from './step-executor.js';
import type { RunExecutor } from './run-executor.js';

/**
 * Fields every event of a run carries.
 * @inline
 */
interface RunEventBase {
  /** The run's id. */
  readonly runId: string;
  /** The job the run belongs to; absent for a run executed directly. */
  readonly jobId?: string;
  /** The project the run's snapshot was taken of. */
  readonly projectId: string;
}

/** The events of a {@link RunExecutor}, one payload object each. Times are clock ms. */
export interface RunExecutorEvents {
  /** The run started; its working copy is made next, then its steps run. */
  'run:started': RunEventBase & {
    /** The uuid of the pipeline that runs. */
    readonly pipelineUuid: string;
    /** When the run started. */
    readonly startedAt: number;
    /** The working copy's path (made right after this event); `''` for a run without one. */
    readonly workingCopy: string;
  };
  /** The run ended, whatever its status; `result` is what `execute` resolves with. */
  'run:finished': RunEventBase & {
    /** The run's final status. */
    readonly status: RunStatus;
    /** When the run started. */
    readonly startedAt: number;
    /** When the run ended. */
    readonly finishedAt: number;
    /** `finishedAt - startedAt`, in ms. */
    readonly durationMs: number;
    /** The whole result of the run. */
    readonly result: RunResult;
  };
  /** Emitted for every attempt. */
  'step:started': RunEventBase & {
    /** The step's uuid. */
    readonly stepId: string;
    /** 1 for the first attempt. */
    readonly attempt: number;
    /** When the attempt started. */
    readonly startedAt: number;
  };
  /** An attempt failed and another one follows after `delayMs`. */
  'step:retrying': RunEventBase & {
    /** The step's uuid. */
    readonly stepId: string;
    /** The attempt that failed. */
    readonly attempt: number;
    /** The attempt that follows (`attempt + 1`). */
    readonly nextAttempt: number;
    /** The wait before the next attempt, in ms (the retry policy's backoff). */
    readonly delayMs: number;
    /** Why the attempt failed. */
    readonly error: SerializedError;
  };
  /** Emitted once per step, also for steps that never started (ABORTED, attempts 0). */
  'step:finished': RunEventBase & {
    /** The step's uuid. */
    readonly stepId: string;
    /** The step's final status. */
    readonly status: StepStatus;
    /** How many attempts ran (0 when the step never started). */
    readonly attempts: number;
    /** When the first attempt started; absent when the step never started. */
    readonly startedAt?: number;
    /** When the step reached its end state. */
    readonly finishedAt: number;
    /** `finishedAt - startedAt` in ms; absent when the step never started. */
    readonly durationMs?: number;
    /** The last attempt's exit code, when it ran a process. */
    readonly exitCode?: number | null;
    /** Why the step did not succeed. */
    readonly error?: SerializedError;
  };
  /** A step's processes started: what a crash recovery needs to find them (`killStepProcesses`). */
  'step:process': RunEventBase & {
    /** The step's uuid. */
    readonly stepId: string;
    /** The attempt whose processes started. */
    readonly attempt: number;
    /** How to find the processes again. */
    readonly process: StepProcessInfo;
  };
}

/** The name of a {@link RunExecutorEvents} event (`run:started`, `step:finished`, ...). */
export type RunExecutorEventName = keyof RunExecutorEvents;
/** A listener of the event `E`: gets its payload; what it throws is logged, never breaks the run. */
export type RunExecutorListener<E extends RunExecutorEventName> = (payload: RunExecutorEvents[E]) => void;
