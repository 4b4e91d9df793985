/**
 * Rows of the SQL adapters (SQLite and PostgreSQL share column names) and their mapping
 * to records. Numbers may arrive as strings (PostgreSQL `bigint`); JSON fields are TEXT,
 * so key order is kept exactly as written.
 */
import { StorageError } from '../../errors.js';
import type { JobStatus, RunState } from '../../status.js';
import type { BatchRecord, ErrorInfo, JobRecord, OccurrenceRecord, RunReason, RunRecord, SkipReason, StepStateRecord } from '../records.js';

type Num = number | string;
type NullableNum = Num | null;

export interface JobRow {
  id: string;
  project_id: string;
  name: string;
  status: string;
  snapshot_id: string;
  pipeline: string;
  environments: string;
  grid: string;
  selection: string;
  schedule: string;
  env_vars: string;
  options: string;
  n_pending: Num;
  n_started: Num;
  n_success: Num;
  n_failure: Num;
  n_aborted: Num;
  batch_count: Num;
  run_count: Num;
  schedule_cursor: NullableNum;
  max_concurrent_runs: Num;
  created_at: Num;
  updated_at: Num;
  finished_at: NullableNum;
  version: Num;
  buffered_occurrence: NullableNum;
  /** Since SQLite schema 4 / PostgreSQL schema 5. */
  job_key: string | null;
  spec_fingerprint: string | null;
}

export interface RunRow {
  id: string;
  job_id: string;
  batch_index: Num;
  grid_index: Num;
  index_in_batch: Num;
  run_index: Num;
  status: string;
  parameters: string;
  created_at: Num;
  started_at: NullableNum;
  finished_at: NullableNum;
  reason: string | null;
  error: string | null;
  attempts: Num;
  lease_owner: string | null;
  lease_expires_at: NullableNum;
  cancel_requested: number | boolean;
  process_info: string | null;
  seq: Num;
}

export interface BatchRow {
  job_id: string;
  batch_index: Num;
  trigger: string;
  /** `null` in a batch written before schema version 3 (SQLite) / 4 (PostgreSQL). */
  trigger_kind: string | null;
  occurrence_at: NullableNum;
  run_count: Num;
  written_runs: Num;
  first_run_index: Num;
  env_vars: string;
  grid: string;
  selection: string;
  created_at: Num;
}

export interface LedgerRow {
  job_id: string;
  ord: Num;
  action: string;
  reason: string | null;
  at: Num;
  last_at: Num;
  count: Num;
  batch_index: NullableNum;
}

export interface StepRow {
  run_id: string;
  ord: Num;
  step_uuid: string;
  status: string;
  started_at: NullableNum;
  finished_at: NullableNum;
  attempts: Num;
  exit_code: NullableNum;
  error: string | null;
}

/** The job columns in insert order; `jobValues` gives the values in the same order. */
export const JOB_COLUMNS = [
  'id', 'project_id', 'name', 'status', 'snapshot_id', 'pipeline', 'environments', 'grid', 'selection', 'schedule', 'env_vars', 'options',
  'n_pending', 'n_started', 'n_success', 'n_failure', 'n_aborted', 'batch_count', 'run_count', 'schedule_cursor', 'max_concurrent_runs',
  'created_at', 'updated_at', 'finished_at', 'version', 'buffered_occurrence', 'job_key', 'spec_fingerprint',
] as const;

/** Counter column per run status. */
export const COUNTER_COLUMN: Record<RunState, string> = {
  PENDING: 'n_pending',
  STARTED: 'n_started',
  SUCCESS: 'n_success',
  FAILURE: 'n_failure',
  ABORTED: 'n_aborted',
};

/** A job column's name. */
export type JobColumn = (typeof JOB_COLUMNS)[number];

/** Each job column's value in a record (JSON parts as their text). */
const JOB_VALUE: Record<JobColumn, (job: JobRecord) => string | number | null> = {
  id: (j) => j.id,
  project_id: (j) => j.projectId,
  name: (j) => j.name,
  status: (j) => j.status,
  snapshot_id: (j) => j.snapshotId ?? '',
  pipeline: (j) => json(j.pipeline),
  environments: (j) => json(j.environments),
  grid: (j) => json(j.grid),
  selection: (j) => json(j.selection),
  schedule: (j) => json(j.schedule),
  env_vars: (j) => json(j.envVars),
  options: (j) => json(j.options),
  n_pending: (j) => j.counters.PENDING,
  n_started: (j) => j.counters.STARTED,
  n_success: (j) => j.counters.SUCCESS,
  n_failure: (j) => j.counters.FAILURE,
  n_aborted: (j) => j.counters.ABORTED,
  batch_count: (j) => j.batchCount,
  run_count: (j) => j.runCount,
  schedule_cursor: (j) => j.scheduleCursor,
  max_concurrent_runs: (j) => j.maxConcurrentRuns,
  created_at: (j) => j.createdAt,
  updated_at: (j) => j.updatedAt,
  finished_at: (j) => j.finishedAt,
  version: (j) => j.version,
  buffered_occurrence: (j) => j.bufferedOccurrence,
  job_key: (j) => j.key,
  spec_fingerprint: (j) => j.specFingerprint,
};

/** The values of `columns` in a job record, in that order; only the JSON parts asked for are serialised. */
export function jobColumnValues(job: JobRecord, columns: readonly JobColumn[]): Array<string | number | null> {
  return columns.map((c) => JOB_VALUE[c](job));
}

/** Every column's value, in `JOB_COLUMNS` order. */
export function jobValues(job: JobRecord): Array<string | number | null> {
  return jobColumnValues(job, JOB_COLUMNS);
}

/** JSON text of a value; `undefined` (an absent optional field) is stored as `null`. */
export function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function parse<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new StorageError('STORAGE_CORRUPT', 'A stored JSON field cannot be read', { path: column, value: text, cause, hint: 'The database was changed outside pipeline-jobs' });
  }
}

const num = (v: Num): number => Number(v);
const numOrNull = (v: NullableNum): number | null => (v === null ? null : Number(v));

export function toJob(row: JobRow): JobRecord {
  return { ...jobHeadOf(row), ...jobPartsOf(row) };
}

/** The JSON parts of a job: they change only with its `version`. */
export type JobParts = Pick<JobRecord, 'pipeline' | 'environments' | 'grid' | 'selection' | 'schedule' | 'envVars' | 'options'>;

/** A job row's JSON parts, parsed. */
export function jobPartsOf(row: Pick<JobRow, 'pipeline' | 'environments' | 'grid' | 'selection' | 'schedule' | 'env_vars' | 'options'>): JobParts {
  return {
    pipeline: parse(row.pipeline, 'pipeline'),
    environments: parse(row.environments, 'environments'),
    grid: parse(row.grid, 'grid'),
    selection: parse(row.selection, 'selection'),
    schedule: parse(row.schedule, 'schedule'),
    envVars: parse(row.env_vars, 'env_vars'),
    options: parse(row.options, 'options'),
  };
}

/** A job row's other fields (no JSON to parse). */
export function jobHeadOf(row: Omit<JobRow, 'pipeline' | 'environments' | 'grid' | 'selection' | 'schedule' | 'env_vars' | 'options'>): Omit<JobRecord, keyof JobParts> {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    status: row.status as JobStatus,
    // The column is NOT NULL since version 1: a job without a snapshot is stored as ''.
    snapshotId: row.snapshot_id === '' ? null : row.snapshot_id,
    counters: { PENDING: num(row.n_pending), STARTED: num(row.n_started), SUCCESS: num(row.n_success), FAILURE: num(row.n_failure), ABORTED: num(row.n_aborted) },
    batchCount: num(row.batch_count),
    runCount: num(row.run_count),
    scheduleCursor: numOrNull(row.schedule_cursor),
    bufferedOccurrence: numOrNull(row.buffered_occurrence),
    maxConcurrentRuns: num(row.max_concurrent_runs),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    finishedAt: numOrNull(row.finished_at),
    version: num(row.version),
    key: row.job_key ?? null,
    specFingerprint: row.spec_fingerprint ?? null,
  };
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    batchIndex: num(row.batch_index),
    gridIndex: num(row.grid_index),
    indexInBatch: num(row.index_in_batch),
    runIndex: num(row.run_index),
    status: row.status as RunState,
    parameters: parse(row.parameters, 'parameters'),
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    reason: row.reason as RunReason | null,
    error: row.error === null ? null : parse<ErrorInfo>(row.error, 'error'),
    attempts: num(row.attempts),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: numOrNull(row.lease_expires_at),
    cancelRequested: row.cancel_requested === true || row.cancel_requested === 1,
    processInfo: row.process_info === null ? null : parse(row.process_info, 'process_info'),
    seq: num(row.seq),
  };
}

export function toBatch(row: BatchRow): BatchRecord {
  return { ...batchHeadOf(row), ...batchPartsOf(row) };
}

/** The JSON parts of a batch: written with it, never changed. */
export type BatchParts = Pick<BatchRecord, 'envVars' | 'grid' | 'selection'>;

/** A batch row's JSON parts, parsed. */
export function batchPartsOf(row: Pick<BatchRow, 'env_vars' | 'grid' | 'selection'>): BatchParts {
  return { envVars: parse(row.env_vars, 'env_vars'), grid: parse(row.grid, 'grid'), selection: parse(row.selection, 'selection') };
}

/** A batch row's other fields (no JSON to parse). */
export function batchHeadOf(row: Omit<BatchRow, 'env_vars' | 'grid' | 'selection'>): Omit<BatchRecord, keyof BatchParts> {
  return {
    jobId: row.job_id,
    batchIndex: num(row.batch_index),
    trigger: row.trigger as BatchRecord['trigger'],
    triggerKind: (row.trigger_kind ?? row.trigger) as BatchRecord['triggerKind'],
    occurrenceAt: numOrNull(row.occurrence_at),
    runCount: num(row.run_count),
    writtenRuns: num(row.written_runs),
    firstRunIndex: num(row.first_run_index),
    createdAt: num(row.created_at),
  };
}

export function toOccurrence(row: LedgerRow): OccurrenceRecord {
  return {
    jobId: row.job_id,
    action: row.action as OccurrenceRecord['action'],
    reason: row.reason as SkipReason | null,
    at: num(row.at),
    lastAt: num(row.last_at),
    count: num(row.count),
    batchIndex: numOrNull(row.batch_index),
  };
}

export function toStep(row: StepRow): StepStateRecord {
  return {
    runId: row.run_id,
    stepId: row.step_uuid,
    status: row.status as RunState,
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    attempts: num(row.attempts),
    exitCode: numOrNull(row.exit_code),
    error: row.error === null ? null : parse<ErrorInfo>(row.error, 'error'),
  };
}
