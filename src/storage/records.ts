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
  /** Runs written and waiting to be claimed. */
  PENDING: number;
  /** Runs claimed and executing (somewhere). */
  STARTED: number;
  /** Runs that ended SUCCESS. */
  SUCCESS: number;
  /** Runs that ended FAILURE. */
  FAILURE: number;
  /** Runs that ended ABORTED. */
  ABORTED: number;
}

/** A job as stored. Everything a process needs to run it, frozen at creation or patched. */
export interface JobRecord {
  /** The job's id (a UUID). */
  readonly id: string;
  /** The project it belongs to. */
  readonly projectId: string;
  /** Display name. */
  readonly name: string;
  /** Where it is in its lifecycle. */
  readonly status: JobStatus;
  /** Frozen at creation; `null` for a job without a project directory (no snapshot, no working copy). */
  readonly snapshotId: string | null;
  /** The pipeline, frozen at creation. */
  readonly pipeline: Pipeline;
  /** What each environment id meant at creation. */
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
  /** Runs per status over the job's life, moved in the same transaction as the runs. */
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
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds of the last change. */
  readonly updatedAt: number;
  /** Epoch milliseconds when it reached an end state; `null` before. */
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
  /** The job it belongs to. */
  readonly jobId: string;
  /** Its index among the job's batches, from 0. */
  readonly batchIndex: number;
  /** What started it: the schedule or a manual trigger. */
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
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** A run to insert. */
export interface NewRun {
  /** The run's id (a new UUID). */
  readonly id: string;
  /** Its combination's index in the grid. */
  readonly gridIndex: number;
  /** Its position in the batch, from 0. */
  readonly indexInBatch: number;
  /** The parameter values of its combination. */
  readonly parameters: RunParameters;
}

/** Why a run ended as it did, beyond its status. */
export type RunReason = 'interrupted' | 'cancelled' | 'timeout' | 'failed' | 'overlap';

/** A serialisable error. */
export interface ErrorInfo {
  /** A stable error code (`STEP_FAILED`, `RUN_TIMEOUT`, ...). */
  readonly code: string;
  /** What happened, in words. */
  readonly message: string;
}

/** One pipeline run as stored. */
export interface RunRecord {
  /** The run's id (a UUID). */
  readonly id: string;
  /** The job it belongs to. */
  readonly jobId: string;
  /** Its batch. */
  readonly batchIndex: number;
  /** Its combination's index in the grid. */
  readonly gridIndex: number;
  /** Its position in its batch, from 0. */
  readonly indexInBatch: number;
  /** Its position among the job's runs, from 0. */
  readonly runIndex: number;
  /** PENDING, STARTED, SUCCESS, FAILURE or ABORTED. */
  readonly status: RunState;
  /** The parameter values of its combination. */
  readonly parameters: RunParameters;
  /** Epoch milliseconds when it was written. */
  readonly createdAt: number;
  /** Epoch milliseconds when its latest attempt was claimed; `null` while PENDING. */
  readonly startedAt: number | null;
  /** Epoch milliseconds when it ended; `null` before. */
  readonly finishedAt: number | null;
  /** Why it ended as it did; `null` while going or after SUCCESS. */
  readonly reason: RunReason | null;
  /** The error it ended with; `null` when none. */
  readonly error: ErrorInfo | null;
  /** How many times a process claimed it. */
  readonly attempts: number;
  /** The process holding its lease while STARTED. */
  readonly leaseOwner: string | null;
  /** When the claiming process's lease runs out (the store's clock); `null` unless STARTED. */
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
  /** The run it belongs to. */
  readonly runId: string;
  /** The step's id (its uuid in the pipeline). */
  readonly stepId: string;
  /** The step's state. */
  readonly status: RunState;
  /** Epoch milliseconds when it started; `null` if it never did. */
  readonly startedAt: number | null;
  /** Epoch milliseconds when it ended; `null` before. */
  readonly finishedAt: number | null;
  /** How many attempts it took (retries included). */
  readonly attempts: number;
  /** The exit code of its last process, when it ran one; `null` otherwise. */
  readonly exitCode: number | null;
  /** Why it failed or was stopped; `null` when it did not. */
  readonly error: ErrorInfo | null;
}

/** Why an occurrence did not start a batch (the schedule module's `SkipReason`). */
export type SkipReason = import('../schedule/types.js').SkipReason;

/** A line of a job's occurrence ledger. Consecutive skips with one reason are one record. */
export interface OccurrenceRecord {
  /** The job it belongs to. */
  readonly jobId: string;
  /** `started` (a batch) or `skipped`. */
  readonly action: 'started' | 'skipped';
  /** Why it was skipped (`missed`, `overlap`, `paused`, `dst`); `null` for `started`. */
  readonly reason: SkipReason | null;
  /** The (first) occurrence time. */
  readonly at: number;
  /** The last occurrence time in this record (equals `at` for one). */
  readonly lastAt: number;
  /** How many consecutive occurrences this record stands for (skips with one reason are one record). */
  readonly count: number;
  /** For `started`: the batch it started. */
  readonly batchIndex: number | null;
}

/** A page of results and the cursor for the next page (`null` at the end). */
export interface Page<T> {
  /** This page's items. */
  readonly items: T[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}
