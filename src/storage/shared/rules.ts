/**
 * Rules every adapter applies in JavaScript, inside its transactions, so all three
 * behave alike (input checks are in `checks.ts`).
 */
import { isEndState } from '../../status.js';
import type { CreateBatchInput, JobExpectation, LedgerRetention, SkipInput } from '../port.js';
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

/**
 * Whether `createBatch` may claim the input's occurrence for `job` (its status checked
 * apart). A schedule occurrence is claimable when it is after the job's `scheduleCursor`
 * (every occurrence up to the cursor was claimed or skipped: the claim moves the cursor,
 * see {@link batchPatch}), or when it is the job's `bufferedOccurrence` (the queue
 * policy's, which starts after the cursor moved past it; the claim consumes it). So the
 * once-only claim needs no batch row: batches may go with their last run. Manual batches
 * claim nothing.
 */
export function claimable(job: JobRecord, input: CreateBatchInput): boolean {
  if (input.trigger !== 'schedule') return true;
  const at = input.occurrenceAt!;
  return job.scheduleCursor === null || at > job.scheduleCursor || at === job.bufferedOccurrence;
}

/**
 * The job patch of a new batch: its `scheduleCursor` never moves backwards, and a schedule
 * claim moves it to the claimed occurrence at least and consumes the buffered occurrence
 * when that is the one claimed (the watermark {@link claimable} checks).
 */
export function batchPatch(job: JobRecord, input: CreateBatchInput): JobPatch {
  const patch = { ...input.jobPatch };
  const cursors = [patch.scheduleCursor, job.scheduleCursor, input.trigger === 'schedule' ? input.occurrenceAt : null].filter((c): c is number => c != null);
  if (cursors.length > 0 && (patch.scheduleCursor != null || input.trigger === 'schedule')) patch.scheduleCursor = Math.max(...cursors);
  if (input.trigger === 'schedule' && input.occurrenceAt === job.bufferedOccurrence) patch.bufferedOccurrence = null;
  return patch;
}

/**
 * The ledger records to delete after an append under `retention`: by count (all but the
 * newest `maxRecords`) and by age (`lastAt` older than `now - maxAgeMs`). The newest
 * record is always kept: a skip extends it, and it carries the ledger's next position.
 * Takes and resolves positions (`ord`), ascending.
 */
export function ledgerVictims(ords: readonly { ord: number; lastAt: number }[], retention: LedgerRetention | undefined, now: number): number[] {
  if (!retention || ords.length <= 1) return [];
  const newest = ords[ords.length - 1]!.ord;
  const floor = retention.maxRecords !== undefined ? newest - retention.maxRecords : -Infinity;
  const oldest = retention.maxAgeMs !== undefined ? now - retention.maxAgeMs : -Infinity;
  return ords.filter((r) => r.ord !== newest && (r.ord <= floor || r.lastAt < oldest)).map((r) => r.ord);
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
