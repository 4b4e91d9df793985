import type { JobRecord, RunRecord, StepStateRecord } from '../storage/records.js';
import type { GridCache } from './context.js';
import type { Job, Run } from './types.js';

/** The API view of a stored job. */
export function toJob(r: JobRecord, grids: GridCache): Job {
  const { grid, selection } = grids.get(r);
  return {
    id: r.id,
    projectId: r.projectId,
    name: r.name,
    status: r.status,
    snapshotId: r.snapshotId,
    key: r.key,
    pipeline: r.pipeline,
    environments: r.environments,
    schedule: r.schedule,
    envVars: r.envVars,
    options: structuredClone(r.options),
    counters: { ...r.counters },
    gridSize: grid.size,
    selectedRuns: selection.count,
    batchCount: r.batchCount,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
  };
}

/** The API view of a stored run. */
export function toRun(r: RunRecord, steps: readonly StepStateRecord[]): Run {
  return {
    id: r.id,
    jobId: r.jobId,
    batchIndex: r.batchIndex,
    gridIndex: r.gridIndex,
    indexInBatch: r.indexInBatch,
    runIndex: r.runIndex,
    status: r.status,
    parameters: r.parameters,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    reason: r.reason,
    error: r.error,
    attempts: r.attempts,
    steps,
  };
}
