import { keepsLogs, purgeRuns } from './purge.js';
import { JobStateError, OptionsError } from '../errors.js';
import { isEndState } from '../status.js';
import type { JobPatch, JobRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';
import { buildGrid, buildSelection, gridJson, mergeEnv } from './job-factory.js';
import { checkJobOptions } from './job-options.js';
import { assertUpdatable } from './lifecycle.js';
import { isCron } from './schedule-adapter.js';
import type { JobUpdate } from './types.js';

/**
 * Applies an explicit patch (an absent field is unchanged) as the lifecycle table
 * allows, compare-and-set on the job's version. A change of parameters resets the
 * selection to all unless a selection comes with it. A retention change applies at once.
 * Everything is checked before anything is written.
 */
export async function applyUpdate(ctx: SchedulerContext, job: JobRecord, update: JobUpdate): Promise<JobRecord> {
  const { o } = ctx;
  assertUpdatable(update, job.status, isCron(job), job.id);
  const patch: { -readonly [K in keyof JobPatch]: JobPatch[K] } = {};
  const now = o.clock.now();
  if (update.name !== undefined) {
    if (typeof update.name !== 'string' || update.name.trim() === '') throw new OptionsError('JOB_SPEC_INVALID', 'A job needs a name', { path: 'name', value: update.name });
    patch.name = update.name;
  }
  if (update.env !== undefined) patch.envVars = mergeEnv({ job: update.env });
  if (update.maxRetainedRuns !== undefined) {
    patch.options = checkJobOptions({ ...job.options, maxRetainedRuns: update.maxRetainedRuns });
  }
  if (update.schedule !== undefined) {
    const schedule = ctx.schedules.normalize(update.schedule, now);
    if (isCron(job) !== (schedule.type === 'cron') && job.status !== 'DRAFT') {
      throw new JobStateError('JOB_FIELD_NOT_UPDATABLE', 'A started job cannot switch between one-off and cron', {
        path: 'schedule.type',
        value: schedule.type,
        hint: 'Duplicate the job with the other kind of schedule instead',
      });
    }
    patch.schedule = schedule;
    // The new schedule starts from now: nothing of it before the edit is caught up.
    if (job.status !== 'DRAFT') patch.scheduleCursor = now;
  }
  let grid = ctx.grids.get(job).grid;
  if (update.parameters !== undefined) {
    grid = await buildGrid(job.pipeline, update.parameters, o.snapshots, job.snapshotId, { allowNewParameters: update.allowNewParameters ?? false, maxRunsPerBatch: o.maxRunsPerBatch });
    patch.grid = gridJson(grid);
    patch.selection = null;
  }
  if (update.selection !== undefined) {
    const selection = buildSelection(grid, update.selection);
    patch.selection = update.selection === 'all' ? null : selection.toJSON();
  } else if (patch.grid !== undefined) {
    buildSelection(grid, 'all'); // "all" of the new grid must still fit in one batch
  }
  const next = await o.storage.updateJob(job.id, patch, { status: [job.status], version: job.version }, now);
  if (!next) {
    const fresh = await o.storage.getJob(job.id);
    if (!fresh || isEndState(fresh.status)) {
      throw new JobStateError('JOB_ACTION_NOT_ALLOWED', `Job "${job.id}" changed while it was being updated and can no longer be updated`, { path: 'status', value: fresh?.status });
    }
    return applyUpdate(ctx, fresh, update);
  }
  if (update.maxRetainedRuns !== undefined && update.maxRetainedRuns !== null) {
    await purgeRuns(ctx, await o.storage.deleteRuns(job.id, { keepLatest: update.maxRetainedRuns }), keepsLogs(next));
  }
  return next;
}
