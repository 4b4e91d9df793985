import type { PinnedEnvironment } from '../environment.js';
import type { GridDefinition, GridSelectionJSON } from '../parameters/types.js';
import type { Pipeline, RunParameters } from '../pipeline/model.js';
import type { NormalizedSchedule } from '../schedule/types.js';
import type { JobOptions } from '../scheduler/types.js';
import type { JobStatus, RunState } from '../status.js';

/** JSON data the storage keeps without looking inside (an executor's process info). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Runs of a job per status. The job's end status comes from these, never from retained runs. */
export interface JobCounters {
  PENDING: number;
  STARTED: number;
  SUCCESS: number;
  FAILURE: number;
  ABORTED: number;
}

/** A job as stored. Everything a process needs to run it, frozen at creation or patched. */
export interface JobRecord {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly status: JobStatus;
  /** Frozen at creation; `null` for a job without a project directory (no snapshot, no working copy). */
  readonly snapshotId: string | null;
  readonly pipeline: Pipeline;
  readonly environments: Readonly<Record<string, PinnedEnvironment>>;
  /** The parameter grid definition (see `ParameterGrid.toJSON`). */
  readonly grid: GridDefinition;
  /** Selected grid indices, as sorted `[start, end)` ranges; `null` means all. */
  readonly selection: GridSelectionJSON | null;
  /** The normalised schedule. */
  readonly schedule: NormalizedSchedule;
  /** Environment variables given to every step (project < pipeline < job, already merged). */
  readonly envVars: Readonly<Record<string, string>>;
  /** Execution and retention options, exactly as the user gave them (checked). */
  readonly options: JobOptions;
  readonly counters: JobCounters;
  /** How many batches were started (the next batch index). */
  readonly batchCount: number;
  /** How many runs were created (the next job-wide run index). */
  readonly runCount: number;
  /** Scheduler state: the last schedule occurrence handled (fired or skipped); the next is strictly after it. */
  readonly scheduleCursor: number | null;
  /**
   * Scheduler state: the occurrence an `overlap: 'queue'` job holds back while its
   * previous batch runs (at most one); `null` when none. Never part of `options`.
   */
  readonly bufferedOccurrence: number | null;
  /** Per-job cap on runs STARTED at once, across all processes; `0`: none. */
  readonly maxConcurrentRuns: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  /** Incremented by every update. */
  readonly version: number;
  /**
   * The caller's idempotency key (`JobSpec.key`), unique among the store's jobs; `null`
   * when none was given. Never changes; freed when the job is deleted.
   */
  readonly key: string | null;
  /**
   * SHA-256 (hex) of the spec the job was created from, in canonical JSON without its
   * `key`: how a second create with the same key tells "the same job" from "another
   * job"; `null` when the job has no key.
   */
  readonly specFingerprint: string | null;
}

/** Fields an update may change. */
export type JobPatch = Partial<
  Pick<
    JobRecord,
    | 'name'
    | 'status'
    | 'grid'
    | 'selection'
    | 'schedule'
    | 'envVars'
    | 'options'
    | 'scheduleCursor'
    | 'bufferedOccurrence'
    | 'maxConcurrentRuns'
    | 'finishedAt'
  >
>;

/** What started a batch. */
export type BatchTrigger = 'schedule' | 'manual';

/**
 * What started a batch, as its steps are told: a `schedule` trigger is `schedule` (a cron
 * occurrence on time), `now` or `at` (a one-off schedule), or `catch-up` (a missed cron
 * occurrence run late); a `manual` trigger is `manual`.
 */
export type BatchTriggerKind = 'schedule' | 'now' | 'at' | 'manual' | 'catch-up';

/** Everything one trigger of a job starts. */
export interface BatchRecord {
  readonly jobId: string;
  readonly batchIndex: number;
  readonly trigger: BatchTrigger;
  /** The trigger in detail (a batch written before it was recorded: its `trigger`). */
  readonly triggerKind: BatchTriggerKind;
  /** The schedule occurrence it is for; `null` for a manual trigger. */
  readonly occurrenceAt: number | null;
  /** How many runs it has (they may still be being written). */
  readonly runCount: number;
  /** How many runs are written so far; equals `runCount` once complete. */
  readonly writtenRuns: number;
  /** The job's first run index for this batch. */
  readonly firstRunIndex: number;
  /** The job's environment variables when the batch started (edits apply to later batches). */
  readonly envVars: Readonly<Record<string, string>>;
  /**
   * The grid the batch runs, recorded when it was created: a resumed batch writes its
   * runs from this, never from the job's current (possibly edited) grid.
   */
  readonly grid: GridDefinition;
  /** The selection the batch runs (`null`: all of `grid`), recorded with `grid`. */
  readonly selection: GridSelectionJSON | null;
  readonly createdAt: number;
}

/** A run to insert. */
export interface NewRun {
  readonly id: string;
  readonly gridIndex: number;
  readonly indexInBatch: number;
  readonly parameters: RunParameters;
}

/** Why a run ended as it did, beyond its status. */
export type RunReason = 'interrupted' | 'cancelled' | 'timeout' | 'failed' | 'overlap';

/** A serialisable error. */
export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
}

/** One pipeline run as stored. */
export interface RunRecord {
  readonly id: string;
  readonly jobId: string;
  readonly batchIndex: number;
  readonly gridIndex: number;
  readonly indexInBatch: number;
  readonly runIndex: number;
  readonly status: RunState;
  readonly parameters: RunParameters;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly reason: RunReason | null;
  readonly error: ErrorInfo | null;
  /** How many times a process claimed it. */
  readonly attempts: number;
  /** The process holding its lease while STARTED. */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  /** A cancel was asked for while it ran; the owner stops it. */
  readonly cancelRequested: boolean;
  /** What the executor recorded to find the run's processes again (JSON). */
  readonly processInfo: Json;
  /** Global insertion order: runs are claimed in it. */
  readonly seq: number;
}

/** One step of one run. */
export interface StepStateRecord {
  readonly runId: string;
  readonly stepId: string;
  readonly status: RunState;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly attempts: number;
  readonly exitCode: number | null;
  readonly error: ErrorInfo | null;
}

/** Why an occurrence did not start a batch (the schedule module's `SkipReason`). */
export type SkipReason = import('../schedule/types.js').SkipReason;

/** A line of a job's occurrence ledger. Consecutive skips with one reason are one record. */
export interface OccurrenceRecord {
  readonly jobId: string;
  readonly action: 'started' | 'skipped';
  readonly reason: SkipReason | null;
  /** The (first) occurrence time. */
  readonly at: number;
  /** The last occurrence time in this record (equals `at` for one). */
  readonly lastAt: number;
  readonly count: number;
  /** For `started`: the batch it started. */
  readonly batchIndex: number | null;
}

/** A page of results and the cursor for the next page (`null` at the end). */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}
