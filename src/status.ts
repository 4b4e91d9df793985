import { RunStatus } from './run/status.js';

/**
 * Job states, as a `const` map (a value and a type of the same name). The lifecycle and
 * which action is allowed in which state: docs/semantics.md, "Job lifecycle".
 */
export const JobStatus = {
  /** Created as a draft: editable, not scheduled until `confirmJob`. */
  DRAFT: 'DRAFT',
  /** A one-off job waiting for its time. */
  PENDING: 'PENDING',
  /** A cron job that schedules, or a one-off job with unfinished runs. */
  STARTED: 'STARTED',
  /** A cron job whose schedule is paused (`pauseJob`); `triggerJob` still adds batches. */
  PAUSED: 'PAUSED',
  /** End state: every run ended, none failed, and not every run was cancelled. */
  SUCCESS: 'SUCCESS',
  /** End state: at least one run failed. */
  FAILURE: 'FAILURE',
  /** End state: the job was cancelled, or every run of it was. */
  ABORTED: 'ABORTED',
} as const;
/** A job's status: one of the values of the {@link JobStatus} map. */
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** Pipeline-run states (also used for steps): the run module's `RunStatus`, under the name storage uses. */
export const RunState = RunStatus;
/** A run's or step's status: one of the values of the {@link RunState} map. */
export type RunState = RunStatus;

/** End states are final: no status ever leaves them. */
export const END_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'ABORTED']);

/**
 * Whether `status` is an end state (`SUCCESS`, `FAILURE`, `ABORTED`), which no status ever leaves.
 */
export function isEndState(status: string): boolean {
  return END_STATES.has(status);
}
