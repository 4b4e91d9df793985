/**
 * Parsed, frozen JSON parts of job and batch rows, kept per adapter instance so a read of
 * a job or batch (once per run on the dispatch path) does not fetch and re-parse the
 * pipeline, the grid (every value of it) and the options each time. A job's JSON columns
 * change only together with its `version` (every update goes through `applyJobPatch`);
 * a batch's never change once written. A read fetches the small columns first and the
 * JSON ones only when the cache does not hold them at that version.
 */
import type { BatchRecord, JobRecord } from '../records.js';
import { deepFreeze } from '../shared/freeze.js';
import { JOB_COLUMNS, batchHeadOf, batchPartsOf, jobHeadOf, jobPartsOf, type BatchParts, type BatchRow, type JobColumn, type JobParts, type JobRow } from './rows.js';

/** The job columns that hold JSON parts (fetched only on a cache miss). */
export const JOB_PART_COLUMNS: ReadonlySet<string> = new Set(['pipeline', 'environments', 'grid', 'selection', 'schedule', 'env_vars', 'options']);
/** The job columns read on every `getJob`: everything but the JSON parts. */
export const JOB_HEAD_COLUMNS: readonly JobColumn[] = JOB_COLUMNS.filter((c) => !JOB_PART_COLUMNS.has(c));
/** The batch columns read on every `getBatch`: everything but its JSON parts. */
export const BATCH_HEAD_COLUMNS: readonly string[] = ['job_id', 'batch_index', 'trigger', 'trigger_kind', 'occurrence_at', 'run_count', 'written_runs', 'first_run_index', 'created_at'];

export type JobHeadRow = Omit<JobRow, 'pipeline' | 'environments' | 'grid' | 'selection' | 'schedule' | 'env_vars' | 'options'> & {
  /**
   * The job version at which its parts were last written, where the store keeps it
   * (SQLite since schema 5): parts are then kept across versions that did not change them.
   * Absent: the parts are taken to change with every version.
   */
  parts_revision?: number | string;
};
export type BatchHeadRow = Omit<BatchRow, 'env_vars' | 'grid' | 'selection'>;

/** Default number of jobs (and of batches) whose parts are kept; the least recently read go first. */
export const PARSED_PARTS_LIMIT = 512;

/**
 * Records handed out with these parts are fresh at the top level and share the frozen
 * parts: a caller can change neither the cache nor the store through them (the Storage
 * port's rule: records are read-only to callers).
 */
export class ParsedParts {
  readonly #jobs = new Map<string, { revision: number; createdAt: number; parts: JobParts }>();
  readonly #batches = new Map<string, { createdAt: number; parts: BatchParts }>();

  constructor(private readonly limit = PARSED_PARTS_LIMIT) {}

  /** The job of `head` when its parts are held at its version; `undefined`: read the whole row. */
  job(head: JobHeadRow): JobRecord | undefined {
    const h = jobHeadOf(head);
    const hit = this.#jobs.get(h.id);
    if (!hit || hit.revision !== revisionOf(head) || hit.createdAt !== h.createdAt) return undefined;
    touch(this.#jobs, h.id, hit);
    return { ...h, ...hit.parts };
  }

  /** The job of a whole row, its parts kept for the next reads. */
  rememberJob(row: JobRow & Pick<JobHeadRow, 'parts_revision'>): JobRecord {
    const h = jobHeadOf(row);
    const parts = deepFreeze(jobPartsOf(row));
    this.#jobs.delete(h.id);
    this.#jobs.set(h.id, { revision: revisionOf(row), createdAt: h.createdAt, parts });
    evict(this.#jobs, this.limit);
    return { ...h, ...parts };
  }

  /** The batch of `head` when its parts are held; `undefined`: read the whole row. */
  batch(head: BatchHeadRow): BatchRecord | undefined {
    const h = batchHeadOf(head);
    const key = `${h.jobId}\u0000${h.batchIndex}`;
    const hit = this.#batches.get(key);
    if (!hit || hit.createdAt !== h.createdAt) return undefined;
    touch(this.#batches, key, hit);
    return { ...h, ...hit.parts };
  }

  /** The batch of a whole row, its parts kept for the next reads. */
  rememberBatch(row: BatchRow): BatchRecord {
    const h = batchHeadOf(row);
    const key = `${h.jobId}\u0000${h.batchIndex}`;
    const parts = deepFreeze(batchPartsOf(row));
    this.#batches.delete(key);
    this.#batches.set(key, { createdAt: h.createdAt, parts });
    evict(this.#batches, this.limit);
    return { ...h, ...parts };
  }

  /** Drops what is held of a job and its batches (it was deleted). */
  forget(jobId: string): void {
    this.#jobs.delete(jobId);
    for (const key of [...this.#batches.keys()]) if (key.startsWith(`${jobId}\u0000`)) this.#batches.delete(key);
  }
}

/** Which revision of a job's parts a row holds: its parts revision, else its version. */
function revisionOf(row: Pick<JobHeadRow, 'version' | 'parts_revision'>): number {
  return Number(row.parts_revision ?? row.version);
}

/** Moves `key` to the young end of the map's order. */
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

function evict(map: Map<string, unknown>, limit: number): void {
  for (const key of map.keys()) {
    if (map.size <= limit) return;
    map.delete(key);
  }
}
