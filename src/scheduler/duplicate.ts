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
  const common = {
    name: overrides.name ?? `${job.name} (copy)`,
    projectId: job.projectId,
    schedule: job.schedule,
    allowNewParameters: false,
    env: { job: { ...job.envVars } },
    draft: overrides.draft ?? true,
    options: structuredClone(job.options),
  };
  if (job.snapshotId === null || job.pipeline.path === '') {
    // A pipeline defined in code has no file to read again: the code is its definition.
    const { grid } = ctx.grids.get(job);
    const parameters = { from: 'spec' as const, spec: grid.toSpecText() };
    if (job.snapshotId === null) return { ...common, pipeline: job.pipeline, parameters };
    return { ...common, projectDir: await sourceDirOf(ctx, job.snapshotId), pipeline: job.pipeline, parameters };
  }
  const sourceDir = await sourceDirOf(ctx, job.snapshotId);
  const { grid } = ctx.grids.get(job);
  // The current pipeline of the live project decides which keys survive.
  const current = await loadPipeline(path.join(sourceDir, job.pipeline.path), sourceDir);
  const reconciled = reconcileParameters(grid.toJSON() as GridDefinition, current);
  return { ...common, projectDir: sourceDir, pipeline: job.pipeline.path, parameters: { from: 'spec', spec: reconciled.grid.toSpecText() } };
}

async function sourceDirOf(ctx: SchedulerContext, snapshotId: string): Promise<string> {
  const snapshot = await ctx.o.snapshots.get(snapshotId);
  if (!snapshot) {
    throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'The job\'s snapshot is gone, so its project directory is unknown', { path: 'snapshotId', value: snapshotId });
  }
  return snapshot.sourceDir;
}
