import { StorageError } from '../../errors.js';
import { RunState, isEndState } from '../../status.js';
import type { PageRequest } from '../port.js';
import type { BatchRecord, JobCounters, JobPatch, JobRecord, NewRun, Page, RunRecord } from '../records.js';

/** A copy of `job` with `patch` applied, `version` bumped and `updatedAt` set. */
export function applyJobPatch(job: JobRecord, patch: JobPatch, now: number): JobRecord {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  return { ...job, ...structuredClone(defined), version: job.version + 1, updatedAt: now };
}

/** Counters with one run moved from one status to another. */
export function moveCounter(counters: JobCounters, from: RunState, to: RunState): JobCounters {
  return { ...counters, [from]: counters[from] - 1, [to]: counters[to] + 1 };
}

/** A job's runs in runIndex order. */
export function sortedRunsOf(ids: Set<string> | undefined, runs: Map<string, RunRecord>): RunRecord[] {
  return [...(ids ?? [])].map((id) => runs.get(id)!).sort((a, b) => a.runIndex - b.runIndex);
}

/**
 * Cursor pagination over an ordered list; the cursor is the key of the last item given.
 * `after(cursor)(item)` says whether an item sorts after the cursor, so a page still
 * continues at the right place when the cursor's own item was deleted in between.
 */
export function pageOf<T>(items: T[], req: PageRequest, key: (item: T) => string, after: (cursor: string) => (item: T) => boolean): Page<T> {
  const limit = req.limit ?? 100;
  // The cursor is decoded before anything else, so a bad one fails even on an empty list.
  const start = req.cursor ? items.findIndex(after(req.cursor)) : 0;
  const from = start < 0 ? items.length : start;
  const slice = items.slice(from, from + limit);
  const more = from + limit < items.length;
  return { items: slice, next: more && slice.length > 0 ? key(slice[slice.length - 1]!) : null };
}

/** The cursor of a job in newest-first order: its creation time and id. */
export function jobCursor(job: { createdAt: number; id: string }): string {
  return JSON.stringify([job.createdAt, job.id]);
}

/** Whether a job comes after the cursor in newest-first order (createdAt desc, id desc). */
export function jobAfterCursor(cursor: string): (job: { createdAt: number; id: string }) => boolean {
  const [at, id] = parseJobCursor(cursor);
  return (job) => job.createdAt < at || (job.createdAt === at && job.id < id);
}

/** Decodes a {@link jobCursor}; a malformed cursor is a typed error. */
export function parseJobCursor(cursor: string): [number, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch (cause) {
    throw new StorageError('STORAGE_INVALID_CURSOR', 'Not a cursor of listJobs', { path: 'cursor', value: cursor, cause, hint: 'Pass the `next` of a previous page' });
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'string') {
    throw new StorageError('STORAGE_INVALID_CURSOR', 'Not a cursor of listJobs', { path: 'cursor', value: cursor, hint: 'Pass the `next` of a previous page' });
  }
  return [parsed[0], parsed[1]];
}

/** Decodes a numeric cursor (run index, ledger position); a malformed cursor is a typed error. */
export function parseIndexCursor(cursor: string): number {
  const n = Number(cursor);
  if (cursor === '' || !Number.isSafeInteger(n)) {
    throw new StorageError('STORAGE_INVALID_CURSOR', 'Not a cursor of this list', { path: 'cursor', value: cursor, hint: 'Pass the `next` of a previous page' });
  }
  return n;
}

/** A new PENDING run of `batch`, as `insertRuns` stores it. */
export function pendingRun(batch: BatchRecord, r: NewRun, seq: number, now: number): RunRecord {
  return {
    id: r.id,
    jobId: batch.jobId,
    batchIndex: batch.batchIndex,
    gridIndex: r.gridIndex,
    indexInBatch: r.indexInBatch,
    runIndex: batch.firstRunIndex + r.indexInBatch,
    status: RunState.PENDING,
    parameters: structuredClone(r.parameters),
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    reason: null,
    error: null,
    attempts: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    processInfo: null,
    seq,
  };
}

/**
 * The finished runs `deleteRuns` removes: those named, or all but the `keepLatest` most
 * recently finished. Runs still PENDING or STARTED are never among them.
 */
export function retentionVictims(runs: readonly RunRecord[], which: { runIds: readonly string[] } | { keepLatest: number }): RunRecord[] {
  const finished = runs.filter((r) => isEndState(r.status));
  if ('runIds' in which) {
    const wanted = new Set(which.runIds);
    return finished.filter((r) => wanted.has(r.id));
  }
  const byFinish = [...finished].sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0) || b.runIndex - a.runIndex);
  return byFinish.slice(Math.max(0, which.keepLatest));
}
