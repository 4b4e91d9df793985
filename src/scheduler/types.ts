import type { PinnedEnvironment } from '../environment.js';
import type { PipelineDefinition } from '../pipeline/define.js';
import type { SnapshotRules } from '../snapshot/options.js';
import type { Pipeline, RunParameters } from '../pipeline/model.js';
import type { JobStatus, RunState } from '../status.js';
import type { ErrorInfo, JobCounters, OccurrenceRecord, RunReason, StepStateRecord } from '../storage/records.js';

/** How a job's parameters are given. */
export type ParametersInput =
  /** Find `<pipeline>.parameters.json` beside the pipeline file in the snapshot (none: defaults only). */
  | {
      /** Where the values come from. */
      from: 'auto';
    }
  /** A parameters file in the snapshot, relative to the project root. */
  | {
      /** Where the values come from. */
      from: 'file';
      /** The file, relative to the project root. */
      path: string;
    }
  /** A spec in the parameters-file format, as an object or as JSON text (text keeps its key order). */
  | {
      /** Where the values come from. */
      from: 'spec';
      /** `{ pipeline_parameters: { key: [values] }, <step uuid>: { key: [values] } }`, or its JSON text. */
      spec: Record<string, Record<string, readonly unknown[]>> | string;
    };

/** A selection of grid indices: all, a list, or half-open `[start, end)` ranges. */
export type SelectionInput =
  | 'all'
  | {
      /** Grid indices, each at most once. */
      indices: readonly number[];
    }
  | {
      /** Half-open `[start, end)` ranges of grid indices. */
      ranges: readonly (readonly [number, number])[];
    };

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
  ledgerRetention?: {
    /** Keep at most this many records (a whole number >= 1). @default 1000 */
    maxRecords?: number;
    /** Drop records whose last occurrence is older than this many milliseconds. @default undefined (no age limit) */
    maxAgeMs?: number;
  } | null;
  /**
   * Runs of this job STARTED at once, across all processes sharing the store.
   * @default 0 (no per-job limit; the scheduler's global concurrency still applies)
   */
  maxConcurrentRuns?: number;
  /** @default 'fail' */
  onInterrupted?: InterruptedPolicy;
  /**
   * What a failed step does to the rest of its run: `'fail-fast'` stops the rest of the run,
   * `'continue'` runs every step that does not depend on the failed one.
   * Passed to the RunExecutor for each run.
   * @default the RunExecutor's (`'fail-fast'`)
   */
  failurePolicy?: 'fail-fast' | 'continue';
  /** Steps of one run executing at once (a whole number >= 1). @default the RunExecutor's */
  maxParallelism?: number;
  /** Extra attempts of a failed step before it counts as failed (a whole number >= 0). @default the RunExecutor's (0) */
  retries?: number;
  /** A step still going after this many milliseconds is stopped and fails `STEP_TIMEOUT`. @default the RunExecutor's (none) */
  stepTimeoutMs?: number;
  /** A run still going after this many milliseconds is stopped and fails with the reason `timeout`. @default the RunExecutor's (none) */
  runTimeoutMs?: number;
  /** Declared outputs (globs relative to the project root) kept after a run. @default [] (nothing kept) */
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
  /** Environment variables: project < pipeline < job, merged in that order. @default {} */
  env?: {
    /** The project's variables (Orchest's project environment variables). @default {} */
    project?: Record<string, string>;
    /** The pipeline's variables; they win over the project's. @default {} */
    pipeline?: Record<string, string>;
    /** This job's variables; they win over both. @default {} */
    job?: Record<string, string>;
  };
  /** Create as a draft (confirm later). @default false */
  draft?: boolean;
  /** How runs execute and are kept (retention, limits, timeouts, retries). @default {} */
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
  /** The `nextCursor` of the previous page; absent or `null` for the first page. @default null (the first page) */
  cursor?: string | null;
}

/** `listJobs`' filter: newest first. */
export interface JobQuery extends PageOptions {
  /** Only the jobs of this project. @default every project */
  projectId?: string;
  /** One status or several: `'STARTED'`, `['SUCCESS', 'FAILURE']`. @default every status */
  status?: OneOrMany<JobStatus>;
  /** The job created with this idempotency key. @default any key, or none */
  key?: string;
}

/** `listRuns`' filter: in run order. */
export interface RunQuery extends PageOptions {
  /** One status or several: `'FAILURE'`, `['PENDING', 'STARTED']`. @default every status */
  status?: OneOrMany<RunState>;
  /** Only the runs of this batch. @default every batch */
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
  /** A new display name. @default unchanged */
  name?: string;
  /** A new schedule (checked as at creation); occurrences after the edit follow it. @default unchanged */
  schedule?: import('../schedule/index.js').ScheduleSpec;
  /** Replaces the parameters; the selection resets to all unless `selection` is given too. @default unchanged */
  parameters?: ParametersInput;
  /** With `parameters`: allow parameters the pipeline does not declare. @default false */
  allowNewParameters?: boolean;
  /** A new selection of the grid (batches that start after the edit run it). @default unchanged (all, when `parameters` is given) */
  selection?: SelectionInput;
  /** Replaces the job's environment variables (the merged set). @default unchanged */
  env?: Record<string, string>;
  /** A new retention (see `JobOptions.maxRetainedRuns`); `null`: unlimited. @default unchanged */
  maxRetainedRuns?: number | null;
}

/** A job as the API shows it. */
export interface Job {
  /** The job's id (a UUID). */
  readonly id: string;
  /** The project it belongs to (given, or derived from the project directory or the pipeline). */
  readonly projectId: string;
  /** Display name. */
  readonly name: string;
  /** Where it is in its lifecycle (see docs/semantics.md). */
  readonly status: JobStatus;
  /** `null` for a job without a project directory: no snapshot, no working copy. */
  readonly snapshotId: string | null;
  /** The idempotency key it was created with (`JobSpec.key`), or `null`. */
  readonly key: string | null;
  /** The pipeline, frozen at creation (read from the snapshot, or defined in code). */
  readonly pipeline: Pipeline;
  /** What each environment id of the pipeline meant at creation (every run uses this). */
  readonly environments: Readonly<Record<string, PinnedEnvironment>>;
  /** The schedule with every default filled in. */
  readonly schedule: import('../schedule/index.js').NormalizedSchedule;
  /** The merged environment variables every step gets. */
  readonly envVars: Readonly<Record<string, string>>;
  /** The options as given at creation (or edited). */
  readonly options: JobOptions;
  /** Runs per status, over the job's whole life (deleted runs included). */
  readonly counters: JobCounters;
  /** How many combinations the grid has, and how many are selected. */
  readonly gridSize: number;
  /** How many runs a batch has: the selected combinations. */
  readonly selectedRuns: number;
  /** How many batches were started (the next batch's index). */
  readonly batchCount: number;
  /** Epoch milliseconds (the scheduler's clock). */
  readonly createdAt: number;
  /** Epoch milliseconds of the last change to the job record. */
  readonly updatedAt: number;
  /** Epoch milliseconds when it reached an end state; `null` before. */
  readonly finishedAt: number | null;
}

/** A pipeline run as the API shows it. */
export interface Run {
  /** The run's id (a UUID; `PIPELINE_JOBS_RUN_ID` in its steps). */
  readonly id: string;
  /** The job it belongs to. */
  readonly jobId: string;
  /** The batch (trigger) it belongs to, counted from 0 per job. */
  readonly batchIndex: number;
  /** Its combination's index in the job's parameter grid. */
  readonly gridIndex: number;
  /** Its position in its batch, from 0. */
  readonly indexInBatch: number;
  /** Its position among all the job's runs, from 0. */
  readonly runIndex: number;
  /** PENDING, STARTED, SUCCESS, FAILURE or ABORTED. */
  readonly status: RunState;
  /** The pipeline's and each step's parameter values in this run. */
  readonly parameters: RunParameters;
  /** Epoch milliseconds when it was written (PENDING). */
  readonly createdAt: number;
  /** Epoch milliseconds when its latest attempt was claimed; `null` while PENDING. */
  readonly startedAt: number | null;
  /** Epoch milliseconds when it ended; `null` before. */
  readonly finishedAt: number | null;
  /** Why it ended as it did (`failed`, `cancelled`, `interrupted`, `timeout`); `null` while going or after SUCCESS. */
  readonly reason: RunReason | null;
  /** The error it ended with (a stable code and a message); `null` when none. */
  readonly error: ErrorInfo | null;
  /** How many times it was claimed (more than 1 after a re-run of an interrupted run). */
  readonly attempts: number;
  /** Each step's state (by `stepId`), as last recorded. */
  readonly steps: readonly StepStateRecord[];
}

/** The scheduler's events: one payload object each. */
export interface SchedulerEvents {
  /** A job was created (in this process). */
  'job:created': {
    /** The new job. */
    job: Job;
  };
  /** A job was confirmed or edited (in this process). */
  'job:updated': {
    /** The job after the change. */
    job: Job;
  };
  /** A job was paused (in this process). */
  'job:paused': {
    /** The job's id. */
    jobId: string;
  };
  /** A job was resumed (in this process). */
  'job:resumed': {
    /** The job's id. */
    jobId: string;
  };
  /** A job reached an end state (in the process that ended it). */
  'job:finished': {
    /** The job's id. */
    jobId: string;
    /** Its end state. */
    status: JobStatus;
  };
  /** A job was deleted (in this process). */
  'job:deleted': {
    /** The deleted job's id. */
    jobId: string;
  };
  /** A schedule occurrence started a batch (in the one process that claimed it). */
  'occurrence:fired': {
    /** The job's id. */
    jobId: string;
    /** The occurrence's instant, epoch milliseconds. */
    at: number;
    /** The batch it started. */
    batchIndex: number;
  };
  /** One or a group of consecutive occurrences skipped for one reason. */
  'occurrence:skipped': {
    /** The job's id. */
    jobId: string;
    /** The first skipped occurrence, epoch milliseconds. */
    at: number;
    /** The last skipped occurrence of the group, epoch milliseconds. */
    lastAt: number;
    /** How many occurrences the group holds. */
    count: number;
    /** Why (`missed`, `overlap`, `paused`, `dst`). */
    reason: NonNullable<OccurrenceRecord['reason']>;
  };
  /** A batch was started (its runs are being written). */
  'batch:started': {
    /** The job's id. */
    jobId: string;
    /** The batch's index. */
    batchIndex: number;
    /** How many runs it has. */
    runCount: number;
    /** What started it: its schedule, or `triggerJob`. */
    trigger: 'schedule' | 'manual';
  };
  /** A run's attempt started executing in this process. */
  'run:started': {
    /** The job's id. */
    jobId: string;
    /** The run's id. */
    runId: string;
    /** Its attempt, from 1. */
    attempt: number;
  };
  /** A run ended (in the process that ended it, once). */
  'run:finished': {
    /** The job's id. */
    jobId: string;
    /** The run's id. */
    runId: string;
    /** Its end state. */
    status: RunState;
    /** Why, for FAILURE and ABORTED; `null` after SUCCESS. */
    reason: RunReason | null;
  };
  /** A step's first attempt started (in the process executing the run). */
  'step:started': {
    /** The job's id. */
    jobId: string;
    /** The run's id. */
    runId: string;
    /** The step's id (its uuid in the pipeline). */
    stepId: string;
  };
  /** A step ended (in the process executing the run). */
  'step:finished': {
    /** The job's id. */
    jobId: string;
    /** The run's id. */
    runId: string;
    /** The step's id (its uuid in the pipeline). */
    stepId: string;
    /** Its end state. */
    status: RunState;
  };
  /** Background work failed (claiming, polling, a heartbeat, ...); it is retried at its next round. */
  'scheduler:error': {
    /** What was thrown. */
    error: unknown;
    /** What the scheduler was doing, in words. */
    during: string;
  };
}
