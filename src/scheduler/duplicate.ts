import path from 'node:path';
import { NotFoundError } from '../errors.js';
import { reconcileParameters } from '../parameters/index.js';
import type { GridDefinition } from '../parameters/types.js';
import { loadPipeline } from '../pipeline/load.js';
import type { JobRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';
import type { JobSpec } from './types.js';

/**
 * The spec of a job like `job` on a new snapshot of its project as it is now: the
 * pipeline is read again, and the parameters reconciled with it (removed keys dropped,
 * new keys at their defaults).
 */
export async function duplicateSpec(ctx: SchedulerContext, job: JobRecord, overrides: Partial<Pick<JobSpec, 'name' | 'draft'>>): Promise<JobSpec> {
  const snapshot = await ctx.o.snapshots.get(job.snapshotId);
  if (!snapshot) {
    throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'The job\'s snapshot is gone, so its project directory is unknown', { path: 'snapshotId', value: job.snapshotId });
  }
  const { grid } = ctx.grids.get(job);
  // The current pipeline of the live project decides which keys survive.
  const current = await loadPipeline(path.join(snapshot.sourceDir, job.pipeline.path), snapshot.sourceDir);
  const reconciled = reconcileParameters(grid.toJSON() as GridDefinition, current);
  return {
    name: overrides.name ?? `${job.name} (copy)`,
    projectDir: snapshot.sourceDir,
    projectId: job.projectId,
    pipeline: job.pipeline.path,
    schedule: job.schedule,
    parameters: { from: 'spec', spec: reconciled.grid.toSpecText() },
    allowNewParameters: false,
    env: { job: { ...job.envVars } },
    draft: overrides.draft ?? true,
    options: structuredClone(job.options),
  };
}
