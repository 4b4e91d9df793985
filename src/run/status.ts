/**
 * Statuses and policies of a pipeline run, each a `const` object plus a type of the same
 * name (docs/semantics.md: run and step statuses are `PENDING, STARTED, SUCCESS, FAILURE, ABORTED`).
 */

/** The status of a pipeline run. */
export const RunStatus = {
  /** Waiting: for a worker (run) or for the steps it depends on (step). */
  PENDING: 'PENDING',
  /** Executing now. */
  STARTED: 'STARTED',
  /** End state: ran to the end without error (a run: every step succeeded). */
  SUCCESS: 'SUCCESS',
  /** End state: failed (a run: a step failed, its working copy could not be made, or it timed out). */
  FAILURE: 'FAILURE',
  /** End state: cancelled (a step: also stopped or skipped because another step failed). */
  ABORTED: 'ABORTED',
} as const;
/** A run's status: one of the values of the {@link RunStatus} map. */
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** The status of one step of a run (same values as {@link RunStatus}). */
export const StepStatus = RunStatus;
/** A step's status: one of the values of the {@link StepStatus} map. */
export type StepStatus = RunStatus;

/**
 * What happens to the other steps when a step fails.
 * - `fail-fast`: running and pending steps become ABORTED; the run is FAILURE.
 * - `continue`: steps that do not depend on the failed one still run; its dependents
 *   become ABORTED (`STEP_UPSTREAM_FAILED`); the run is FAILURE.
 */
export const FailurePolicy = {
  /** Stop the run at the first failed step: running and pending steps become ABORTED. */
  FAIL_FAST: 'fail-fast',
  /** Run every step that does not depend on the failed one; its dependents become ABORTED. */
  CONTINUE: 'continue',
} as const;
/** One of the values of the {@link FailurePolicy} map. */
export type FailurePolicy = (typeof FailurePolicy)[keyof typeof FailurePolicy];

/**
 * What happens when a step writes more log than `maxLogBytes`.
 * - `truncate`: a visible marker is written, further output is read and dropped; the step
 *   goes on (its result says `logTruncated: true`).
 * - `fail`: the same marker, then the step is stopped and fails with `STEP_OUTPUT_LIMIT`.
 */
export const LogOverflowPolicy = {
  /** Write a marker, drop further output, let the step go on (`logTruncated: true`). */
  TRUNCATE: 'truncate',
  /** Write a marker, stop the step, fail it with `STEP_OUTPUT_LIMIT`. */
  FAIL: 'fail',
} as const;
/** One of the values of the {@link LogOverflowPolicy} map. */
export type LogOverflowPolicy = (typeof LogOverflowPolicy)[keyof typeof LogOverflowPolicy];

/**
 * What happens when a step's log cannot be written (the log store failed: disk full,
 * permission, a remote store down). Either way the failure is never silent: the log's
 * writer stops, the log is ended (followers finish), and the error is recorded.
 * - `fail`: the step is stopped and fails with `STEP_LOG_FAILED` (so the run is FAILURE).
 * - `warn`: the step goes on and keeps its status; its result's `logError` (and the
 *   scheduler's step state `error`) says what was lost.
 */
export const LogErrorPolicy = {
  /** Stop the step and fail it with `STEP_LOG_FAILED`. */
  FAIL: 'fail',
  /** Let the step go on; its result's `logError` says what was lost. */
  WARN: 'warn',
} as const;
/** One of the values of the {@link LogErrorPolicy} map. */
export type LogErrorPolicy = (typeof LogErrorPolicy)[keyof typeof LogErrorPolicy];

/** Whether the working copy of a run is kept when the run ends. */
export const KeepWorkingCopy = {
  /** Delete the working copy when the run ends. */
  NEVER: 'never',
  /** Keep the working copy (and its outputs) when the run ends. */
  ALWAYS: 'always',
  /** Keep the working copy only when the run did not succeed. */
  ON_FAILURE: 'on-failure',
} as const;
/** One of the values of the {@link KeepWorkingCopy} map. */
export type KeepWorkingCopy = (typeof KeepWorkingCopy)[keyof typeof KeepWorkingCopy];
