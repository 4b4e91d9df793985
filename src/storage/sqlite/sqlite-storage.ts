import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../../clock.js';
import { SystemClock } from '../../clock.js';
import { OptionsError, StorageError } from '../../errors.js';
import type { JobStatus } from '../../status.js';
import { jobCursor, parseIndexCursor, parseJobCursor } from '../shared/cursors.js';
import type {
  CancelTarget, ClaimInput, CreateBatchInput, FinishAndClaimResult, FinishRun, HeartbeatResult, JobExpectation, JobFilter, LedgerPrune, LedgerRetention, PageRequest, RecoveredRun, RunEnd, RunFilter, SkipInput, Storage,
} from '../port.js';
import type { BatchRecord, JobPatch, JobRecord, Json, NewRun, OccurrenceRecord, Page, RunRecord, StepStateRecord } from '../records.js';
import { checkBatchInput, checkLedgerRetention, checkRunIds } from '../shared/checks.js';
import { applyJobPatch, batchGrid, batchPatch, claimable, skipChange, updateAllowed } from '../shared/rules.js';
import type { BatchRow, JobRow, LedgerRow } from '../sql/rows.js';
import { toBatch, toJob, toOccurrence } from '../sql/rows.js';
import { ParsedParts, type JobHeadRow } from '../sql/parsed-parts.js';
import { Db, sqliteError } from './db.js';
import { SqliteRuns } from './runs.js';
import { SELECT_JOB, SELECT_JOB_HEAD, insertJobRows, readJob, writeJob } from './job-rows.js';
import { SELECT_BATCH, deleteJobBatches, insertBatchRows, selectBatchHead } from './batch-rows.js';
import { integrityProblems, migrate } from './schema.js';

/** Options of {@link SqliteStorage}. */
export interface SqliteStorageOptions {
  /** The database file; created when missing. Several processes on one machine may share it. */
  path: string;
  /**
   * The clock leases are measured on. SQLite has no clock of its own, so the host clock
   * is the store's clock: processes sharing the file must share one machine (and clock).
   * @default new SystemClock()
   */
  clock?: Clock;
  /**
   * How long a write waits for another connection's write lock before failing with
   * `STORAGE_BUSY`. The wait blocks this process's event loop (better-sqlite3 is synchronous).
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * `NORMAL` survives any crash of a process (committed work is in the WAL) and may lose
   * the last commits on a power loss; `FULL` also survives power loss, at a cost per commit.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * What `init()` checks before use, so a damaged file fails at once with `STORAGE_CORRUPT`
   * instead of at some later read: `quick` (`PRAGMA quick_check`, linear in the file size,
   * about 0.1 s per 100 MB here), `full` (`integrity_check`, slower), or `off`.
   * @default 'quick'
   */
  integrityCheck?: 'quick' | 'full' | 'off';
}

/**
 * Durable storage in one SQLite file (better-sqlite3, WAL mode): the embedded default.
 * Every multi-row change is one `BEGIN IMMEDIATE` transaction, so several processes on
 * one machine may share the file; leases use the host clock (the `clock` option).
 * `subscribe` is not offered: other processes learn of cancels through heartbeats.
 */
export class SqliteStorage implements Storage {
  readonly #options: Required<SqliteStorageOptions>;
  #db: Db | undefined;
  #runs: SqliteRuns | undefined;
  #closed = false;
  /** Parsed JSON parts of jobs and batches read here, by version: a run's reads do not re-parse them. */
  readonly #parts = new ParsedParts();

  /**
   * Checks the options; the file is opened by `init()`.
   * @param options the database file, and the clock, lock wait, durability and start-up check
   * @throws OptionsError (from `pipeline-jobs`) `OPTIONS_INVALID` naming the bad option
   */
  constructor(options: SqliteStorageOptions) {
    if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
      throw new OptionsError('OPTIONS_INVALID', 'Expected `path` to be a non-empty string', { path: 'path', value: (options as { path?: unknown } | null)?.path, hint: 'Give the database file, e.g. `./jobs.sqlite`' });
    }
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isSafeInteger(busy) || busy < 0) throw new OptionsError('OPTIONS_INVALID', 'Expected `busyTimeoutMs` to be a whole number >= 0', { path: 'busyTimeoutMs', value: busy });
    const sync = options.synchronous ?? 'NORMAL';
    if (sync !== 'NORMAL' && sync !== 'FULL') throw new OptionsError('OPTIONS_INVALID', "Expected `synchronous` to be 'NORMAL' or 'FULL'", { path: 'synchronous', value: sync });
    const check = options.integrityCheck ?? 'quick';
    if (!['quick', 'full', 'off'].includes(check)) throw new OptionsError('OPTIONS_INVALID', "Expected `integrityCheck` to be 'quick', 'full' or 'off'", { path: 'integrityCheck', value: check });
    this.#options = { path: options.path, clock: options.clock ?? new SystemClock(), busyTimeoutMs: busy, synchronous: sync, integrityCheck: check };
  }

  /** Opens the file, checks it, and creates or migrates the schema. Idempotent. */
  async init(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#db) return;
    const { path, busyTimeoutMs, synchronous, integrityCheck, clock } = this.#options;
    let raw: Database.Database | undefined;
    try {
      // The file's folder is created like the file itself, so a fresh host can start with one option.
      if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
      raw = new Database(path, { timeout: busyTimeoutMs });
      raw.pragma(`busy_timeout = ${busyTimeoutMs}`);
      raw.pragma('journal_mode = WAL');
      raw.pragma(`synchronous = ${synchronous}`);
      if (integrityCheck !== 'off') {
        const problems = integrityProblems(raw, integrityCheck);
        if (problems.length > 0) {
          throw new StorageError('STORAGE_CORRUPT', `The SQLite file is damaged: ${problems.slice(0, 3).join('; ')}`, {
            path,
            value: problems.length,
            hint: 'Restore it from a backup, or move it aside to start with an empty store',
          });
        }
      }
      migrate(raw, clock.now());
    } catch (error) {
      raw?.close();
      throw sqliteError(error, path);
    }
    this.#db = new Db(raw);
    this.#runs = new SqliteRuns(this.#db, clock);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const db = this.#db;
    this.#db = undefined;
    db?.flushGroup(); // the grouped writes already asked for (finishRun, putStepStates)
    db?.raw.close();
  }

  async insertJob(job: JobRecord): Promise<JobRecord> {
    return this.#run((db) =>
      db.write(() => {
        // In one write transaction: another process's insert with the same key either
        // committed before (found here) or waits for this one (and then finds it).
        if (job.key !== null) {
          const holder = db.stmt('SELECT id FROM pj_jobs WHERE job_key = ?').get(job.key) as { id: string } | undefined;
          if (holder) return readJob(db, holder.id)!;
        }
        try {
          insertJobRows(db, job);
        } catch (error) {
          if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StorageError('STORAGE_DUPLICATE_ID', 'A job with this id exists', { path: 'id', value: job.id, cause: error });
          throw error;
        }
        return readJob(db, job.id)!;
      }),
    );
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.#run((db) => {
      const head = db.stmt(`${SELECT_JOB_HEAD} WHERE j.id = ?`).get(id) as JobHeadRow | undefined;
      if (!head) return undefined;
      const hit = this.#parts.job(head);
      if (hit) return hit;
      // Not held at this revision: the whole row (read again: another process may have changed it since).
      const row = db.stmt(`${SELECT_JOB} WHERE j.id = ?`).get(id) as JobRow | undefined;
      return row && this.#parts.rememberJob(row);
    });
  }

  async listJobs(filter: JobFilter = {}): Promise<Page<JobRecord>> {
    return this.#run((db) => {
      const limit = filter.limit ?? 100;
      const [at, id] = filter.cursor ? parseJobCursor(filter.cursor) : [null, null];
      const rows = db
        .stmt(
          `${SELECT_JOB} WHERE (? IS NULL OR j.project_id = ?) AND (? IS NULL OR j.job_key = ?) AND (? IS NULL OR j.snapshot_id = ?) AND (? IS NULL OR j.status IN (SELECT value FROM json_each(?)))
           AND (? IS NULL OR j.created_at < ? OR (j.created_at = ? AND j.id < ?)) ORDER BY j.created_at DESC, j.id DESC LIMIT ?`,
        )
        .all(filter.projectId ?? null, filter.projectId ?? null, filter.key ?? null, filter.key ?? null, ...twice(filter.snapshotId ?? null), ...twice(filter.status ? JSON.stringify(filter.status) : null), at, at, at, id, limit + 1) as JobRow[];
      const items = rows.slice(0, limit).map(toJob);
      return { items, nextCursor: rows.length > limit && items.length > 0 ? jobCursor(items[items.length - 1]!) : null };
    });
  }

  async listJobIds(statuses: readonly JobStatus[]): Promise<string[]> {
    return this.#run((db) => (db.stmt('SELECT id FROM pj_jobs WHERE status IN (SELECT value FROM json_each(?))').all(JSON.stringify(statuses)) as Array<{ id: string }>).map((r) => r.id));
  }

  async updateJob(id: string, patch: JobPatch, expect: JobExpectation, now: number): Promise<JobRecord | undefined> {
    return this.#run((db) =>
      db.write(() => {
        const job = readJob(db, id);
        if (!job || !updateAllowed(job, patch, expect)) return undefined;
        const next = applyJobPatch(job, patch, now);
        writeJob(db, next, job);
        return next;
      }),
    );
  }

  async deleteJob(id: string): Promise<string[]> {
    return this.#run((db) =>
      db.write(() => {
        const ids = (db.stmt('SELECT id FROM pj_runs WHERE job_id = ? ORDER BY run_index').all(id) as Array<{ id: string }>).map((r) => r.id);
        db.stmt('DELETE FROM pj_steps WHERE run_id IN (SELECT id FROM pj_runs WHERE job_id = ?)').run(id);
        for (const table of ['pj_runs', 'pj_ledger']) db.stmt(`DELETE FROM ${table} WHERE job_id = ?`).run(id);
        deleteJobBatches(db, id);
        db.stmt('DELETE FROM pj_job_parts WHERE job_id = ?').run(id);
        db.stmt('DELETE FROM pj_jobs WHERE id = ?').run(id);
        this.#parts.forget(id);
        return ids;
      }),
    );
  }

  async createBatch(input: CreateBatchInput): Promise<BatchRecord | undefined> {
    checkBatchInput(input);
    return this.#run((db) =>
      db.write(() => {
        const job = readJob(db, input.jobId);
        if (!job || !input.expectStatus.includes(job.status) || !claimable(job, input)) return undefined;
        // The cursor rule above is the claim; the unique batch row is a second guard while it lasts.
        if (input.trigger === 'schedule' && db.stmt("SELECT 1 FROM pj_batches WHERE job_id = ? AND occurrence_at = ? AND trigger = 'schedule'").get(job.id, input.occurrenceAt)) return undefined;
        const batch: BatchRecord = {
          jobId: job.id, batchIndex: job.batchCount, trigger: input.trigger, triggerKind: input.triggerKind ?? input.trigger, occurrenceAt: input.occurrenceAt, runCount: input.runCount,
          writtenRuns: 0, firstRunIndex: job.runCount, envVars: job.envVars, ...batchGrid(job, input), createdAt: input.now,
        };
        insertBatchRows(db, batch);
        const patched = applyJobPatch(job, batchPatch(job, input), input.now);
        writeJob(db, { ...patched, batchCount: job.batchCount + 1, runCount: job.runCount + input.runCount }, job);
        if (input.occurrenceAt !== null) {
          appendLedger(db, { jobId: job.id, action: 'started', reason: null, at: input.occurrenceAt, lastAt: input.occurrenceAt, count: 1, batchIndex: batch.batchIndex });
          pruneLedger(db, job.id, input.ledgerRetention, input.now);
        }
        return batch;
      }),
    );
  }

  async insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<boolean> {
    return this.#run(() => this.#runs!.insertRuns(jobId, batchIndex, runs, now));
  }

  async getBatch(jobId: string, batchIndex: number): Promise<BatchRecord | undefined> {
    return this.#run((db) => {
      const head = selectBatchHead(db, jobId, batchIndex);
      if (!head) return undefined;
      const hit = this.#parts.batch(head);
      if (hit) return hit;
      const row = db.stmt(`${SELECT_BATCH} WHERE b.job_id = ? AND b.batch_index = ?`).get(jobId, batchIndex) as BatchRow | undefined;
      return row && this.#parts.rememberBatch(row);
    });
  }

  async listIncompleteBatches(): Promise<BatchRecord[]> {
    return this.#run((db) =>
      (
        db
          .stmt(
            `${SELECT_BATCH} JOIN pj_jobs j ON j.id = b.job_id
             WHERE b.written_runs < b.run_count AND j.status IN ('PENDING', 'STARTED', 'PAUSED') ORDER BY b.job_id, b.batch_index`,
          )
          .all() as BatchRow[]
      ).map(toBatch),
    );
  }

  async recordSkips(jobId: string, skips: readonly SkipInput[], advance?: { scheduleCursor: number; expectVersion: number; now: number }, retention?: LedgerPrune): Promise<boolean> {
    checkLedgerRetention(retention, 'retention');
    return this.#run((db) =>
      db.write(() => {
        const job = readJob(db, jobId);
        if (!job) throw new StorageError('STORAGE_NOT_FOUND', 'No such job', { path: 'jobId', value: jobId });
        if (advance) {
          if (job.version !== advance.expectVersion) return false;
          writeJob(db, applyJobPatch(job, { scheduleCursor: Math.max(job.scheduleCursor ?? -Infinity, advance.scheduleCursor) }, advance.now), job);
        }
        for (const skip of skips) {
          const lastRow = db.stmt('SELECT * FROM pj_ledger WHERE job_id = ? ORDER BY ord DESC LIMIT 1').get(jobId) as LedgerRow | undefined;
          const change = skipChange(lastRow && toOccurrence(lastRow), jobId, skip);
          if ('extend' in change) db.stmt('UPDATE pj_ledger SET last_at = ?, count = ? WHERE job_id = ? AND ord = ?').run(change.extend.lastAt, change.extend.count, jobId, lastRow!.ord);
          else appendLedger(db, change.append);
        }
        if (retention) pruneLedger(db, jobId, retention, retention.now);
        return true;
      }),
    );
  }

  async listOccurrences(jobId: string, page: PageRequest = {}): Promise<Page<OccurrenceRecord>> {
    return this.#run((db) => {
      const limit = page.limit ?? 100;
      const after = page.cursor ? parseIndexCursor(page.cursor) : -1;
      const rows = db.stmt('SELECT * FROM pj_ledger WHERE job_id = ? AND ord > ? ORDER BY ord LIMIT ?').all(jobId, after, limit + 1) as LedgerRow[];
      const items = rows.slice(0, limit);
      return { items: items.map(toOccurrence), nextCursor: rows.length > limit && items.length > 0 ? String(items[items.length - 1]!.ord) : null };
    });
  }

  async claimRuns(input: ClaimInput): Promise<RunRecord[]> {
    return this.#run(() => this.#runs!.claim(input));
  }

  async releaseRuns(owner: string, keep: readonly string[]): Promise<string[]> {
    return this.#run(() => this.#runs!.release(owner, keep));
  }

  async heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult> {
    return this.#run(() => this.#runs!.heartbeat(owner, runIds, leaseMs));
  }

  async setProcessInfo(runId: string, owner: string, info: Json): Promise<void> {
    this.#run(() => this.#runs!.setProcessInfo(runId, owner, info));
  }

  async finishRun(runId: string, end: FinishRun): Promise<boolean> {
    return this.#run(() => this.#runs!.finish(runId, end));
  }

  async finishAndClaim(ends: readonly RunEnd[], claim: ClaimInput): Promise<FinishAndClaimResult> {
    return this.#run(() => this.#runs!.finishAndClaim(ends, claim));
  }

  async cancelRuns(target: CancelTarget, now: number): Promise<{
    /** The PENDING runs that became ABORTED. */
    aborted: string[];
    /** The STARTED runs flagged `cancelRequested` for their owner. */
    flagged: string[];
  }> {
    return this.#run(() => this.#runs!.cancel(target, now));
  }

  async recoverExpiredRuns(requeue: (job: JobRecord) => boolean, now: number): Promise<RecoveredRun[]> {
    return this.#run(() => this.#runs!.recover(requeue, now));
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.#run(() => this.#runs!.get(id));
  }

  async listRuns(jobId: string, filter: RunFilter = {}): Promise<Page<RunRecord>> {
    return this.#run(() => this.#runs!.list(jobId, filter));
  }

  async putStepStates(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    await this.#run(() => this.#runs!.putSteps(runId, steps));
  }

  async getStepStates(runId: string): Promise<StepStateRecord[]> {
    return this.#run(() => this.#runs!.getSteps(runId));
  }

  async getStepStatesOf(runIds: readonly string[]): Promise<Map<string, StepStateRecord[]>> {
    checkRunIds(runIds);
    return this.#run(() => this.#runs!.getStepsOf(runIds));
  }

  async deleteRuns(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    return this.#run(() => this.#runs!.delete(jobId, which));
  }

  /** Runs `fn` on the open connection, turning driver errors into typed ones. */
  #run<T>(fn: (db: Db) => T): T {
    if (this.#closed) throw closedError();
    if (!this.#db) throw new StorageError('STORAGE_NOT_INITIALISED', 'The storage is not initialised', { hint: 'Call `await storage.init()` first' });
    try {
      return fn(this.#db);
    } catch (error) {
      throw sqliteError(error, this.#options.path);
    }
  }
}

function closedError(): StorageError {
  return new StorageError('STORAGE_CLOSED', 'The storage is closed', { hint: 'Create a new SqliteStorage' });
}

function appendLedger(db: Db, r: OccurrenceRecord): void {
  db.stmt(
    `INSERT INTO pj_ledger (job_id, ord, action, reason, at, last_at, count, batch_index)
     VALUES (?, (SELECT coalesce(max(ord), -1) + 1 FROM pj_ledger WHERE job_id = ?), ?, ?, ?, ?, ?, ?)`,
  ).run(r.jobId, r.jobId, r.action, r.reason, r.at, r.lastAt, r.count, r.batchIndex);
}

/**
 * Prunes a job's ledger under `retention` (the rule of `ledgerVictims`, in SQL): by count
 * through the position range, by age through `last_at`; the newest record always stays.
 */
function pruneLedger(db: Db, jobId: string, retention: LedgerRetention | undefined, now: number): void {
  if (!retention || (retention.maxRecords === undefined && retention.maxAgeMs === undefined)) return;
  db.stmt(
    `DELETE FROM pj_ledger WHERE job_id = ? AND ord < (SELECT max(ord) FROM pj_ledger WHERE job_id = ?)
     AND (ord <= (SELECT max(ord) FROM pj_ledger WHERE job_id = ?) - ? OR last_at < ?)`,
  ).run(jobId, jobId, jobId, retention.maxRecords ?? null, retention.maxAgeMs === undefined ? null : now - retention.maxAgeMs);
}

function twice<T>(v: T): [T, T] {
  return [v, v];
}
