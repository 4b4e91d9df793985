import type { PinnedEnvironment } from '../environment.js';
import type { PipelineDefinition } from '../pipeline/define.js';
import type { SnapshotRules } from '../snapshot/options.js';
import type { Pipeline, RunParameters } from '../pipeline/model.js';
import type { JobStatus, RunState } from '../status.js';
import type { ErrorInfo, JobCounters, OccurrenceRecord, RunReason, StepStateRecord } from '../storage/records.js';

/** How a job's parameters are given. */
export type ParametersInput =
  /** Find `<pipeline>.parameters.json` beside the pipeline file in the snapshot (none: defaults only). */
  | { from: 'auto' }
  /** A parameters file in the snapshot, relative to the project root. */
  | { from: 'file'; path: string }
  /** A spec in the parameters-file format, as an object or as JSON text (text keeps its key order). */
  | { from: 'spec'; spec: Record<string, Record<string, readonly unknown[]>> | string };

/** A selection of grid indices: all, a list, or half-open `[start, end)` ranges. */
export type SelectionInput = 'all' | { indices: readonly number[] } | { ranges: readonly (readonly [number, number])[] };

/** What happens to a run whose process died (its lease expired). */
export const InterruptedPolicy = {
  /** End it FAILURE with the reason `interrupted` (at most once). */
  FAIL: 'fail',
  /** Run it again (at least once). */
  RERUN: 'rerun',
} as const;
export type InterruptedPolicy = (typeof InterruptedPolicy)[keyof typeof InterruptedPolicy];

/** How runs of the job execute and are kept. Stored with the job. */
export interface JobOptions {
  /**
   * Keep only the N most recently finished runs; older finished runs are deleted with
   * their logs (unless `keepLogs`), artifacts and kept working copies. Runs still going
   * are never deleted.
   * @default null (unlimited)
   */
  maxRetainedRuns?: number | null;
  /**
   * Keep the step logs of runs that retention deletes (their artifacts and working
   * copies still go).
   * @default false
   */
  keepLogs?: boolean;
  /**
   * How much of the job's occurrence ledger (`listOccurrences`: started and skipped
   * occurrences) to keep, pruned whenever a record is added: at most `maxRecords` records
   * (whole number >= 1) and none whose last occurrence is older than `maxAgeMs`. The
   * newest record is always kept; consecutive skips stay one record. `null`: keep all
   * (the ledger then grows with the schedule, one record per started occurrence).
   * @default { maxRecords: 1000 }
   */
  ledgerRetention?: { maxRecords?: number; maxAgeMs?: number } | null;
  /**
   * Runs of this job STARTED at once, across all processes sharing the store.
   * @default 0 (no per-job limit; the scheduler's global concurrency still applies)
   */
  maxConcurrentRuns?: number;
  /** @default 'fail' */
  onInterrupted?: InterruptedPolicy;
  /** Passed to the RunExecutor for each run. */
  failurePolicy?: 'fail-fast' | 'continue';
  maxParallelism?: number;
  retries?: number;
  stepTimeoutMs?: number;
  runTimeoutMs?: number;
  /** Declared outputs (globs relative to the project root) kept after a run. */
  outputs?: string[];
  /** @default 'never' */
  keepWorkingCopy?: 'never' | 'always' | 'on-failure';
}

/** What `createJob` takes. */
export interface JobSpec {
  /** Display name. */
  name: string;
  /**
   * An idempotency key, so that a create can be retried safely: a second `createJob`
   * with the same key returns the job the first one made when the spec is the same
   * (compared as given, in canonical JSON without the key), and throws `JobStateError`
   * `JOB_KEY_CONFLICT` when it differs. The store enforces it, across processes; a
   * deleted job's key is free again; `duplicateJob` does not copy it. At most 200
   * characters.
   * @default undefined (every create makes a new job)
   */
  key?: string;
  /**
   * An existing snapshot (an id of the scheduler's `snapshots` store) to run, instead of
   * taking a new one of `projectDir` (leave `projectDir` out). The pipeline file and the
   * parameters file are read from it. Several jobs may share a snapshot; it is deleted
   * with the last job that uses it.
   * @default undefined (a new snapshot of `projectDir`)
   */
  snapshotId?: string;
  /**
   * Snapshot rules for this job's new snapshot of `projectDir`, on top of the snapshot
   * store's own (`exclude`, `dataDir`, `maxFiles`, `maxBytes`, `symlinks`; see
   * `SnapshotRules`). Checked by the store; refused with `snapshotId` or without a
   * `projectDir`.
   * @default undefined (the store's rules)
   */
  snapshotOptions?: SnapshotRules;
  /**
   * The project directory; a snapshot of it is taken now, and each run gets a working copy
   * of it. Leave it out for a pipeline defined in code whose steps are all functions: no
   * snapshot, no working copy, nothing on disk (steps naming a file are then refused with
   * `JOB_NO_PROJECT`).
   * @default undefined (required when `pipeline` is a file path)
   */
  projectDir?: string;
  /**
   * @default derived from the project directory's real path; without one, from the
   * pipeline's uuid
   */
  projectId?: string;
  /**
   * The pipeline: a file relative to the project root (read from the snapshot), or a
   * pipeline defined in code (a `definePipeline` result, or its definition). Function steps
   * are found by step uuid (or `file_path`) in the `FunctionStepExecutor` of the process
   * that runs them: only the names are stored with the job.
   */
  pipeline: string | Pipeline | PipelineDefinition;
  /** @default { type: 'now' } */
  schedule?: import('../schedule/index.js').ScheduleSpec;
  /** @default { from: 'auto' } */
  parameters?: ParametersInput;
  /** Allow parameters the pipeline does not declare. @default false */
  allowNewParameters?: boolean;
  /** @default 'all' */
  selection?: SelectionInput;
  /** Environment variables: project < pipeline < job, merged in that order. */
  env?: { project?: Record<string, string>; pipeline?: Record<string, string>; job?: Record<string, string> };
  /** Create as a draft (confirm later). @default false */
  draft?: boolean;
  options?: JobOptions;
}

/** One value, or several (a filter matches any of them). */
export type OneOrMany<T> = T | readonly T[];

/**
 * Which page of a listing. Every `list*` method takes these and answers a `Page`:
 * `{ items, nextCursor }`, where `nextCursor` is `null` on the last page.
 */
export interface PageOptions {
  /** How many items at most. @default 100 (listBatches: 50) */
  limit?: number;
  /** The `nextCursor` of the previous page; absent or `null` for the first page. */
  cursor?: string | null;
}

/** `listJobs`' filter: newest first. */
export interface JobQuery extends PageOptions {
  projectId?: string;
  /** One status or several: `'STARTED'`, `['SUCCESS', 'FAILURE']`. */
  status?: OneOrMany<JobStatus>;
  /** The job created with this idempotency key. */
  key?: string;
}

/** `listRuns`' filter: in run order. */
export interface RunQuery extends PageOptions {
  /** One status or several: `'FAILURE'`, `['PENDING', 'STARTED']`. */
  status?: OneOrMany<RunState>;
  /** Only the runs of this batch. */
  batchIndex?: number;
}

/** Options of `JobScheduler.previewJob`. */
export interface PreviewJobOptions {
  /** List the occurrences after this instant (epoch ms or a `Date`). @default now (the scheduler's clock) */
  from?: number | Date;
  /** Include occurrences a DST gap skips (`gap: 'skip'`), marked `skipped: 'dst'`. @default true */
  includeSkipped?: boolean;
}

/** An explicit patch: an absent field is unchanged. What each state allows is in the lifecycle table. */
export interface JobUpdate {
  name?: string;
  schedule?: import('../schedule/index.js').ScheduleSpec;
  /** Replaces the parameters; the selection resets to all unless `selection` is given too. */
  parameters?: ParametersInput;
  /** With `parameters`: allow parameters the pipeline does not declare. @default false */
  allowNewParameters?: boolean;
  selection?: SelectionInput;
  /** Replaces the job's environment variables (the merged set). */
  env?: Record<string, string>;
  maxRetainedRuns?: number | null;
}

/** A job as the API shows it. */
export interface Job {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly status: JobStatus;
  /** `null` for a job without a project directory: no snapshot, no working copy. */
  readonly snapshotId: string | null;
  /** The idempotency key it was created with (`JobSpec.key`), or `null`. */
  readonly key: string | null;
  readonly pipeline: Pipeline;
  readonly environments: Readonly<Record<string, PinnedEnvironment>>;
  readonly schedule: import('../schedule/index.js').NormalizedSchedule;
  readonly envVars: Readonly<Record<string, string>>;
  readonly options: JobOptions;
  /** Runs per status, over the job's whole life (deleted runs included). */
  readonly counters: JobCounters;
  /** How many combinations the grid has, and how many are selected. */
  readonly gridSize: number;
  readonly selectedRuns: number;
  readonly batchCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
}

/** A pipeline run as the API shows it. */
export interface Run {
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
  readonly attempts: number;
  readonly steps: readonly StepStateRecord[];
}

/** The scheduler's events: one payload object each. */
export interface SchedulerEvents {
  'job:created': { job: Job };
  'job:updated': { job: Job };
  'job:paused': { jobId: string };
  'job:resumed': { jobId: string };
  'job:finished': { jobId: string; status: JobStatus };
  'job:deleted': { jobId: string };
  'occurrence:fired': { jobId: string; at: number; batchIndex: number };
  /** One or a group of consecutive occurrences skipped for one reason. */
  'occurrence:skipped': { jobId: string; at: number; lastAt: number; count: number; reason: NonNullable<OccurrenceRecord['reason']> };
  'batch:started': { jobId: string; batchIndex: number; runCount: number; trigger: 'schedule' | 'manual' };
  'run:started': { jobId: string; runId: string; attempt: number };
  'run:finished': { jobId: string; runId: string; status: RunState; reason: RunReason | null };
  'step:started': { jobId: string; runId: string; stepId: string };
  'step:finished': { jobId: string; runId: string; stepId: string; status: RunState };
  'scheduler:error': { error: unknown; during: string };
}
