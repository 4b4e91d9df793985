import { RunState, isEndState } from '../../status.js';
import type { BatchRecord, JobCounters, NewRun, RunRecord } from '../records.js';

/** Counters with one run moved from one status to another. */
export function moveCounter(counters: JobCounters, from: RunState, to: RunState): JobCounters {
  return { ...counters, [from]: counters[from] - 1, [to]: counters[to] + 1 };
}

/** A job's runs in runIndex order. */
export function sortedRunsOf(ids: Set<string> | undefined, runs: Map<string, RunRecord>): RunRecord[] {
  return [...(ids ?? [])].map((id) => runs.get(id)!).sort((a, b) => a.runIndex - b.runIndex);
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
