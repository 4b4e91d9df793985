import type { Clock } from '../../clock.js';
import { SystemClock } from '../../clock.js';
import { StorageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import type { JobStatus } from '../../status.js';
import type {
  CancelTarget,
  ClaimInput,
  CreateBatchInput,
  FinishAndClaimResult,
  FinishRun,
  HeartbeatResult,
  JobExpectation,
  JobFilter,
  LedgerPrune,
  PageRequest,
  RecoveredRun,
  RunEnd,
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
  StepStateRecord,
} from '../records.js';
import { Listeners } from './listeners.js';
import { MemoryRuns } from './memory-runs.js';
import { MemoryState } from './memory-state.js';
import { RUNS_WRITABLE, checkBatchInput, checkLedgerRetention, checkRunIds, freshRuns } from '../shared/checks.js';
import { jobAfterCursor, jobCursor, pageOf, parseIndexCursor } from '../shared/cursors.js';
import { applyJobPatch, batchGrid, batchPatch, claimable, skipChange, updateAllowed } from '../shared/rules.js';
import { pendingRun } from './helpers.js';

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
 * process. What callers give is copied in; the records it hands out are its own, deeply
 * frozen and never changed (a change stores a new record), so a read costs no copy
 * whatever the record's size, and a caller can neither change the store through a record
 * nor see a record it holds change.
 */
export class MemoryStorage implements Storage {
  readonly #s: MemoryState;
  readonly #runs: MemoryRuns;
  #closed = false;

  /** An empty store in this process's memory (`clock` drives its leases). */
  constructor(options: MemoryStorageOptions = {}) {
    this.#s = new MemoryState(options.clock ?? new SystemClock(), new Listeners(options.logger ?? silentLogger));
    this.#runs = new MemoryRuns(this.#s);
  }

  async init(): Promise<void> {
    this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#s.listeners.clear();
  }

  /** In-process notifications (this instance only), delivered after the change, asynchronously. */
  async subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>> {
    this.#check();
    return this.#s.listeners.add(listener);
  }

  async insertJob(job: JobRecord): Promise<JobRecord> {
    this.#check();
    if (this.#s.jobs.has(job.id)) throw new StorageError('STORAGE_DUPLICATE_ID', 'A job with this id exists', { path: 'id', value: job.id });
    const holder = job.key === null ? undefined : this.#jobWithKey(job.key);
    if (holder) return holder;
    this.#s.jobs.set(job.id, structuredClone(job));
    this.#s.runsByJob.set(job.id, new Set());
    this.#s.ledger.set(job.id, []);
    return this.#s.jobs.get(job.id)!;
  }

  /** The job holding `key`: a scan, paid only by creates and listings that give a key. */
  #jobWithKey(key: string): JobRecord | undefined {
    for (const j of this.#s.jobs.values()) if (j.key === key) return j;
    return undefined;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.#check();
    return this.#s.jobs.get(id);
  }

  async listJobs(filter: JobFilter = {}): Promise<Page<JobRecord>> {
    this.#check();
    const jobs = [...this.#s.jobs.values()]
      .filter((j) => (filter.projectId === undefined || j.projectId === filter.projectId) && (filter.key === undefined || j.key === filter.key) && (filter.snapshotId === undefined || j.snapshotId === filter.snapshotId) && (!filter.status || filter.status.includes(j.status)))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    const page = pageOf(jobs, filter, jobCursor, jobAfterCursor);
    return { items: [...page.items], nextCursor: page.nextCursor };
  }

  async listJobIds(statuses: readonly JobStatus[]): Promise<string[]> {
    this.#check();
    return [...this.#s.jobs.values()].filter((j) => statuses.includes(j.status)).map((j) => j.id);
  }

  async updateJob(id: string, patch: JobPatch, expect: JobExpectation, now: number): Promise<JobRecord | undefined> {
    this.#check();
    const job = this.#s.jobs.get(id);
    if (!job || !updateAllowed(job, patch, expect)) return undefined;
    const next = applyJobPatch(job, patch, now);
    this.#s.jobs.set(id, next);
    this.#s.listeners.emit({ type: 'job-changed', jobId: id });
    return this.#s.jobs.get(id);
  }

  async deleteJob(id: string): Promise<string[]> {
    this.#check();
    const runIds = [...(this.#s.runsByJob.get(id) ?? [])];
    for (const runId of runIds) this.#s.dropRun(runId);
    for (const key of [...this.#s.batches.keys()]) if (key.startsWith(`${id}\u0000`)) this.#s.batches.delete(key);
    this.#s.jobs.delete(id);
    this.#s.runsByJob.delete(id);
    this.#s.ledger.delete(id);
    return runIds;
  }

  async createBatch(input: CreateBatchInput): Promise<BatchRecord | undefined> {
    this.#check();
    checkBatchInput(input);
    const job = this.#s.jobs.get(input.jobId);
    if (!job || !input.expectStatus.includes(job.status) || !claimable(job, input)) return undefined;
    const batch: BatchRecord = {
      jobId: job.id,
      batchIndex: job.batchCount,
      trigger: input.trigger,
      triggerKind: input.triggerKind ?? input.trigger,
      occurrenceAt: input.occurrenceAt,
      runCount: input.runCount,
      writtenRuns: 0,
      firstRunIndex: job.runCount,
      envVars: { ...job.envVars },
      // The job's (frozen) grid and selection are shared as they are; the input's are copied in.
      ...ownGrid(batchGrid(job, input), job),
      createdAt: input.now,
    };
    this.#s.batches.set(`${job.id}\u0000${batch.batchIndex}`, batch);
    const patched = applyJobPatch(job, batchPatch(job, input), input.now);
    this.#s.jobs.set(job.id, { ...patched, batchCount: job.batchCount + 1, runCount: job.runCount + input.runCount });
    if (input.occurrenceAt !== null) {
      this.#s.appendLedger({ jobId: job.id, action: 'started', reason: null, at: input.occurrenceAt, lastAt: input.occurrenceAt, count: 1, batchIndex: batch.batchIndex });
      this.#s.pruneLedger(job.id, input.ledgerRetention, input.now);
    }
    this.#s.listeners.emit({ type: 'job-changed', jobId: job.id });
    return this.#s.batches.get(`${job.id}\u0000${batch.batchIndex}`);
  }

  async insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<boolean> {
    this.#check();
    const key = `${jobId}\u0000${batchIndex}`;
    const batch = this.#s.batches.get(key);
    const job = this.#s.jobs.get(jobId);
    if (!batch || !job) throw new StorageError('STORAGE_NOT_FOUND', 'No such batch', { path: 'batchIndex', value: `${jobId}#${batchIndex}` });
    if (!RUNS_WRITABLE.includes(job.status)) {
      this.#s.batches.set(key, { ...batch, runCount: batch.writtenRuns });
      return false;
    }
    const ids = this.#s.runsByJob.get(jobId)!;
    // The whole chunk is checked first (a bad chunk changes nothing); earlier ones: idempotent resume.
    const fresh = freshRuns(batch, runs);
    for (const [i, r] of fresh.entries()) {
      if (this.#s.runs.has(r.id)) throw new StorageError('STORAGE_DUPLICATE_ID', 'A run with this id exists', { path: `runs[${i}].id`, value: r.id });
    }
    let added = 0;
    let written = batch.writtenRuns;
    for (const r of fresh) {
      const seq = ++this.#s.seq;
      const run = pendingRun(batch, r, seq, now);
      this.#s.runs.set(run.id, run);
      ids.add(run.id);
      this.#s.pending.add(jobId, seq, run.id);
      written = Math.max(written, r.indexInBatch + 1);
      added++;
    }
    this.#s.batches.set(key, { ...batch, writtenRuns: written });
    const current = this.#s.jobs.get(jobId)!;
    this.#s.jobs.set(jobId, { ...current, counters: { ...current.counters, PENDING: current.counters.PENDING + added } });
    if (added > 0) this.#s.listeners.emit({ type: 'runs-pending', jobId });
    return true;
  }

  async getBatch(jobId: string, batchIndex: number): Promise<BatchRecord | undefined> {
    this.#check();
    return this.#s.batches.get(`${jobId}\u0000${batchIndex}`);
  }

  async listIncompleteBatches(): Promise<BatchRecord[]> {
    this.#check();
    return [...this.#s.batches.values()]
      .filter((b) => b.writtenRuns < b.runCount && RUNS_WRITABLE.includes(this.#s.jobs.get(b.jobId)!.status));
  }

  async recordSkips(
    jobId: string,
    skips: readonly SkipInput[],
    advance?: { scheduleCursor: number; expectVersion: number; now: number },
    retention?: LedgerPrune,
  ): Promise<boolean> {
    this.#check();
    checkLedgerRetention(retention, 'retention');
    const ledger = this.#s.ledger.get(jobId);
    const job = this.#s.jobs.get(jobId);
    if (!ledger || !job) throw new StorageError('STORAGE_NOT_FOUND', 'No such job', { path: 'jobId', value: jobId });
    if (advance) {
      if (job.version !== advance.expectVersion) return false;
      const cursor = Math.max(job.scheduleCursor ?? -Infinity, advance.scheduleCursor);
      this.#s.jobs.set(jobId, applyJobPatch(job, { scheduleCursor: cursor }, advance.now));
    }
    for (const s of skips) {
      const last = ledger[ledger.length - 1];
      const change = skipChange(last?.r, jobId, s);
      if ('extend' in change) ledger[ledger.length - 1] = { ord: last!.ord, r: change.extend };
      else this.#s.appendLedger(change.append);
    }
    if (retention) this.#s.pruneLedger(jobId, retention, retention.now);
    return true;
  }

  async listOccurrences(jobId: string, page: PageRequest = {}): Promise<Page<OccurrenceRecord>> {
    this.#check();
    const ledger = this.#s.ledger.get(jobId) ?? [];
    const p = pageOf(ledger, page, (x) => String(x.ord), (c) => {
      const at = parseIndexCursor(c);
      return (x) => x.ord > at;
    });
    return { items: p.items.map((x) => ({ ...x.r })), nextCursor: p.nextCursor };
  }

  async claimRuns(input: ClaimInput): Promise<RunRecord[]> {
    this.#check();
    return this.#runs.claimRuns(input);
  }

  async heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult> {
    this.#check();
    return this.#runs.heartbeat(owner, runIds, leaseMs);
  }

  async setProcessInfo(runId: string, owner: string, info: Json): Promise<void> {
    this.#check();
    return this.#runs.setProcessInfo(runId, owner, info);
  }

  async finishRun(runId: string, end: FinishRun): Promise<boolean> {
    this.#check();
    return this.#runs.finishRun(runId, end);
  }

  async finishAndClaim(ends: readonly RunEnd[], claim: ClaimInput): Promise<FinishAndClaimResult> {
    this.#check();
    return this.#runs.finishAndClaim(ends, claim);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    this.#check();
    return this.#runs.getRun(id);
  }

  async listRuns(jobId: string, filter: RunFilter = {}): Promise<Page<RunRecord>> {
    this.#check();
    return this.#runs.listRuns(jobId, filter);
  }

  async putStepStates(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    this.#check();
    return this.#runs.putStepStates(runId, steps);
  }

  async getStepStates(runId: string): Promise<StepStateRecord[]> {
    this.#check();
    return this.#runs.getStepStates(runId);
  }

  async getStepStatesOf(runIds: readonly string[]): Promise<Map<string, StepStateRecord[]>> {
    this.#check();
    checkRunIds(runIds);
    return new Map(await Promise.all(runIds.map(async (id) => [id, await this.#runs.getStepStates(id)] as const)));
  }

  async cancelRuns(
    target: CancelTarget,
    now: number,
  ): Promise<{
    /** PENDING runs ended ABORTED by this call. */
    aborted: string[];
    /** STARTED runs flagged for their owner to stop. */
    flagged: string[];
  }> {
    this.#check();
    return this.#runs.cancelRuns(target, now);
  }

  async releaseRuns(owner: string, keep: readonly string[]): Promise<string[]> {
    this.#check();
    return this.#runs.releaseRuns(owner, keep);
  }

  async recoverExpiredRuns(requeue: (job: JobRecord) => boolean, now: number): Promise<RecoveredRun[]> {
    this.#check();
    return this.#runs.recoverExpiredRuns(requeue, now);
  }

  async deleteRuns(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    this.#check();
    return this.#runs.deleteRuns(jobId, which);
  }

  #check(): void {
    if (this.#closed) throw new StorageError('STORAGE_CLOSED', 'The storage is closed', { hint: 'Create a new MemoryStorage' });
  }
}

/** `parts` with whatever is not already one of `job`'s own (frozen) parts copied in. */
function ownGrid(parts: Pick<BatchRecord, 'grid' | 'selection'>, job: JobRecord): Pick<BatchRecord, 'grid' | 'selection'> {
  return {
    grid: parts.grid === job.grid ? job.grid : structuredClone(parts.grid),
    selection: parts.selection === job.selection ? job.selection : structuredClone(parts.selection),
  };
}
