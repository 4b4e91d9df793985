/**
 * Statuses and policies of a pipeline run, each a `const` object plus a type of the same
 * name (SEMANTICS.md: run and step statuses are `PENDING, STARTED, SUCCESS, FAILURE, ABORTED`).
 */

/** The status of a pipeline run. */
export const RunStatus = {
  PENDING: 'PENDING',
  STARTED: 'STARTED',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  ABORTED: 'ABORTED',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** The status of one step of a run (same values as {@link RunStatus}). */
export const StepStatus = RunStatus;
export type StepStatus = RunStatus;

/**
 * What happens to the other steps when a step fails.
 * - `fail-fast`: running and pending steps become ABORTED; the run is FAILURE.
 * - `continue`: steps that do not depend on the failed one still run; its dependents
 *   become ABORTED (`STEP_UPSTREAM_FAILED`); the run is FAILURE.
 */
export const FailurePolicy = {
  FAIL_FAST: 'fail-fast',
  CONTINUE: 'continue',
} as const;
export type FailurePolicy = (typeof FailurePolicy)[keyof typeof FailurePolicy];

/**
 * What happens when a step writes more log than `maxLogBytes`.
 * - `truncate`: a visible marker is written, further output is read and dropped; the step
 *   goes on (its result says `logTruncated: true`).
 * - `fail`: the same marker, then the step is stopped and fails with `STEP_OUTPUT_LIMIT`.
 */
export const LogOverflowPolicy = {
  TRUNCATE: 'truncate',
  FAIL: 'fail',
} as const;
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
  FAIL: 'fail',
  WARN: 'warn',
} as const;
export type LogErrorPolicy = (typeof LogErrorPolicy)[keyof typeof LogErrorPolicy];

/** Whether the working copy of a run is kept when the run ends. */
export const KeepWorkingCopy = {
  NEVER: 'never',
  ALWAYS: 'always',
  ON_FAILURE: 'on-failure',
} as const;
export type KeepWorkingCopy = (typeof KeepWorkingCopy)[keyof typeof KeepWorkingCopy];
