import { JobStatus, RunState } from '../../status.js';
import type { CancelTarget, ClaimInput, FinishAndClaimResult, FinishRun, HeartbeatResult, RecoveredRun, RunEnd, RunFilter } from '../port.js';
import type { JobRecord, Json, Page, RunRecord, StepStateRecord } from '../records.js';
import { RUNS_WRITABLE, checkDeleteRuns, checkEnds, checkLimit, checkRelease } from '../shared/checks.js';
import { pageOf, parseIndexCursor } from '../shared/cursors.js';
import { moveCounter, retentionVictims, sortedRunsOf } from './helpers.js';
import type { MemoryState } from './memory-state.js';

/** The run half of {@link MemoryStorage}: claims, leases, ends, cancels, recovery, listings, retention. */
export class MemoryRuns {
  constructor(private readonly s: MemoryState) {}

  async claimRuns(input: ClaimInput): Promise<RunRecord[]> {
    checkLimit(input.limit, input.leaseMs);
    return this.#claim(input);
  }

  #claim(input: ClaimInput): RunRecord[] {
    const statuses = input.jobStatuses ?? [JobStatus.STARTED, JobStatus.PAUSED];
    const now = this.s.clock.now();
    // Only jobs that may take runs are merged: a job at its limit is never walked.
    const picks = this.s.pending.pick(input.limit, (jobId) => {
      const job = this.s.jobs.get(jobId)!;
      if ((input.jobIds && !input.jobIds.includes(jobId)) || !statuses.includes(job.status)) return 0;
      return job.maxConcurrentRuns > 0 ? job.maxConcurrentRuns - job.counters.STARTED : Number.POSITIVE_INFINITY;
    });
    const claimed: RunRecord[] = [];
    for (const { jobId, seq, runId } of picks) {
      const run = this.s.runs.get(runId)!;
      const job = this.s.jobs.get(jobId)!;
      const next: RunRecord = { ...run, status: RunState.STARTED, startedAt: now, attempts: run.attempts + 1, leaseOwner: input.owner, leaseExpiresAt: now + input.leaseMs };
      this.s.runs.set(runId, next);
      this.s.pending.remove(jobId, seq);
      this.s.jobs.set(jobId, { ...job, counters: moveCounter(job.counters, RunState.PENDING, RunState.STARTED) });
      claimed.push(this.s.runs.get(runId)!);
    }
    return claimed;
  }

  async heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult> {
    const now = this.s.clock.now();
    const result: HeartbeatResult = { cancelRequested: [], lost: [] };
    for (const id of runIds) {
      const run = this.s.runs.get(id);
      if (!run || run.status !== RunState.STARTED || run.leaseOwner !== owner) {
        result.lost.push(id);
        continue;
      }
      this.s.runs.set(id, { ...run, leaseExpiresAt: now + leaseMs });
      if (run.cancelRequested) result.cancelRequested.push(id);
    }
    return result;
  }

  async setProcessInfo(runId: string, owner: string, info: Json): Promise<void> {
    const run = this.s.runs.get(runId);
    if (run && run.leaseOwner === owner && run.status === RunState.STARTED) this.s.runs.set(runId, { ...run, processInfo: structuredClone(info) });
  }

  async finishRun(runId: string, end: FinishRun): Promise<boolean> {
    return this.#finish(runId, end);
  }

  #finish(runId: string, end: FinishRun): boolean {
    const run = this.s.runs.get(runId);
    if (!run) return false;
    const expected = end.owner === null ? RunState.PENDING : RunState.STARTED;
    if (run.status !== expected || (end.owner !== null && run.leaseOwner !== end.owner)) return false;
    this.s.runs.set(runId, {
      ...run,
      status: end.status,
      finishedAt: end.now,
      reason: end.reason ?? null,
      // Copied in: the store freezes what it keeps, and the caller's object stays the caller's.
      error: end.error ? structuredClone(end.error) : null,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    this.s.pending.remove(run.jobId, run.seq);
    const job = this.s.jobs.get(run.jobId)!;
    this.s.jobs.set(job.id, { ...job, counters: moveCounter(job.counters, run.status, end.status) });
    return true;
  }

  /** The ends, then the claim, with no await between them: nothing else runs in the middle. */
  async finishAndClaim(ends: readonly RunEnd[], claim: ClaimInput): Promise<FinishAndClaimResult> {
    checkEnds(ends);
    checkLimit(claim.limit, claim.leaseMs);
    const finished = ends.map(({ runId, end, steps }) => {
      const done = this.#finish(runId, end);
      if (done && steps) this.#storeSteps(runId, steps);
      return done;
    });
    return { finished, claimed: this.#claim(claim) };
  }

  async cancelRuns(target: CancelTarget, now: number): Promise<{ aborted: string[]; flagged: string[] }> {
    const ids = 'jobId' in target ? [...(this.s.runsByJob.get(target.jobId) ?? [])] : [...target.runIds];
    const aborted: string[] = [];
    const flagged: string[] = [];
    for (const id of ids) {
      const run = this.s.runs.get(id);
      if (!run) continue;
      if (run.status === RunState.PENDING) {
        await this.finishRun(id, { status: RunState.ABORTED, owner: null, reason: 'cancelled', now });
        aborted.push(id);
      } else if (run.status === RunState.STARTED) {
        this.s.runs.set(id, { ...run, cancelRequested: true });
        flagged.push(id);
      }
    }
    if (flagged.length > 0) {
      const jobIds = new Set(flagged.map((id) => this.s.runs.get(id)!.jobId));
      for (const jobId of jobIds) this.s.listeners.emit({ type: 'cancel', jobId, runIds: flagged.filter((id) => this.s.runs.get(id)!.jobId === jobId) });
    }
    return { aborted, flagged };
  }

  async releaseRuns(owner: string, keep: readonly string[]): Promise<string[]> {
    checkRelease(owner, keep);
    const kept = new Set(keep);
    const out: string[] = [];
    for (const run of [...this.s.runs.values()]) {
      if (run.status !== RunState.STARTED || run.leaseOwner !== owner || kept.has(run.id)) continue;
      const job = this.s.jobs.get(run.jobId)!;
      // An ended job gets no PENDING run back; a cancelled run ends through its lease.
      if (!RUNS_WRITABLE.includes(job.status) || run.cancelRequested) continue;
      const seq = ++this.s.seq;
      this.s.runs.set(run.id, { ...run, status: RunState.PENDING, leaseOwner: null, leaseExpiresAt: null, startedAt: null, attempts: Math.max(0, run.attempts - 1), seq });
      this.s.pending.add(run.jobId, seq, run.id);
      this.s.jobs.set(job.id, { ...job, counters: moveCounter(job.counters, RunState.STARTED, RunState.PENDING) });
      this.s.listeners.emit({ type: 'runs-pending', jobId: job.id });
      out.push(run.id);
    }
    return out;
  }

  async recoverExpiredRuns(requeue: (job: JobRecord) => boolean, now: number): Promise<RecoveredRun[]> {
    const storeNow = this.s.clock.now();
    const out: RecoveredRun[] = [];
    for (const run of this.s.runs.values()) {
      if (run.status !== RunState.STARTED || run.leaseExpiresAt === null || run.leaseExpiresAt > storeNow) continue;
      const job = this.s.jobs.get(run.jobId)!;
      if (RUNS_WRITABLE.includes(job.status) && requeue(job) && !run.cancelRequested) {
    const seq = ++this.s.seq;
    const next: RunRecord = { ...run, status: RunState.PENDING, leaseOwner: null, leaseExpiresAt: null, startedAt: null, seq };
        this.s.runs.set(run.id, next);
        this.s.pending.add(run.jobId, seq, run.id);
        this.s.jobs.set(job.id, { ...job, counters: moveCounter(job.counters, RunState.STARTED, RunState.PENDING) });
        out.push({ run: this.s.runs.get(run.id)!, outcome: 'requeued' });
        this.s.listeners.emit({ type: 'runs-pending', jobId: job.id });
      } else {
    const status = run.cancelRequested ? RunState.ABORTED : RunState.FAILURE;
        await this.finishRun(run.id, { status, owner: run.leaseOwner, reason: run.cancelRequested ? 'cancelled' : 'interrupted', now });
        out.push({ run: this.s.runs.get(run.id)!, outcome: 'failed' });
      }
    }
    return out;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.s.runs.get(id);
  }

  async listRuns(jobId: string, filter: RunFilter = {}): Promise<Page<RunRecord>> {
    const runs = sortedRunsOf(this.s.runsByJob.get(jobId), this.s.runs).filter(
      (r) => (!filter.status || filter.status.includes(r.status)) && (filter.batchIndex === undefined || r.batchIndex === filter.batchIndex),
    );
    const p = pageOf(runs, filter, (r) => String(r.runIndex), (c) => {
      const at = parseIndexCursor(c);
      return (r) => r.runIndex > at;
    });
    return { items: [...p.items], nextCursor: p.nextCursor };
  }

  async putStepStates(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    if (this.s.runs.has(runId)) this.#storeSteps(runId, steps);
  }

  /** Keeps a copy of a run's step states (the caller's array stays the caller's). */
  #storeSteps(runId: string, steps: readonly StepStateRecord[]): void {
    this.s.steps.set(runId, structuredClone([...steps]));
  }

  async getStepStates(runId: string): Promise<StepStateRecord[]> {
    // A fresh array (callers may sort it) of the stored, frozen records.
    return [...(this.s.steps.get(runId) ?? [])];
  }

  async deleteRuns(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    checkDeleteRuns(which);
    const victims = retentionVictims(sortedRunsOf(this.s.runsByJob.get(jobId), this.s.runs), which);
    for (const r of victims) this.s.dropRun(r.id);
    this.s.dropEmptyBatches(jobId);
    return victims.map((r) => r.id);
  }
}
