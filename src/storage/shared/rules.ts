/**
 * Rules every adapter applies in JavaScript, inside its transactions, so all three
 * behave alike (input checks are in `checks.ts`).
 */
import { isEndState } from '../../status.js';
import type { CreateBatchInput, JobExpectation, SkipInput } from '../port.js';
import type { BatchRecord, JobPatch, JobRecord, OccurrenceRecord } from '../records.js';

/** A copy of `job` with `patch` applied, `version` bumped and `updatedAt` set. */
export function applyJobPatch(job: JobRecord, patch: JobPatch, now: number): JobRecord {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  return { ...job, ...structuredClone(defined), version: job.version + 1, updatedAt: now };
}

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

/** What a new batch records it runs: the caller's grid and selection, else the job's. */
export function batchGrid(job: JobRecord, input: CreateBatchInput): Pick<BatchRecord, 'grid' | 'selection'> {
  return { grid: input.grid ?? job.grid, selection: input.selection !== undefined ? input.selection : job.selection };
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
