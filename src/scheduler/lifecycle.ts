import { JobStateError } from '../errors.js';
import { JobStatus } from '../status.js';
import type { JobUpdate } from './types.js';

/** The actions of the lifecycle table. */
export type JobAction = 'confirm' | 'update' | 'pause' | 'resume' | 'trigger' | 'cancel' | 'delete';

const ACTIVE: readonly JobStatus[] = [JobStatus.PENDING, JobStatus.STARTED, JobStatus.PAUSED];
const END: readonly JobStatus[] = [JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.ABORTED];

/** The states from which `action` is allowed (for a cron or one-off job). */
export function allowedFrom(action: JobAction, isCron: boolean): readonly JobStatus[] {
  switch (action) {
    case 'confirm':
      return [JobStatus.DRAFT];
    case 'update':
      return [JobStatus.DRAFT, ...ACTIVE];
    case 'pause':
      return isCron ? [JobStatus.STARTED, JobStatus.PAUSED] : [];
    case 'resume':
      return isCron ? [JobStatus.STARTED, JobStatus.PAUSED] : [];
    case 'trigger':
      return ACTIVE;
    case 'cancel':
      return [JobStatus.DRAFT, ...ACTIVE];
    case 'delete':
      return [JobStatus.DRAFT, JobStatus.PENDING, ...END];
  }
}

/** Throws the lifecycle table's error for `action` in `status`. */
export function assertAllowed(action: JobAction, status: JobStatus, isCron: boolean, jobId: string): void {
  const allowed = allowedFrom(action, isCron);
  if (allowed.includes(status)) return;
  const hint =
    action === 'delete' && (status === JobStatus.STARTED || status === JobStatus.PAUSED)
      ? 'Cancel the job first, then delete it'
      : (action === 'pause' || action === 'resume') && !isCron
        ? 'Only cron jobs can be paused and resumed'
        : allowed.length === 0
          ? `"${action}" is never allowed for this kind of job`
          : `"${action}" is allowed in ${allowed.join(', ')}`;
  throw new JobStateError('JOB_ACTION_NOT_ALLOWED', `Cannot ${action} job "${jobId}" while it is ${status}`, {
    path: 'status',
    value: status,
    hint,
  });
}

/** The update fields the lifecycle table allows in `status`. */
export function updatableFields(status: JobStatus, isCron: boolean): ReadonlySet<keyof JobUpdate> {
  const base: (keyof JobUpdate)[] = ['name', 'env', 'maxRetainedRuns'];
  const plan: (keyof JobUpdate)[] = ['schedule', 'parameters', 'allowNewParameters', 'selection'];
  if (status === JobStatus.DRAFT) return new Set([...base, ...plan]);
  if ((status === JobStatus.STARTED || status === JobStatus.PAUSED) && isCron) return new Set([...base, ...plan]);
  return new Set(base);
}

/** Throws when `update` has a field the table forbids in `status`. */
export function assertUpdatable(update: JobUpdate, status: JobStatus, isCron: boolean, jobId: string): void {
  assertAllowed('update', status, isCron, jobId);
  const allowed = updatableFields(status, isCron);
  for (const key of Object.keys(update) as (keyof JobUpdate)[]) {
    if (update[key] === undefined) continue;
    if (!allowed.has(key)) {
      throw new JobStateError('JOB_FIELD_NOT_UPDATABLE', `Cannot change "${key}" of job "${jobId}" while it is ${status}${isCron ? '' : ' (one-off)'}`, {
        path: key,
        value: update[key],
        hint: `In ${status} you may change: ${[...allowed].join(', ')}`,
      });
    }
  }
}

/**
 * The end status of a finished job, from its counters (never from retained runs):
 * FAILURE if any run failed, else ABORTED if every run was cancelled, else SUCCESS.
 */
export function endStatusOf(counters: { SUCCESS: number; FAILURE: number; ABORTED: number }): JobStatus {
  if (counters.FAILURE > 0) return JobStatus.FAILURE;
  if (counters.ABORTED > 0 && counters.SUCCESS === 0) return JobStatus.ABORTED;
  return JobStatus.SUCCESS;
}
