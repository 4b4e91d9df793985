/**
 * The input checks of the `Storage` port, in one place: every adapter (memory, SQLite,
 * PostgreSQL) calls these before it changes anything, so all of them refuse the same
 * inputs with the same typed errors.
 */
import { StorageError } from '../../errors.js';
import { JobStatus } from '../../status.js';
import type { ClaimInput, CreateBatchInput } from '../port.js';
import type { BatchRecord, NewRun, StepStateRecord } from '../records.js';

/**
 * The job statuses in which a batch's runs may still be written (`insertRuns` is
 * compare-and-set on them). An ended job gets no new runs.
 */
export const RUNS_WRITABLE: readonly JobStatus[] = [JobStatus.PENDING, JobStatus.STARTED, JobStatus.PAUSED];

/** Validates a batch request before anything is written. */
export function checkBatchInput(input: CreateBatchInput): void {
  if (input.trigger !== 'schedule' && input.trigger !== 'manual') {
    throw new StorageError('STORAGE_INVALID_INPUT', "trigger must be 'schedule' or 'manual'", { path: 'trigger', value: input.trigger });
  }
  const kind = input.triggerKind;
  if (kind !== undefined && (input.trigger === 'manual' ? kind !== 'manual' : !['schedule', 'now', 'at', 'catch-up'].includes(kind))) {
    throw new StorageError('STORAGE_INVALID_INPUT', `triggerKind ${JSON.stringify(kind)} does not go with trigger '${input.trigger}'`, {
      path: 'triggerKind',
      value: kind,
      hint: "manual: 'manual'; schedule: 'schedule', 'now', 'at' or 'catch-up'",
    });
  }
  if (input.trigger === 'schedule' && (typeof input.occurrenceAt !== 'number' || !Number.isFinite(input.occurrenceAt))) {
    throw new StorageError('STORAGE_INVALID_INPUT', 'A schedule batch needs its occurrence time', { path: 'occurrenceAt', value: input.occurrenceAt });
  }
  if (!Number.isSafeInteger(input.runCount) || input.runCount < 0) {
    throw new StorageError('STORAGE_INVALID_INPUT', `runCount must be a whole number >= 0, got ${String(input.runCount)}`, { path: 'runCount', value: input.runCount });
  }
  checkLedgerRetention(input.ledgerRetention, 'ledgerRetention');
}

/** Validates claim input. */
export function checkLimit(limit: number, leaseMs: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new StorageError('STORAGE_INVALID_INPUT', `limit must be a whole number >= 0, got ${String(limit)}`, { path: 'limit', value: limit });
  if (!Number.isFinite(leaseMs) || leaseMs < 0) throw new StorageError('STORAGE_INVALID_INPUT', `leaseMs must be a number >= 0, got ${String(leaseMs)}`, { path: 'leaseMs', value: leaseMs });
}

/**
 * Validates the ends of `finishAndClaim` before anything is written: a list of
 * `{ runId, end }`, each run at most once (two ends of one run in one transaction would
 * make the second's answer depend on the first's).
 */
export function checkEnds(ends: unknown): void {
  if (!Array.isArray(ends)) throw new StorageError('STORAGE_INVALID_INPUT', 'ends must be an array of { runId, end }', { path: 'ends', value: ends });
  const seen = new Set<string>();
  ends.forEach((e: unknown, i) => {
    const runId = (e as { runId?: unknown } | null)?.runId;
    const end = (e as { end?: unknown } | null)?.end;
    if (typeof runId !== 'string' || end === null || typeof end !== 'object') {
      throw new StorageError('STORAGE_INVALID_INPUT', 'Each end must be { runId, end }', { path: `ends[${i}]`, value: e });
    }
    const steps = (e as { steps?: unknown }).steps;
    if (steps !== undefined && !Array.isArray(steps)) throw new StorageError('STORAGE_INVALID_INPUT', 'steps must be an array of step states', { path: `ends[${i}].steps`, value: steps });
    if (seen.has(runId)) throw new StorageError('STORAGE_INVALID_INPUT', 'A run can be ended once per call', { path: `ends[${i}].runId`, value: runId, hint: 'End it in a later call' });
    seen.add(runId);
  });
}

/** A claim that can take nothing (`limit` 0, or an empty `jobIds`): answered without asking the store. */
export function claimsNothing(input: ClaimInput): boolean {
  return input.limit === 0 || (input.jobIds !== undefined && input.jobIds.length === 0);
}

/** Validates a retention request of `deleteRuns`. */
export function checkDeleteRuns(which: { runIds: readonly string[] } | { keepLatest: number }): void {
  if ('keepLatest' in which && (!Number.isSafeInteger(which.keepLatest) || which.keepLatest < 0)) {
    throw new StorageError('STORAGE_INVALID_INPUT', `keepLatest must be a whole number >= 0, got ${String(which.keepLatest)}`, { path: 'keepLatest', value: which.keepLatest });
  }
}

/**
 * The runs of a chunk still to write (those before `writtenRuns` were written already),
 * after checking the whole chunk: a bad chunk changes nothing.
 */
export function freshRuns(batch: Pick<BatchRecord, 'writtenRuns' | 'runCount'>, runs: readonly NewRun[]): NewRun[] {
  const fresh = runs.filter((r) => r.indexInBatch >= batch.writtenRuns);
  const seen = new Set<string>();
  for (const [i, r] of fresh.entries()) {
    if (!Number.isSafeInteger(r.indexInBatch) || r.indexInBatch >= batch.runCount) {
      throw new StorageError('STORAGE_INVALID_INPUT', 'indexInBatch beyond the batch', { path: `runs[${i}].indexInBatch`, value: r.indexInBatch, hint: `The batch has ${batch.runCount} runs` });
    }
    if (!Number.isSafeInteger(r.gridIndex) || r.gridIndex < 0) {
      throw new StorageError('STORAGE_INVALID_INPUT', 'gridIndex must be a whole number >= 0', { path: `runs[${i}].gridIndex`, value: r.gridIndex });
    }
    if (seen.has(r.id)) throw new StorageError('STORAGE_DUPLICATE_ID', 'A run with this id exists', { path: `runs[${i}].id`, value: r.id });
    seen.add(r.id);
  }
  return fresh;
}

/** Checks the input of `Storage.releaseRuns`. */
export function checkRelease(owner: unknown, keep: unknown): void {
  if (typeof owner !== 'string' || owner === '') throw new StorageError('STORAGE_INVALID_INPUT', 'owner must be a non-empty string', { path: 'owner', value: owner });
  if (!Array.isArray(keep) || keep.some((id) => typeof id !== 'string')) throw new StorageError('STORAGE_INVALID_INPUT', 'keep must be an array of run ids', { path: 'keep', value: keep });
}

/** Validates a ledger retention (of `createBatch` or `recordSkips`) before anything is written. */
export function checkLedgerRetention(r: unknown, path: string): void {
  if (r === undefined) return;
  if (r === null || typeof r !== 'object') throw new StorageError('STORAGE_INVALID_INPUT', 'A ledger retention must be an object', { path, value: r, hint: 'e.g. { maxRecords: 1000 }' });
  const { maxRecords, maxAgeMs } = r as { maxRecords?: unknown; maxAgeMs?: unknown };
  if (maxRecords !== undefined && (typeof maxRecords !== 'number' || !Number.isSafeInteger(maxRecords) || maxRecords < 1)) {
    throw new StorageError('STORAGE_INVALID_INPUT', `maxRecords must be a whole number >= 1, got ${String(maxRecords)}`, { path: `${path}.maxRecords`, value: maxRecords, hint: 'The newest record is always kept' });
  }
  if (maxAgeMs !== undefined && (typeof maxAgeMs !== 'number' || !Number.isFinite(maxAgeMs) || maxAgeMs < 0)) {
    throw new StorageError('STORAGE_INVALID_INPUT', `maxAgeMs must be a number >= 0, got ${String(maxAgeMs)}`, { path: `${path}.maxAgeMs`, value: maxAgeMs });
  }
}

/** `getStepStatesOf`' argument: a list of run ids. */
export function checkRunIds(runIds: unknown): void {
  if (!Array.isArray(runIds) || runIds.some((id) => typeof id !== 'string')) {
    throw new StorageError('STORAGE_INVALID_INPUT', 'Expected a list of run ids', { path: 'runIds', value: runIds });
  }
}

/** Step states grouped by run, every asked run present (`[]` for one without states). */
export function groupSteps(runIds: readonly string[], steps: readonly StepStateRecord[]): Map<string, StepStateRecord[]> {
  const out = new Map<string, StepStateRecord[]>(runIds.map((id) => [id, []]));
  for (const s of steps) out.get(s.runId)?.push(s);
  return out;
}
