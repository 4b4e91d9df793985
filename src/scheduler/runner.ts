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
  /**
   * Executes one run to its end; aborting `signal` cancels it (the result is then
   * ABORTED). Resolves with the run's result; rejects only when the request itself is bad.
   */
  execute(request: RunRequestLike, options?: { signal?: AbortSignal }): Promise<RunResult>;
  /** Subscribes to the executor's events (step starts and ends, log lines); returns the unsubscribe. */
  on<E extends keyof RunExecutorEvents>(event: E, listener: (payload: RunExecutorEvents[E]) => void): () => void;
  /** Where step logs go; the scheduler deletes a run's logs with the run. */
  readonly logStore: LogStore;
  /**
   * Removes a run's artifacts, kept working copy and (unless `keepLogs`) logs, after
   * waiting for it to end when it still executes here. Called when retention or a delete
   * removes the run. Without it, only the run's logs are deleted.
   */
  purgeRun?(runId: string, options?: { keepLogs?: boolean }): Promise<void>;
  /** Removes what a run left in the work root (after its process died). */
  removeWorkingCopy?(runId: string): Promise<void>;
  /**
   * Ends the live processes of a run that does not execute here (of the attempts chosen),
   * found by the run itself rather than by a record (see `RunExecutor.endRunProcesses`).
   * Without it, recovery falls back to the step tokens recorded in the run's process info.
   */
  endRunProcesses?(runId: string, options?: { attempts?: (attempt: number) => boolean; gracePeriodMs?: number }): Promise<unknown>;
  /** What runs left on this machine (see `RunExecutor.findLeftovers`): swept at start and every rescan. */
  findLeftovers?(): Promise<RunLeftovers>;
}

/** What {@link RunRunner.findLeftovers} reports: `RunExecutor`'s `Leftovers` satisfies it. */
export interface RunLeftovers {
  /** Live processes of runs that do not execute here, by run and attempt. */
  readonly processes: readonly {
    /** The run the processes belong to. */
    readonly runId: string;
    /** The attempt they belong to (1 for the first). */
    readonly attempt: number;
  }[];
  /** Ids of runs with a working copy left in the work root. */
  readonly workingCopies: readonly string[];
}

/** The request the scheduler builds for each run. */
export type RunRequestLike = RunRequest;

/** Builds the executor request of a claimed run from its job and batch. */
export function runRequestOf(job: JobRecord, batch: BatchRecord, run: RunRecord, snapshots: Snapshots): RunRequestLike {
  return {
    runId: run.id,
    // The claim count: it marks this execution's processes apart from a dead earlier one's.
    attempt: Math.max(1, run.attempts),
    jobId: job.id,
    projectId: job.projectId,
    pipeline: job.pipeline,
    parameters: run.parameters,
    // No snapshot (a job defined in code without a project): no working copy either.
    ...(job.snapshotId === null ? {} : { source: { snapshots, snapshotId: job.snapshotId } }),
    env: { ...batch.envVars },
    environments: job.environments,
    options: runOverridesOf(job.options),
    occurrence: {
      // A manual trigger stands for the instant it was made (as Airflow's logical date does).
      scheduledAt: batch.occurrenceAt ?? batch.createdAt,
      timezone: job.schedule.type === 'cron' ? job.schedule.timezone : 'UTC',
      trigger: batch.triggerKind,
      batchIndex: batch.batchIndex,
      runIndex: run.runIndex,
    },
  };
}
