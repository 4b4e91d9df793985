import { RunStatus } from './run/status.js';

/** Job states. See the lifecycle table in the README. */
export const JobStatus = {
  DRAFT: 'DRAFT',
  PENDING: 'PENDING',
  STARTED: 'STARTED',
  PAUSED: 'PAUSED',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  ABORTED: 'ABORTED',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** Pipeline-run states (also used for steps): the run module's `RunStatus`, under the name storage uses. */
export const RunState = RunStatus;
export type RunState = RunStatus;

/** End states are final: no status ever leaves them. */
export const END_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'ABORTED']);

export function isEndState(status: string): boolean {
  return END_STATES.has(status);
}
