/**
 * Rules both SQL adapters apply in JavaScript, inside their transactions, exactly as the
 * memory adapter does, so all three behave alike.
 */
import { StorageError } from '../../errors.js';
import { isEndState } from '../../status.js';
import type { CreateBatchInput, JobExpectation, SkipInput } from '../port.js';
import type { BatchRecord, JobPatch, JobRecord, NewRun, OccurrenceRecord } from '../records.js';

/** Whether an update with `patch` may apply to `job` (status and version expected, end states final). */
export function updateAllowed(job: JobRecord, patch: JobPatch, expect: JobExpectation): boolean {
  if (!expect.status.includes(job.status)) return false;
  if (expect.version !== undefined && job.version !== expect.version) return false;
  return !(patch.status !== undefined && patch.status !== job.status && isEndState(job.status));
}

/** The job patch of a new batch: its `scheduleCursor` never moves backwards. */
export function batchPatch(job: JobRecord, input: CreateBatchInput): JobPatch {
  const patch = { ...input.jobPatch };
  if (patch.scheduleCursor != null && job.scheduleCursor != null) patch.scheduleCursor = Math.max(patch.scheduleCursor, job.scheduleCursor);
  return patch;
}

/** Validates a batch request before anything is written. */
export function checkBatchInput(input: CreateBatchInput): void {
  if (input.trigger === 'schedule' && input.occurrenceAt === null) {
    throw new StorageError('STORAGE_INVALID_INPUT', 'A schedule batch needs its occurrence time', { path: 'occurrenceAt', value: null });
  }
  if (!Number.isSafeInteger(input.runCount) || input.runCount < 0) {
    throw new StorageError('STORAGE_INVALID_INPUT', 'runCount must be a whole number >= 0', { path: 'runCount', value: input.runCount });
  }
}

/**
 * The runs of a chunk still to write (those before `writtenRuns` were written already),
 * after checking the whole chunk: a bad chunk changes nothing.
 */
export function freshRuns(batch: BatchRecord, runs: readonly NewRun[]): NewRun[] {
  const fresh = runs.filter((r) => r.indexInBatch >= batch.writtenRuns);
  const seen = new Set<string>();
  for (const [i, r] of fresh.entries()) {
    if (!Number.isSafeInteger(r.indexInBatch) || r.indexInBatch >= batch.runCount) {
      throw new StorageError('STORAGE_INVALID_INPUT', 'indexInBatch beyond the batch', { path: `runs[${i}].indexInBatch`, value: r.indexInBatch, hint: `The batch has ${batch.runCount} runs` });
    }
    if (seen.has(r.id)) throw new StorageError('STORAGE_DUPLICATE_ID', 'A run with this id exists', { path: `runs[${i}].id`, value: r.id });
    seen.add(r.id);
  }
  return fresh;
}

/** The ledger change for one skip: extend `last` (same reason, not earlier) or append a record. */
export function skipChange(last: OccurrenceRecord | undefined, jobId: string, skip: SkipInput): { extend: OccurrenceRecord } | { append: OccurrenceRecord } {
  const lastAt = skip.lastAt ?? skip.at;
  const count = skip.count ?? 1;
  if (last && last.action === 'skipped' && last.reason === skip.reason && skip.at >= last.lastAt) {
    return { extend: { ...last, lastAt, count: last.count + count } };
  }
  return { append: { jobId, action: 'skipped', reason: skip.reason, at: skip.at, lastAt, count, batchIndex: null } };
}

/** Validates claim input. */
export function checkLimit(limit: number, leaseMs: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new StorageError('STORAGE_INVALID_INPUT', 'limit must be a whole number >= 0', { path: 'limit', value: limit });
  if (!Number.isFinite(leaseMs) || leaseMs < 0) throw new StorageError('STORAGE_INVALID_INPUT', 'leaseMs must be a number >= 0', { path: 'leaseMs', value: leaseMs });
}

/** Checks the input of `Storage.releaseRuns`. */
export function checkRelease(owner: unknown, keep: unknown): void {
  if (typeof owner !== 'string' || owner === '') throw new StorageError('STORAGE_INVALID_INPUT', 'owner must be a non-empty string', { path: 'owner', value: owner });
  if (!Array.isArray(keep) || keep.some((id) => typeof id !== 'string')) throw new StorageError('STORAGE_INVALID_INPUT', 'keep must be an array of run ids', { path: 'keep', value: keep });
}
