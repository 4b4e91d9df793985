import type { RunExecutorEvents } from '../run/events.js';
import type { LogStore } from '../run/log-store.js';
import type { RunRequest } from '../run/request.js';
import type { RunResult } from '../run/result.js';
import type { Snapshots } from '../snapshot/port.js';
import type { BatchRecord, JobRecord, RunRecord } from '../storage/records.js';
import { runOverridesOf } from './job-options.js';

/**
 * What the scheduler needs from a run executor: `RunExecutor` is it. A host may wrap it
 * (to add tracing, say) as long as this holds.
 */
export interface RunRunner {
  execute(request: RunRequestLike, options?: { signal?: AbortSignal }): Promise<RunResult>;
  on<E extends keyof RunExecutorEvents>(event: E, listener: (payload: RunExecutorEvents[E]) => void): () => void;
  /** Where step logs go; the scheduler deletes a run's logs with the run. */
  readonly logStore: LogStore;
  /** Removes what a run left in the work root (after its process died). */
  removeWorkingCopy?(runId: string): Promise<void>;
}

/** The request the scheduler builds for each run. */
export type RunRequestLike = RunRequest;

/** Builds the executor request of a claimed run from its job and batch. */
export function runRequestOf(job: JobRecord, batch: BatchRecord, run: RunRecord, snapshots: Snapshots): RunRequestLike {
  return {
    runId: run.id,
    jobId: job.id,
    projectId: job.projectId,
    pipeline: job.pipeline,
    parameters: run.parameters,
    source: { snapshots, snapshotId: job.snapshotId },
    env: { ...batch.envVars },
    environments: job.environments,
    options: runOverridesOf(job.options),
  };
}
