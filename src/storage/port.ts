import type { GridDefinition, GridSelectionJSON } from '../parameters/types.js';
import type { JobStatus, RunState } from '../status.js';
import type {
  BatchRecord,
  BatchTrigger,
  BatchTriggerKind,
  ErrorInfo,
  Json,
  JobPatch,
  JobRecord,
  NewRun,
  OccurrenceRecord,
  Page,
  RunReason,
  RunRecord,
  SkipReason,
  StepStateRecord,
} from './records.js';

/**
 * The `Storage` port: jobs, batches, runs, step states and the occurrence ledger, shared
 * by every scheduler process that uses the same store. The in-memory, SQLite and
 * PostgreSQL adapters implement it; `describeStorageContract` (pipeline-jobs/testing)
 * proves an adapter does.
 *
 * What must hold:
 * - Every method is atomic: a multi-row change happens entirely or not at all.
 * - Status changes are compare-and-set from the expected status; an end state
 *   (`SUCCESS`, `FAILURE`, `ABORTED`) of a job or run is never left.
 * - Job counters change in the same transaction as the run statuses they count.
 * - `createBatch` claims an occurrence exactly once per job, however many processes try,
 *   also after its batch was deleted: the claim is kept by the job's `scheduleCursor`
 *   (a watermark), not by the batch row.
 * - Storage stays bounded: a batch goes with its last run (`deleteRuns`), the ledger is
 *   pruned on append under the caller's {@link LedgerRetention}.
 * - `claimRuns` hands a PENDING run to exactly one process, in `seq` order, and never
 *   lets more than a job's `maxConcurrentRuns` be STARTED at once across processes.
 * - Times of leases come from the store's own clock (the database's `now()`); other
 *   times are given by the caller.
 * - An adapter owns its connections; nothing here exposes a connection or transaction.
 * - Records go in by value: a caller changing a record it gave or was given never changes
 *   the store. An adapter hands out fresh copies or deeply frozen records that it never
 *   changes (MemoryStorage does the latter, so a read costs no copy): callers treat every
 *   returned record as read-only; arrays of results are the caller's.
 */
export interface Storage {
  /** Creates or migrates the schema; refuses a store written by a newer version. Idempotent. */
  init(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;

  /**
   * Inserts a new job (its id must be new) and resolves the stored record. When
   * `job.key` is not `null` and a job with that key exists, inserts nothing and resolves
   * that job instead (compare the ids): atomically, so two processes creating jobs with
   * one key at once make one job. A deleted job's key is free again.
   */
  insertJob(job: JobRecord): Promise<JobRecord>;
  /** The job, or `undefined` when there is none with that id (a fresh copy or a frozen record). */
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Jobs, newest first, filtered by project and status. */
  listJobs(filter?: JobFilter): Promise<Page<JobRecord>>;
  /**
   * Applies `patch` if the job's status is one of `expect.status` (and its version is
   * `expect.version`, when given); bumps `version` and sets `updatedAt`. Resolves the
   * new record, or `undefined` when the job is missing or did not match.
   */
  updateJob(id: string, patch: JobPatch, expect: JobExpectation, now: number): Promise<JobRecord | undefined>;
  /** Deletes the job with its batches, runs, step states and ledger. Resolves the deleted run ids. */
  deleteJob(id: string): Promise<string[]>;

  /**
   * Starts a batch if the job's status is one of `expectStatus` and, for a schedule
   * trigger, the occurrence was not claimed before: records the occurrence as started,
   * takes the next batch index and reserves `runCount` run indices. Resolves `undefined`
   * when the occurrence was already claimed or the status did not match.
   *
   * A schedule occurrence is claimable only when it is after the job's `scheduleCursor`
   * or is its `bufferedOccurrence`; the claim moves the cursor to it (never backwards) and
   * consumes the buffered occurrence, in the same transaction. So an occurrence is never
   * claimed twice, even once its batch was deleted, and an occurrence at or before the
   * cursor (claimed, or skipped with `recordSkips(..., advance)`) is refused.
   */
  createBatch(input: CreateBatchInput): Promise<BatchRecord | undefined>;
  /**
   * Writes a chunk of a batch's runs (PENDING) and counts them in the job's counters.
   * Idempotent per `(jobId, batchIndex, indexInBatch)`, so an interrupted batch can be
   * resumed from `writtenRuns`.
   *
   * Compare-and-set on the job's status, in the same transaction: only a job in
   * PENDING, STARTED or PAUSED gets runs. For a job that ended (SUCCESS, FAILURE,
   * ABORTED) it writes nothing, closes the batch (its `runCount` becomes its
   * `writtenRuns`, so it is never listed as incomplete again) and resolves `false`;
   * otherwise it resolves `true`. A chunk racing `updateJob(..., {status: 'ABORTED'})`
   * is either written before the end (and then ended by the `cancelRuns` that follows
   * it) or refused. Throws `STORAGE_NOT_FOUND` (no such batch), `STORAGE_INVALID_INPUT`
   * (an index beyond the batch) or `STORAGE_DUPLICATE_ID`, changing nothing.
   */
  insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<boolean>;
  /** A job's batch, or `undefined` (never created, or deleted with its last run). */
  getBatch(jobId: string, batchIndex: number): Promise<BatchRecord | undefined>;
  /**
   * Batches whose runs are not all written (a process died while writing them), of jobs
   * that have not ended: a batch of an ended job is never resumed.
   */
  listIncompleteBatches(): Promise<BatchRecord[]>;
  /**
   * Records skipped occurrences; a skip with the same reason as the job's last ledger
   * record extends it (one record with a count and a range). With `advance`, only if the
   * job's `version` is `advance.expectVersion`, and in the same transaction the job's
   * `scheduleCursor` moves to `advance.scheduleCursor` (never backwards) and its version
   * is bumped: so two processes that planned the same skips record them once. Resolves
   * whether it recorded. With `retention`, the ledger is pruned after the append, in the
   * same transaction (see {@link LedgerRetention}).
   */
  recordSkips(
    jobId: string,
    skips: readonly SkipInput[],
    advance?: { scheduleCursor: number; expectVersion: number; now: number },
    retention?: LedgerPrune,
  ): Promise<boolean>;
  /** The job's ledger, oldest first. */
  listOccurrences(jobId: string, page?: PageRequest): Promise<Page<OccurrenceRecord>>;

  /**
   * Claims up to `limit` PENDING runs (oldest `seq` first) for `owner`: they become
   * STARTED with a lease of `leaseMs` from the store's clock, `attempts` + 1, `startedAt`
   * = now. Skips runs whose job is at its `maxConcurrentRuns`, and runs of jobs not in
   * `jobStatuses` (default STARTED, PAUSED).
   */
  claimRuns(input: ClaimInput): Promise<RunRecord[]>;
  /**
   * Extends the leases `owner` holds on `runIds`. Resolves the runs among them whose
   * cancel was requested, and those the owner no longer holds (lease lost).
   */
  heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult>;
  /** Records what the executor needs to find a run's processes again. */
  setProcessInfo(runId: string, owner: string, info: Json): Promise<void>;
  /**
   * Ends a run: STARTED (held by `owner`) or PENDING to an end state, counters moved.
   * Resolves `false` (and changes nothing) when the run was not in an expected state.
   */
  finishRun(runId: string, end: FinishRun): Promise<boolean>;
  /**
   * Optional: ends runs and claims others in one transaction (one round trip and one
   * commit where the store has them), so a busy process pays one commit per turn of its
   * slots instead of three (step states, end, claim). Each end is written as `finishRun`
   * writes it, in order, with its step states when given (as `putStepStates` stores
   * them), then the claim is made as `claimRuns` makes it, seeing those ends (a run of a
   * job at its `maxConcurrentRuns` that just ended leaves room for the claim). Resolves,
   * for each end in order, whether it was written, and the runs claimed. Atomic: after an
   * error nothing of it was written; bad input (the claim's, two ends of one run, step
   * states that are not an array) changes nothing. Without it, the scheduler calls
   * `putStepStates` and `finishRun` for each end, then `claimRuns`.
   */
  finishAndClaim?(ends: readonly RunEnd[], claim: ClaimInput): Promise<FinishAndClaimResult>;
  /**
   * Optional: gives back runs `owner` claimed but never started: every STARTED run held
   * by `owner` whose id is not in `keep` becomes PENDING again (lease cleared, `startedAt`
   * null, the claim's `attempts` + 1 undone, counted), to be claimed again. A process calls
   * it with the runs it is executing as `keep` after a claim whose answer it never got (the
   * connection dropped after the commit): those runs would otherwise wait for their lease
   * to expire and end `interrupted` without having run. Resolves the released run ids.
   * Without it, such runs end as runs of a dead process do.
   */
  releaseRuns?(owner: string, keep: readonly string[]): Promise<string[]>;
  /**
   * Cancels runs: PENDING ones become ABORTED at once (counted), STARTED ones are flagged
   * `cancelRequested` for their owner. Resolves the ids of both kinds.
   */
  cancelRuns(
    target: CancelTarget,
    now: number,
  ): Promise<{
    /** PENDING runs ended ABORTED by this call. */
    aborted: string[];
    /** STARTED runs flagged for their owner to stop. */
    flagged: string[];
  }>;
  /**
   * Finds STARTED runs whose lease expired (by the store's clock) and ends them as
   * FAILURE with reason `interrupted`, or puts them back to PENDING when their job's
   * options ask for re-runs (`requeue` decides per job). Each such run is handled once.
   */
  recoverExpiredRuns(requeue: (job: JobRecord) => boolean, now: number): Promise<RecoveredRun[]>;
  /** The run, or `undefined` when there is none with that id. */
  getRun(id: string): Promise<RunRecord | undefined>;
  /** A job's runs in `runIndex` order, filtered, with cursor pagination. */
  listRuns(jobId: string, filter?: RunFilter): Promise<Page<RunRecord>>;
  /** Replaces the step states of a run (one record per step). */
  putStepStates(runId: string, steps: readonly StepStateRecord[]): Promise<void>;
  /** A run's step states in the order last written; `[]` when none (or no such run). */
  getStepStates(runId: string): Promise<StepStateRecord[]>;
  /**
   * Optional: the step states of several runs in one read (a page of `listRuns`), by run
   * id; a run without states maps to `[]` or is absent. Without it the scheduler calls
   * `getStepStates` once per run.
   */
  getStepStatesOf?(runIds: readonly string[]): Promise<Map<string, StepStateRecord[]>>;
  /**
   * Deletes finished runs (with their step states). Runs still PENDING or STARTED are
   * never deleted. `keepLatest`: all but the N most recently finished of the job.
   * In the same transaction, every batch of the job left without runs goes too, unless it
   * is still being written (`writtenRuns < runCount`): a batch goes with its last run.
   * Resolves the deleted run ids.
   */
  deleteRuns(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]>;
  /** Ids of jobs in the given statuses (the scheduler's start-up scan). */
  listJobIds(statuses: readonly JobStatus[]): Promise<string[]>;

  /**
   * Optional: calls `listener` when another process (or this one) changed something a
   * scheduler may be waiting for, so it can react at once instead of at its next poll.
   * Delivery is best effort and may be late, repeated or (after a lost connection)
   * replaced by one `{ type: 'job-changed' }` without a `jobId`, meaning "re-check
   * everything": heartbeats and polling stay the source of truth. Listener errors are
   * contained. Resolves an unsubscribe function. An adapter that cannot notify other
   * processes (SQLite) leaves it out; the scheduler then relies on heartbeats.
   */
  subscribe?(listener: (event: StorageEvent) => void): Promise<() => Promise<void>>;
}

/**
 * What {@link Storage.subscribe} reports:
 * - `cancel`: runs of `jobId` were flagged `cancelRequested` (`runIds`, when known).
 * - `job-changed`: the job was updated (status, patch, new batch); without `jobId`:
 *   anything may have changed.
 * - `runs-pending`: runs became PENDING (written or requeued) and may be claimed.
 */
export interface StorageEvent {
  /** What changed (see above). */
  type: 'cancel' | 'job-changed' | 'runs-pending';
  /** The job it concerns; absent: re-check everything. */
  jobId?: string;
  /** The runs it concerns, when known. */
  runIds?: string[];
}

/**
 * How much of a job's occurrence ledger to keep; applied when records are added
 * (`createBatch` of a schedule occurrence, `recordSkips`). The newest record is always
 * kept (a skip may extend it). Without either limit, the ledger grows with the schedule.
 */
export interface LedgerRetention {
  /** Keep at most this many records (whole number >= 1). @default no limit */
  maxRecords?: number;
  /** Delete records whose `lastAt` is older than this many ms before `now`. @default no limit */
  maxAgeMs?: number;
}

/** A {@link LedgerRetention} with the time its age limit counts back from. */
export interface LedgerPrune extends LedgerRetention {
  /** Epoch milliseconds the age limit counts back from. */
  now: number;
}

/** Skipped occurrences: one, or a group of `count` from `at` to `lastAt`. */
export interface SkipInput {
  /** The (first) skipped occurrence, epoch milliseconds. */
  at: number;
  /** Why it was skipped. */
  reason: SkipReason;
  /** @default at */
  lastAt?: number;
  /** @default 1 */
  count?: number;
}

/** `listJobs`' filter (newest first). */
export interface JobFilter extends PageRequest {
  /** Only the jobs of this project. */
  projectId?: string;
  /** Only the job with this idempotency key (`JobRecord.key`). */
  key?: string;
  /** Only the jobs that run this snapshot (`JobRecord.snapshotId`). Since 0.2. */
  snapshotId?: string;
  /** Only jobs in one of these statuses. */
  status?: readonly JobStatus[];
}

/** The state a job must be in for `updateJob` to apply its patch. */
export interface JobExpectation {
  /** The update applies only when the job is in one of these statuses. */
  status: readonly JobStatus[];
  /** ...and only when its `version` is this one (compare-and-set). */
  version?: number;
}

/** What `createBatch` takes: the batch, the job's expected state, and what to change with it. */
export interface CreateBatchInput {
  /** The job the batch belongs to. */
  jobId: string;
  /** `schedule` (an occurrence, claimed once) or `manual`. */
  trigger: BatchTrigger;
  /**
   * The trigger in detail: `manual` with a manual trigger; `schedule`, `now`, `at` or
   * `catch-up` with a schedule trigger.
   * @default the value of `trigger`
   */
  triggerKind?: BatchTriggerKind;
  /** Required for a schedule trigger (the claim key); `null` for manual. */
  occurrenceAt: number | null;
  /** How many runs the batch will have (reserved in the job's `runCount` now, written later by `insertRuns`). */
  runCount: number;
  /**
   * The grid the batch runs (what `runCount` was counted from), recorded with the batch.
   * @default the job's grid in the same transaction
   */
  grid?: GridDefinition;
  /**
   * The selection the batch runs; `null`: all of `grid`.
   * @default the job's selection in the same transaction
   */
  selection?: GridSelectionJSON | null;
  /** The batch is created only when the job is in one of these statuses. */
  expectStatus: readonly JobStatus[];
  /**
   * Job fields to set in the same transaction (e.g. `status: STARTED`, `scheduleCursor`);
   * `scheduleCursor` never moves backwards.
   */
  jobPatch?: JobPatch;
  /**
   * Prunes the job's ledger after the started record is added (age counted back from `now`).
   * @default keep every record
   */
  ledgerRetention?: LedgerRetention;
  /** Epoch milliseconds (the scheduler's clock): the batch's `createdAt`. */
  now: number;
}

/** What `claimRuns` takes. */
export interface ClaimInput {
  /** The claiming process's id (each run claimed gets it as `leaseOwner`). */
  owner: string;
  /** Claim at most this many runs. */
  limit: number;
  /** Lease length in milliseconds, from the store's clock. */
  leaseMs: number;
  /** Only runs of these jobs, when given. */
  jobIds?: readonly string[];
  /** Only runs of jobs in these statuses. @default STARTED and PAUSED */
  jobStatuses?: readonly JobStatus[];
}

/** What a heartbeat found. */
export interface HeartbeatResult {
  /** Runs of this owner whose cancel was asked (stop them). */
  cancelRequested: string[];
  /** Runs whose lease this owner no longer holds (another process recovered them). */
  lost: string[];
}

/** A run's end, as `finishRun` writes it. */
export interface FinishRun {
  /** The run's end state. */
  status: Extract<RunState, 'SUCCESS' | 'FAILURE' | 'ABORTED'>;
  /** The owner that holds the lease; `null` to end a PENDING run. */
  owner: string | null;
  /** Why it ended as it did (with FAILURE or ABORTED). */
  reason?: RunReason;
  /** The error it ended with. */
  error?: ErrorInfo;
  /** Epoch milliseconds: the run's `finishedAt`. */
  now: number;
}

/** One end given to `finishAndClaim`: the run, and its end as `finishRun` takes it. */
export interface RunEnd {
  /** The run to end. */
  runId: string;
  /** Its end. */
  end: FinishRun;
  /**
   * The run's step states, stored as `putStepStates` stores them, in the same transaction,
   * and only when the end is written (a run whose lease was lost keeps the states of the
   * process that holds it now).
   * @default the run's step states are left as they are
   */
  steps?: readonly StepStateRecord[];
}

/** What `finishAndClaim` resolves. */
export interface FinishAndClaimResult {
  /** For each end, in the order given: whether it was written (`finishRun`'s answer). */
  finished: boolean[];
  /** The runs claimed after the ends (`claimRuns`' answer). */
  claimed: RunRecord[];
}

/** What `cancelRuns` cancels: every unfinished run of a job, or the runs named. */
export type CancelTarget =
  | {
      /** Every unfinished run of this job. */
      jobId: string;
    }
  | {
      /** These runs (those already ended are left alone). */
      runIds: readonly string[];
    };

/** A run `recoverExpiredRuns` handled. */
export interface RecoveredRun {
  /** The run as it is after recovery. */
  run: RunRecord;
  /** `failed`: ended FAILURE/interrupted; `requeued`: PENDING again. */
  outcome: 'failed' | 'requeued';
}

/** Which page of a listing: `{ limit, cursor }`; the answer is a `Page` with its `nextCursor`. */
export interface PageRequest {
  /** How many items at most. @default 100 */
  limit?: number;
  /** The `nextCursor` of the previous page; absent or `null` for the first. */
  cursor?: string | null;
}

/** `listRuns`' filter (in run order). */
export interface RunFilter extends PageRequest {
  /** Only runs in one of these statuses. */
  status?: readonly RunState[];
  /** Only the runs of this batch. */
  batchIndex?: number;
}
