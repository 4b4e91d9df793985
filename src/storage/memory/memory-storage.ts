import type { Clock } from '../../clock.js';
import { SystemClock } from '../../clock.js';
import { StorageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import { JobStatus, RunState, isEndState } from '../../status.js';
import type {
  CancelTarget,
  ClaimInput,
  CreateBatchInput,
  FinishRun,
  HeartbeatResult,
  JobExpectation,
  JobFilter,
  PageRequest,
  RecoveredRun,
  RunFilter,
  SkipInput,
  Storage,
  StorageEvent,
} from '../port.js';
import type {
  BatchRecord,
  Json,
  JobPatch,
  JobRecord,
  NewRun,
  OccurrenceRecord,
  Page,
  RunRecord,
  SkipReason,
  StepStateRecord,
} from '../records.js';
import { Listeners } from './listeners.js';
import { checkRelease, freshRuns, skipChange } from '../sql/logic.js';
import { applyJobPatch, pendingRun, retentionVictims, jobAfterCursor, jobCursor, moveCounter, pageOf, parseIndexCursor, sortedRunsOf } from './helpers.js';

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * The clock leases are measured on (the "store's clock").
   * @default new SystemClock()
   */
  clock?: Clock;
  /**
   * Where errors thrown by {@link MemoryStorage.subscribe} listeners are reported.
   * @default silentLogger
   */
  logger?: Logger;
}

/**
 * Storage in this process's memory: for tests and the first demo. Nothing survives the
 * process. Records are copied in and out, so callers never share mutable state with it.
 */
export class MemoryStorage implements Storage {
  readonly #clock: Clock;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #batches = new Map<string, BatchRecord>();
  readonly #runs = new Map<string, RunRecord>();
  readonly #runsByJob = new Map<string, Set<string>>();
  readonly #pending = new Map<number, string>(); // seq -> run id, insertion-ordered
  readonly #steps = new Map<string, StepStateRecord[]>();
  readonly #ledger = new Map<string, OccurrenceRecord[]>();
  readonly #claimedOccurrences = new Set<string>();
  readonly #listeners: Listeners;
  #seq = 0;
  #closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    this.#clock = options.clock ?? new SystemClock();
    this.#listeners = new Listeners(options.logger ?? silentLogger);
  }

  async init(): Promise<void> {
    this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  /** In-process notifications (this instance only), delivered after the change, asynchronously. */
  async subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>> {
    this.#check();
    return this.#listeners.add(listener);
  }

  async insertJob(job: JobRecord): Promise<void> {
    this.#check();
    if (this.#jobs.has(job.id)) throw new StorageError('STORAGE_DUPLICATE_ID', 'A job with this id exists', { path: 'id', value: job.id });
    this.#jobs.set(job.id, structuredClone(job));
    this.#runsByJob.set(job.id, new Set());
    this.#ledger.set(job.id, []);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.#check();
    const job = this.#jobs.get(id);
    return job && structuredClone(job);
  }

  async listJobs(filter: JobFilter = {}): Promise<Page<JobRecord>> {
    this.#check();
    const jobs = [...this.#jobs.values()]
      .filter((j) => (filter.projectId === undefined || j.projectId === filter.projectId) && (!filter.status || filter.status.includes(j.status)))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    const page = pageOf(jobs, filter, jobCursor, jobAfterCursor);
    return { items: page.items.map((j) => structuredClone(j)), next: page.next };
  }

  async listJobIds(statuses: readonly JobStatus[]): Promise<string[]> {
    this.#check();
    return [...this.#jobs.values()].filter((j) => statuses.includes(j.status)).map((j) => j.id);
  }

  async updateJob(id: string, patch: JobPatch, expect: JobExpectation, now: number): Promise<JobRecord | undefined> {
    this.#check();
    const job = this.#jobs.get(id);
    if (!job || !expect.status.includes(job.status)) return undefined;
    if (expect.version !== undefined && job.version !== expect.version) return undefined;
    // End states are final whatever the caller expected.
    if (patch.status !== undefined && patch.status !== job.status && isEndState(job.status)) return undefined;
    const next = applyJobPatch(job, patch, now);
    this.#jobs.set(id, next);
    this.#listeners.emit({ type: 'job-changed', jobId: id });
    return structuredClone(next);
  }

  async deleteJob(id: string): Promise<string[]> {
    this.#check();
    const runIds = [...(this.#runsByJob.get(id) ?? [])];
    for (const runId of runIds) this.#dropRun(runId);
    for (const key of [...this.#batches.keys()]) if (key.startsWith(`${id}\u0000`)) this.#batches.delete(key);
    for (const key of [...this.#claimedOccurrences]) if (key.startsWith(`${id}\u0000`)) this.#claimedOccurrences.delete(key);
    this.#jobs.delete(id);
    this.#runsByJob.delete(id);
    this.#ledger.delete(id);
    return runIds;
  }

  async createBatch(input: CreateBatchInput): Promise<BatchRecord | undefined> {
    this.#check();
    const job = this.#jobs.get(input.jobId);
    if (!job || !input.expectStatus.includes(job.status)) return undefined;
    if (input.trigger === 'schedule') {
      if (input.occurrenceAt === null) throw new StorageError('STORAGE_INVALID_INPUT', 'A schedule batch needs its occurrence time', { path: 'occurrenceAt', value: null });
      const key = `${job.id}\u0000${input.occurrenceAt}`;
      if (this.#claimedOccurrences.has(key)) return undefined;
      this.#claimedOccurrences.add(key);
    }
    const batch: BatchRecord = {
      jobId: job.id,
      batchIndex: job.batchCount,
      trigger: input.trigger,
      occurrenceAt: input.occurrenceAt,
      runCount: input.runCount,
      writtenRuns: 0,
      firstRunIndex: job.runCount,
      envVars: { ...job.envVars },
      createdAt: input.now,
    };
    this.#batches.set(`${job.id}\u0000${batch.batchIndex}`, batch);
    const patch = { ...input.jobPatch };
    if (patch.scheduleCursor != null && job.scheduleCursor != null) patch.scheduleCursor = Math.max(patch.scheduleCursor, job.scheduleCursor);
    const patched = applyJobPatch(job, patch, input.now);
    this.#jobs.set(job.id, { ...patched, batchCount: job.batchCount + 1, runCount: job.runCount + input.runCount });
    if (input.occurrenceAt !== null) {
      this.#ledger.get(job.id)!.push({ jobId: job.id, action: 'started', reason: null, at: input.occurrenceAt, lastAt: input.occurrenceAt, count: 1, batchIndex: batch.batchIndex });
    }
    this.#listeners.emit({ type: 'job-changed', jobId: job.id });
    return structuredClone(batch);
  }

  async insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<void> {
    this.#check();
    const key = `${jobId}\u0000${batchIndex}`;
    const batch = this.#batches.get(key);
    const job = this.#jobs.get(jobId);
    if (!batch || !job) throw new StorageError('STORAGE_NOT_FOUND', 'No such batch', { path: 'batchIndex', value: `${jobId}#${batchIndex}` });
    const ids = this.#runsByJob.get(jobId)!;
    // The whole chunk is checked first (a bad chunk changes nothing); earlier ones: idempotent resume.
    const fresh = freshRuns(batch, runs);
    for (const [i, r] of fresh.entries()) {
      if (this.#runs.has(r.id)) throw new StorageError('STORAGE_DUPLICATE_ID', 'A run with this id exists', { path: `runs[${i}].id`, value: r.id });
    }
    let added = 0;
    let written = batch.writtenRuns;
    for (const r of fresh) {
      const seq = ++this.#seq;
      const run = pendingRun(batch, r, seq, now);
      this.#runs.set(run.id, run);
      ids.add(run.id);
      this.#pending.set(seq, run.id);
      written = Math.max(written, r.indexInBatch + 1);
      added++;
    }
    this.#batches.set(key, { ...batch, writtenRuns: written });
    const current = this.#jobs.get(jobId)!;
    this.#jobs.set(jobId, { ...current, counters: { ...current.counters, PENDING: current.counters.PENDING + added } });
    if (added > 0) this.#listeners.emit({ type: 'runs-pending', jobId });
  }

  async getBatch(jobId: string, batchIndex: number): Promise<BatchRecord | undefined> {
    this.#check();
    const b = this.#batches.get(`${jobId}\u0000${batchIndex}`);
    return b && structuredClone(b);
  }

  async listIncompleteBatches(): Promise<BatchRecord[]> {
    this.#check();
    return [...this.#batches.values()].filter((b) => b.writtenRuns < b.runCount).map((b) => structuredClone(b));
  }

  async recordSkips(
    jobId: string,
    skips: readonly SkipInput[],
    advance?: { scheduleCursor: number; expectVersion: number; now: number },
  ): Promise<boolean> {
    this.#check();
    const ledger = this.#ledger.get(jobId);
    const job = this.#jobs.get(jobId);
    if (!ledger || !job) throw new StorageError('STORAGE_NOT_FOUND', 'No such job', { path: 'jobId', value: jobId });
    if (advance) {
      if (job.version !== advance.expectVersion) return false;
      const cursor = Math.max(job.scheduleCursor ?? -Infinity, advance.scheduleCursor);
      this.#jobs.set(jobId, applyJobPatch(job, { scheduleCursor: cursor }, advance.now));
    }
    for (const s of skips) {
      const change = skipChange(ledger[ledger.length - 1], jobId, s);
      if ('extend' in change) ledger[ledger.length - 1] = change.extend;
      else ledger.push(change.append);
    }
    return true;
  }

  async listOccurrences(jobId: string, page: PageRequest = {}): Promise<Page<OccurrenceRecord>> {
    this.#check();
    const ledger = (this.#ledger.get(jobId) ?? []).map((r, i) => ({ r, i }));
    const p = pageOf(ledger, page, (x) => String(x.i), (c) => {
      const at = parseIndexCursor(c);
      return (x) => x.i > at;
    });
    return { items: p.items.map((x) => ({ ...x.r })), next: p.next };
  }

  async claimRuns(input: ClaimInput): Promise<RunRecord[]> {
    this.#check();
    const statuses = input.jobStatuses ?? [JobStatus.STARTED, JobStatus.PAUSED];
    const now = this.#clock.now();
    const claimed: RunRecord[] = [];
    for (const [seq, runId] of this.#pending) {
      if (claimed.length >= input.limit) break;
      const run = this.#runs.get(runId)!;
      const job = this.#jobs.get(run.jobId)!;
      if (input.jobIds && !input.jobIds.includes(job.id)) continue;
      if (!statuses.includes(job.status)) continue;
      if (job.maxConcurrentRuns > 0 && job.counters.STARTED >= job.maxConcurrentRuns) continue;
      const next: RunRecord = { ...run, status: RunState.STARTED, startedAt: now, attempts: run.attempts + 1, leaseOwner: input.owner, leaseExpiresAt: now + input.leaseMs };
      this.#runs.set(runId, next);
      this.#pending.delete(seq);
      this.#jobs.set(job.id, { ...job, counters: moveCounter(job.counters, RunState.PENDING, RunState.STARTED) });
      claimed.push(structuredClone(next));
    }
    return claimed;
  }

  async heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult> {
    this.#check();
    const now = this.#clock.now();
    const result: HeartbeatResult = { cancelRequested: [], lost: [] };
    for (const id of runIds) {
      const run = this.#runs.get(id);
      if (!run || run.status !== RunState.STARTED || run.leaseOwner !== owner) {
        result.lost.push(id);
        continue;
      }
      this.#runs.set(id, { ...run, leaseExpiresAt: now + leaseMs });
      if (run.cancelRequested) result.cancelRequested.push(id);
    }
    return result;
  }

  async setProcessInfo(runId: string, owner: string, info: Json): Promise<void> {
    this.#check();
    const run = this.#runs.get(runId);
    if (run && run.leaseOwner === owner && run.status === RunState.STARTED) this.#runs.set(runId, { ...run, processInfo: structuredClone(info) });
  }

  async finishRun(runId: string, end: FinishRun): Promise<boolean> {
    this.#check();
    const run = this.#runs.get(runId);
    if (!run) return false;
    const expected = end.owner === null ? RunState.PENDING : RunState.STARTED;
    if (run.status !== expected || (end.owner !== null && run.leaseOwner !== end.owner)) return false;
    this.#runs.set(runId, {
      ...run,
      status: end.status,
      finishedAt: end.now,
      reason: end.reason ?? null,
      error: end.error ?? null,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    this.#pending.delete(run.seq);
    const job = this.#jobs.get(run.jobId)!;
    this.#jobs.set(job.id, { ...job, counters: moveCounter(job.counters, run.status, end.status) });
    return true;
  }

  async cancelRuns(target: CancelTarget, now: number): Promise<{ aborted: string[]; flagged: string[] }> {
    this.#check();
    const ids = 'jobId' in target ? [...(this.#runsByJob.get(target.jobId) ?? [])] : [...target.runIds];
    const aborted: string[] = [];
    const flagged: string[] = [];
    for (const id of ids) {
      const run = this.#runs.get(id);
      if (!run) continue;
      if (run.status === RunState.PENDING) {
        await this.finishRun(id, { status: RunState.ABORTED, owner: null, reason: 'cancelled', now });
        aborted.push(id);
      } else if (run.status === RunState.STARTED) {
        this.#runs.set(id, { ...run, cancelRequested: true });
        flagged.push(id);
      }
    }
    if (flagged.length > 0) {
      const jobIds = new Set(flagged.map((id) => this.#runs.get(id)!.jobId));
      for (const jobId of jobIds) this.#listeners.emit({ type: 'cancel', jobId, runIds: flagged.filter((id) => this.#runs.get(id)!.jobId === jobId) });
    }
    return { aborted, flagged };
  }

  async releaseRuns(owner: string, keep: readonly string[]): Promise<string[]> {
    this.#check();
    checkRelease(owner, keep);
    const kept = new Set(keep);
    const out: string[] = [];
    for (const run of [...this.#runs.values()]) {
      if (run.status !== RunState.STARTED || run.leaseOwner !== owner || kept.has(run.id)) continue;
      const seq = ++this.#seq;
      this.#runs.set(run.id, { ...run, status: RunState.PENDING, leaseOwner: null, leaseExpiresAt: null, startedAt: null, attempts: Math.max(0, run.attempts - 1), seq });
      this.#pending.set(seq, run.id);
      const job = this.#jobs.get(run.jobId)!;
      this.#jobs.set(job.id, { ...job, counters: moveCounter(job.counters, RunState.STARTED, RunState.PENDING) });
      this.#listeners.emit({ type: 'runs-pending', jobId: job.id });
      out.push(run.id);
    }
    return out;
  }

  async recoverExpiredRuns(requeue: (job: JobRecord) => boolean, now: number): Promise<{ run: RunRecord; outcome: 'failed' | 'requeued' }[]> {
    this.#check();
    const storeNow = this.#clock.now();
    const out: RecoveredRun[] = [];
    for (const run of this.#runs.values()) {
      if (run.status !== RunState.STARTED || run.leaseExpiresAt === null || run.leaseExpiresAt > storeNow) continue;
      const job = this.#jobs.get(run.jobId)!;
      if (requeue(structuredClone(job)) && !run.cancelRequested) {
        const seq = ++this.#seq;
        const next: RunRecord = { ...run, status: RunState.PENDING, leaseOwner: null, leaseExpiresAt: null, startedAt: null, seq };
        this.#runs.set(run.id, next);
        this.#pending.set(seq, run.id);
        this.#jobs.set(job.id, { ...job, counters: moveCounter(job.counters, RunState.STARTED, RunState.PENDING) });
        out.push({ run: structuredClone(next), outcome: 'requeued' });
        this.#listeners.emit({ type: 'runs-pending', jobId: job.id });
      } else {
        const status = run.cancelRequested ? RunState.ABORTED : RunState.FAILURE;
        await this.finishRun(run.id, { status, owner: run.leaseOwner, reason: run.cancelRequested ? 'cancelled' : 'interrupted', now });
        out.push({ run: structuredClone(this.#runs.get(run.id)!), outcome: 'failed' });
      }
    }
    return out;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    this.#check();
    const run = this.#runs.get(id);
    return run && structuredClone(run);
  }

  async listRuns(jobId: string, filter: RunFilter = {}): Promise<Page<RunRecord>> {
    this.#check();
    const runs = sortedRunsOf(this.#runsByJob.get(jobId), this.#runs).filter(
      (r) => (!filter.status || filter.status.includes(r.status)) && (filter.batchIndex === undefined || r.batchIndex === filter.batchIndex),
    );
    const p = pageOf(runs, filter, (r) => String(r.runIndex), (c) => {
      const at = parseIndexCursor(c);
      return (r) => r.runIndex > at;
    });
    return { items: p.items.map((r) => structuredClone(r)), next: p.next };
  }

  async putStepStates(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    this.#check();
    if (!this.#runs.has(runId)) return;
    this.#steps.set(runId, structuredClone([...steps]));
  }

  async getStepStates(runId: string): Promise<StepStateRecord[]> {
    this.#check();
    return structuredClone(this.#steps.get(runId) ?? []);
  }

  async deleteRuns(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    this.#check();
    const victims = retentionVictims(sortedRunsOf(this.#runsByJob.get(jobId), this.#runs), which);
    for (const r of victims) this.#dropRun(r.id);
    return victims.map((r) => r.id);
  }

  #dropRun(runId: string): void {
    const run = this.#runs.get(runId);
    if (!run) return;
    this.#pending.delete(run.seq);
    this.#runs.delete(runId);
    this.#steps.delete(runId);
    this.#runsByJob.get(run.jobId)?.delete(runId);
  }

  #check(): void {
    if (this.#closed) throw new StorageError('STORAGE_CLOSED', 'The storage is closed', { hint: 'Create a new MemoryStorage' });
  }
}
