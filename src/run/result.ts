import { PipelineJobsError } from '../errors.js';
import type { LogKey } from './log-store.js';
import type { RunStatus, StepStatus } from './status.js';
import type { StepProcessInfo } from './step-executor.js';

/**
 * The stable codes of step and run errors in a {@link RunResult}. A step executor may
 * report its own codes (any {@link PipelineJobsError} it throws keeps its code).
 */
export const StepErrorCode = {
  /** The step's process exited with a non-zero code. */
  EXIT_CODE: 'STEP_EXIT_CODE',
  /** The step's process was ended by a signal nobody in the library sent. */
  KILLED: 'STEP_KILLED',
  /** The attempt ran longer than its step timeout. */
  TIMEOUT: 'STEP_TIMEOUT',
  /** The step names no file (`file_path` is empty). */
  NO_FILE: 'STEP_NO_FILE',
  /** The step's file is not in the working copy. */
  FILE_MISSING: 'STEP_FILE_MISSING',
  /** The step names a file but the run has no working copy (a job without a project directory). */
  NO_WORKING_COPY: 'STEP_NO_WORKING_COPY',
  /** The step's file resolves outside the working copy. */
  FILE_OUTSIDE_PROJECT: 'STEP_FILE_OUTSIDE_PROJECT',
  /** No interpreter is mapped to the step file's extension. */
  UNKNOWN_FILE_TYPE: 'STEP_UNKNOWN_FILE_TYPE',
  /** The notebook kernel name resolved to something that is not a kernel name. */
  INVALID_KERNEL: 'STEP_INVALID_KERNEL',
  /** The interpreter (or `bwrap`, or `jupyter`) is not installed. */
  INTERPRETER_MISSING: 'STEP_INTERPRETER_MISSING',
  /** Starting the process failed for another reason (permissions, ...). */
  SPAWN_FAILED: 'STEP_SPAWN_FAILED',
  /** No function is registered for the step (in-process executor). */
  FUNCTION_MISSING: 'STEP_FUNCTION_MISSING',
  /** An in-process step function threw something that is not a library error. */
  ERROR: 'STEP_ERROR',
  /** The step wrote more than `maxLogBytes` and the overflow policy is `fail`. */
  OUTPUT_LIMIT: 'STEP_OUTPUT_LIMIT',
  /** The step's log could not be written (log store error) and `onLogError` is `fail`; under `warn`, the code of `logError`. */
  LOG_FAILED: 'STEP_LOG_FAILED',
  /** No step executor is configured for the step's environment. */
  NO_EXECUTOR: 'STEP_NO_EXECUTOR',
  /** The executor did not settle after it was told to stop (grace period and settle time passed). */
  UNRESPONSIVE: 'STEP_UNRESPONSIVE',
  /** The run was cancelled before or while the step ran. */
  CANCELLED: 'STEP_CANCELLED',
  /** Another step failed and the failure policy is `fail-fast`. */
  FAIL_FAST: 'STEP_FAIL_FAST',
  /** A step this one depends on did not succeed (failure policy `continue`). */
  UPSTREAM_FAILED: 'STEP_UPSTREAM_FAILED',
  /** The run timeout passed before or while the step ran. */
  RUN_TIMEOUT: 'STEP_RUN_TIMEOUT',
} as const;
/** A step error code: one of the values of the {@link StepErrorCode} map. */
export type StepErrorCode = (typeof StepErrorCode)[keyof typeof StepErrorCode];

/** The stable codes of a run's own error. */
export const RunErrorCode = {
  /** At least one step failed. */
  STEP_FAILED: 'RUN_STEP_FAILED',
  /** The run timeout passed. */
  TIMEOUT: 'RUN_TIMEOUT',
  /** The run was cancelled through its signal. */
  CANCELLED: 'RUN_CANCELLED',
  /** The working copy could not be made (snapshot missing, disk full, ...). */
  WORKSPACE_FAILED: 'RUN_WORKSPACE_FAILED',
} as const;
/** A run error code: one of the values of the {@link RunErrorCode} map. */
export type RunErrorCode = (typeof RunErrorCode)[keyof typeof RunErrorCode];

/** An error as plain, JSON-serialisable data. */
export interface SerializedError {
  /** The error's stable code (a library code, or the fallback for foreign errors). */
  readonly code: string;
  /** The full message. */
  readonly message: string;
  /** How to fix it, when the error had a hint. */
  readonly hint?: string;
  /** Where in the input the problem was, when the error was about input. */
  readonly path?: string;
}

/** One attempt of a step. */
export interface StepAttempt {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** When the attempt started (clock ms). */
  readonly startedAt: number;
  /** When the attempt ended (clock ms). */
  readonly finishedAt: number;
  /** How the attempt ended: `SUCCESS`, `FAILURE` or `ABORTED`. */
  readonly status: StepStatus;
  /** The attempt's exit code, when it ran a process that exited. */
  readonly exitCode?: number | null;
  /** The signal that ended the attempt's process, if one did. */
  readonly signal?: string | null;
  /** Why the attempt did not succeed. */
  readonly error?: SerializedError;
}

/** What happened to one step. JSON-serialisable. */
export interface StepResult {
  /** The step's uuid in the pipeline. */
  readonly uuid: string;
  /** The step's title in the pipeline (may be empty). */
  readonly title: string;
  /** The step's final status. */
  readonly status: StepStatus;
  /** When the first attempt started (clock ms); absent when the step never started. */
  readonly startedAt?: number;
  /**
   * When the step reached its end state (clock ms), also for a step that never started.
   */
  readonly finishedAt?: number;
  /**
   * `finishedAt - startedAt` in ms, all attempts and the waits between them; absent when the step never started.
   */
  readonly durationMs?: number;
  /** How many attempts ran (0 when the step never started). */
  readonly attempts: number;
  /** The last attempt's exit code, when the step ran a process. */
  readonly exitCode?: number | null;
  /** The signal that ended the last attempt's process, if any. */
  readonly signal?: string | null;
  /** Why the step did not succeed. */
  readonly error?: SerializedError;
  /** Every attempt, in order. */
  readonly history: readonly StepAttempt[];
  /** Where the step's log is in the run executor's `LogStore`. */
  readonly log: LogKey;
  /** The step wrote more than `maxLogBytes`; the rest was dropped. */
  readonly logTruncated: boolean;
  /** The log store failed while this step's log was written (`STEP_LOG_FAILED`): output from then on is lost. */
  readonly logError?: SerializedError;
  /** Files the executor kept for this step (executed notebook, its HTML), absolute paths. */
  readonly artifacts: readonly string[];
  /** The last attempt's process identity (for recovery), when the executor reported one. */
  readonly process?: StepProcessInfo;
}

/** What happened to one pipeline run. JSON-serialisable. */
export interface RunResult {
  /** The run's id. */
  readonly runId: string;
  /** The job the run belongs to; absent for a run executed directly. */
  readonly jobId?: string;
  /** The project the run's snapshot was taken of. */
  readonly projectId: string;
  /** The uuid of the pipeline that ran. */
  readonly pipelineUuid: string;
  /** The run's final status: `SUCCESS`, `FAILURE` or `ABORTED`. */
  readonly status: RunStatus;
  /** When the run started (clock ms). */
  readonly startedAt: number;
  /** When the run ended (clock ms). */
  readonly finishedAt: number;
  /** `finishedAt - startedAt`, in ms. */
  readonly durationMs: number;
  /** Why the run did not succeed. */
  readonly error?: SerializedError;
  /** Every step, in the pipeline file's order. */
  readonly steps: Readonly<Record<string, StepResult>>;
  /** The run's kept-artifacts directory (outputs, executed notebooks); it may not exist when nothing was kept. */
  readonly artifactsDir: string;
  /** Declared outputs that were kept, absolute paths under `artifactsDir`. */
  readonly outputs: readonly string[];
  /** The working copy, when it was kept. */
  readonly workingCopy?: string;
}

/** Turns anything thrown into a {@link SerializedError}; library errors keep their code. */
export function serializeError(error: unknown, fallbackCode: string = StepErrorCode.ERROR): SerializedError {
  if (error instanceof PipelineJobsError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      ...(error.path === '' ? {} : { path: error.path }),
    };
  }
  // Errors of other origins (a step function's own, Node's `ENOENT`) get the fallback
  // code: only library codes are promised to be stable.
  if (error instanceof Error) return { code: fallbackCode, message: error.message };
  return { code: fallbackCode, message: String(error) };
}
