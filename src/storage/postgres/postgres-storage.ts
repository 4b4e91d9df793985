import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import type { Clock } from '../../clock.js';
import { SystemClock } from '../../clock.js';
import { OptionsError, StorageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import type { JobStatus } from '../../status.js';
import { jobCursor, parseIndexCursor, parseJobCursor } from '../shared/cursors.js';
import type {
  CancelTarget, ClaimInput, CreateBatchInput, FinishAndClaimResult, FinishRun, HeartbeatResult, JobExpectation, JobFilter, LedgerPrune, PageRequest, RecoveredRun, RunEnd, RunFilter, SkipInput, Storage, StorageEvent,
} from '../port.js';
import type { BatchRecord, JobPatch, JobRecord, Json, NewRun, OccurrenceRecord, Page, RunRecord, StepStateRecord } from '../records.js';
import { checkBatchInput, checkLedgerRetention, checkRunIds } from '../shared/checks.js';
import { applyJobPatch, batchGrid, batchPatch, claimable, skipChange, updateAllowed } from '../shared/rules.js';
import type { BatchRow, JobRow, LedgerRow } from '../sql/rows.js';
import { JOB_COLUMNS, json, jobValues, toBatch, toJob, toOccurrence } from '../sql/rows.js';
import { BATCH_HEAD_COLUMNS, ParsedParts, type BatchHeadRow } from '../sql/parsed-parts.js';
import { DeltaTally, selectJobs } from './counters.js';
import { appendLedger, lockedJob, pruneLedger, readJob, writeJob } from './job-rows.js';
import { RunFinisher } from './finisher.js';
import { PgListener } from './listener.js';
import type { Tables } from './pg.js';
import { notify, pgError, tables, transaction } from './pg.js';
import { PgRuns } from './runs.js';
import { migrate } from './schema.js';

/** Options of {@link PostgresStorage}. Give exactly one of `pool` and `connectionString`. */
export interface PostgresStorageOptions {
  /** A pool the host owns: `close()` leaves it open (the host ends it). Give it or `connectionString`. @default undefined */
  pool?: Pool;
  /**
   * Where to connect; the store then creates its own pool of `poolSize` and ends it on `close()`.
   * Give it or `pool`.
   * @default undefined
   */
  connectionString?: string;
  /**
   * Connections of the store's own pool (with `connectionString`); one more is held while
   * someone is subscribed.
   * @default 10
   */
  poolSize?: number;
  /**
   * The schema holding the tables (created when missing); lower-case letters, digits and
   * `_`, at most 50 characters. Stores in different schemas are independent.
   * @default 'pipeline_jobs'
   */
  schema?: string;
  /**
   * Whether writes announce themselves with NOTIFY for {@link PostgresStorage.subscribe}
   * in other processes (a cancel reaches the process running the run at once).
   * @default true
   */
  notify?: boolean;
  /**
   * `synchronous_commit` of the store's own pool (with `connectionString`). `on` makes
   * every claim and finish durable before it returns: the rate is then bounded by the
   * disk's flush time (a claim of up to N runs per flush). `off` returns before the flush
   * (about 5x faster here) and keeps every guarantee across crashes of scheduler
   * processes, but a crash of the database server itself may lose the last few hundred
   * milliseconds of commits: a claim lost that way lets another process run the run again.
   * With a pool of the host's, set it there (`ALTER ROLE ... SET synchronous_commit`).
   * @default 'on'
   */
  synchronousCommit?: 'on' | 'off';
  /**
   * Timers for reconnecting the notification listener. Leases never use it: they come
   * from the database's `now()`.
   * @default new SystemClock()
   */
  clock?: Clock;
  /**
   * How long to wait before reconnecting a lost notification listener.
   * @default 1000
   */
  reconnectMs?: number;
  /**
   * How long the store's own pool (with `connectionString`) waits for a connection: to
   * open one (a server that accepts and never answers) or for a free one of the pool.
   * Past it the operation fails with `STORAGE_UNAVAILABLE`. `0` waits for ever.
   * @default 10_000
   */
  connectTimeoutMs?: number;
  /**
   * How long one statement of the store's own pool may take. The server cancels it after
   * this long (`statement_timeout`), and the client gives up one second later when the
   * server does not answer at all (stopped, frozen, or the network gone: `query_timeout`).
   * Either way the operation fails with `STORAGE_UNAVAILABLE`. `0` waits for ever. With a
   * pool of the host's, set `statement_timeout`, `query_timeout` and
   * `connectionTimeoutMillis` on that pool.
   * @default 30_000
   */
  queryTimeoutMs?: number;
  /**
   * Where connection problems of the listener and listener errors are reported.
   * @default silentLogger
   */
  logger?: Logger;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,49}$/;

/** A busy job's counter deltas are folded into its row after this many delta rows from one process. */
const FOLD_EVERY = 256;

/**
 * Durable storage in PostgreSQL, shared by scheduler processes on one machine or many.
 * Pending runs are claimed with `FOR UPDATE SKIP LOCKED` and leases on the database's
 * clock, one statement per claim; each occurrence starts one batch (a unique key per job
 * and occurrence); job counters move as delta rows, so claims and finishes of one job
 * do not queue on its row (counters.ts); a job's concurrency limit is counted under its
 * row lock, taken only for jobs that have one; cancels and job changes are announced with
 * LISTEN/NOTIFY ({@link PostgresStorage.subscribe}).
 */
export class PostgresStorage implements Storage {
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #t: Tables;
  /** Parsed JSON parts of jobs and batches read here, by version: a run's reads do not re-parse them. */
  readonly #parts = new ParsedParts();
  readonly #notify: boolean;
  readonly #clock: Clock;
  readonly #runs: PgRuns;
  readonly #finisher: RunFinisher;
  readonly #listener: PgListener;
  #ready = false;
  #closed = false;

  /**
   * Checks the options and makes the connection pool (when no `pool` is given); nothing
   * connects until `init()`.
   * @param options exactly one of `pool` and `connectionString`, and the schema, pool size and timeouts
   * @throws OptionsError (from `pipeline-jobs`) `OPTIONS_INVALID` naming the bad option
   */
  constructor(options: PostgresStorageOptions) {
    if (options === null || typeof options !== 'object') throw new OptionsError('OPTIONS_INVALID', 'Expected an options object', { path: '$', value: options });
    if ((options.pool === undefined) === (options.connectionString === undefined)) {
      throw new OptionsError('OPTIONS_INVALID', 'Give exactly one of `pool` and `connectionString`', { path: 'pool', value: Object.keys(options), hint: 'e.g. { connectionString: "postgres://postgres@127.0.0.1:5432/test" }' });
    }
    const schema = options.schema ?? 'pipeline_jobs';
    if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
      throw new OptionsError('OPTIONS_INVALID', 'Expected `schema` to be lower-case letters, digits and _ (at most 50)', { path: 'schema', value: schema });
    }
    const poolSize = options.poolSize ?? 10;
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new OptionsError('OPTIONS_INVALID', 'Expected `poolSize` to be a whole number >= 1', { path: 'poolSize', value: poolSize });
    const reconnectMs = options.reconnectMs ?? 1000;
    if (!Number.isFinite(reconnectMs) || reconnectMs < 0) throw new OptionsError('OPTIONS_INVALID', 'Expected `reconnectMs` to be a number >= 0', { path: 'reconnectMs', value: reconnectMs });
    const logger = options.logger ?? silentLogger;
    this.#ownsPool = options.pool === undefined;
    const sync = options.synchronousCommit ?? 'on';
    if (sync !== 'on' && sync !== 'off') throw new OptionsError('OPTIONS_INVALID', "Expected `synchronousCommit` to be 'on' or 'off'", { path: 'synchronousCommit', value: sync });
    if (sync === 'off' && options.pool) {
      throw new OptionsError('OPTIONS_INVALID', '`synchronousCommit` applies to the store\'s own pool only', { path: 'synchronousCommit', value: sync, hint: 'Set synchronous_commit on the pool you give, or pass `connectionString`' });
    }
    const connectTimeoutMs = timeoutOption(options.connectTimeoutMs, 10_000, 'connectTimeoutMs');
    const queryTimeoutMs = timeoutOption(options.queryTimeoutMs, 30_000, 'queryTimeoutMs');
    const settings = [...(sync === 'off' ? ['-c synchronous_commit=off'] : []), ...(queryTimeoutMs > 0 ? [`-c statement_timeout=${queryTimeoutMs}`] : [])];
    this.#pool =
      options.pool ??
      new pg.Pool({
        connectionString: options.connectionString,
        max: poolSize,
        connectionTimeoutMillis: connectTimeoutMs,
        // The server's statement_timeout cancels cleanly first; this catches a server that does not answer at all.
        ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs + 1_000 } : {}),
        // Notices a peer that vanished (machine or network gone) on an idle or LISTEN connection.
        keepAlive: true,
        ...(settings.length > 0 ? { options: settings.join(' ') } : {}),
      });
    // An idle client that loses its connection makes the pool emit `error`, which would
    // crash the host without a listener; the pool already drops that client.
    this.#pool.on('error', (error) => logger.warn('idle PostgreSQL connection lost', { error }));
    this.#t = tables(schema);
    this.#notify = options.notify ?? true;
    this.#clock = options.clock ?? new SystemClock();
    const tally = new DeltaTally(FOLD_EVERY);
    this.#runs = new PgRuns(this.#pool, this.#t, this.#notify, tally);
    this.#finisher = new RunFinisher(this.#pool, this.#t, (e) => pgError(e, 'finishRun'), tally, logger);
    this.#listener = new PgListener(this.#pool, this.#t, this.#clock, logger, reconnectMs);
  }

  /** Creates or migrates the schema (under an advisory lock); refuses a newer one. Idempotent. */
  async init(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#ready) return;
    try {
      await migrate(this.#pool, this.#t, this.#clock.now());
    } catch (error) {
      throw pgError(error, this.#t.schema);
    }
    this.#ready = true;
  }

  /** Stops notifications and, when the store created the pool, ends it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#finisher.idle();
    await this.#runs.idle();
    await this.#listener.stop();
    if (this.#ownsPool) await this.#pool.end();
  }

  /** LISTEN/NOTIFY: events from every process using this schema (see {@link Storage.subscribe}). */
  async subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>> {
    return this.#do('subscribe', () => this.#listener.add(listener));
  }

  async insertJob(job: JobRecord): Promise<JobRecord> {
    return this.#do('insertJob', async () => {
      // ON CONFLICT on the key's unique index: of two inserts with one key, the second
      // waits for the first to commit, then inserts nothing; the holder is read after.
      const onKey = job.key === null ? '' : ' ON CONFLICT (job_key) WHERE job_key IS NOT NULL DO NOTHING';
      let inserted: number;
      try {
        const r = await this.#pool.query(`INSERT INTO ${this.#t.jobs} (${JOB_COLUMNS.join(', ')}) VALUES (${JOB_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})${onKey}`, jobValues(job));
        inserted = r.rowCount ?? 0;
      } catch (error) {
        if ((error as { code?: string; constraint?: string }).code === '23505') throw new StorageError('STORAGE_DUPLICATE_ID', 'A job with this id exists', { path: 'id', value: job.id, cause: error });
        throw error;
      }
      if (inserted === 1) return (await readJob(this.#pool, this.#t, job.id, this.#parts))!;
      const { rows } = await this.#pool.query<JobRow>(`${selectJobs(this.#t)} WHERE j.job_key = $1`, [job.key]);
      if (!rows[0]) throw new StorageError('STORAGE_CONFLICT', 'The job holding this key was deleted while this one was inserted', { path: 'key', value: job.key, hint: 'Retry the create' });
      return toJob(rows[0]);
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.#do('getJob', () => readJob(this.#pool, this.#t, id, this.#parts));
  }

  async listJobs(filter: JobFilter = {}): Promise<Page<JobRecord>> {
    return this.#do('listJobs', async () => {
      const limit = filter.limit ?? 100;
      const [at, id] = filter.cursor ? parseJobCursor(filter.cursor) : [null, null];
      const { rows } = await this.#pool.query<JobRow>(
        `${selectJobs(this.#t)} WHERE ($1::text IS NULL OR j.project_id = $1) AND ($2::text[] IS NULL OR j.status = ANY($2::text[]))
         AND ($3::bigint IS NULL OR (j.created_at, j.id) < ($3, $4::text)) AND ($6::text IS NULL OR j.job_key = $6)
         AND ($7::text IS NULL OR j.snapshot_id = $7) ORDER BY j.created_at DESC, j.id DESC LIMIT $5`,
        [filter.projectId ?? null, filter.status ?? null, at, id, limit + 1, filter.key ?? null, filter.snapshotId ?? null],
      );
      const items = rows.slice(0, limit).map(toJob);
      return { items, nextCursor: rows.length > limit && items.length > 0 ? jobCursor(items[items.length - 1]!) : null };
    });
  }

  async listJobIds(statuses: readonly JobStatus[]): Promise<string[]> {
    return this.#do('listJobIds', async () => (await this.#pool.query<{ id: string }>(`SELECT id FROM ${this.#t.jobs} WHERE status = ANY($1::text[])`, [statuses])).rows.map((r) => r.id));
  }

  async updateJob(id: string, patch: JobPatch, expect: JobExpectation, now: number): Promise<JobRecord | undefined> {
    return this.#tx('updateJob', async (c) => {
      const job = await lockedJob(c, this.#t, id);
      if (!job || !updateAllowed(job, patch, expect)) return undefined;
      const next = applyJobPatch(job, patch, now);
      await writeJob(c, this.#t, next);
      await this.#announce(c, [{ type: 'job-changed', jobId: id }]);
      return next;
    });
  }

  async deleteJob(id: string): Promise<string[]> {
    const t = this.#t;
    return this.#tx('deleteJob', async (c) => {
      // Batches first: that waits for a chunk of runs being written (it holds its batch row),
      // so the runs deleted next include that chunk.
      await c.query(`DELETE FROM ${t.batches} WHERE job_id = $1`, [id]);
      await c.query(`DELETE FROM ${t.steps} WHERE run_id IN (SELECT id FROM ${t.runs} WHERE job_id = $1)`, [id]);
      const { rows } = await c.query<{ id: string }>(`DELETE FROM ${t.runs} WHERE job_id = $1 RETURNING id, run_index`, [id]);
      for (const table of [t.ledger, t.counts]) await c.query(`DELETE FROM ${table} WHERE job_id = $1`, [id]);
      const gone = await c.query(`DELETE FROM ${t.jobs} WHERE id = $1`, [id]);
      if ((gone.rowCount ?? 0) > 0) await this.#announce(c, [{ type: 'job-changed', jobId: id }]);
      this.#parts.forget(id);
      return rows.map((r) => r.id);
    });
  }

  async createBatch(input: CreateBatchInput): Promise<BatchRecord | undefined> {
    checkBatchInput(input);
    const t = this.#t;
    return this.#tx('createBatch', async (c) => {
      // The job row is locked: claims of one job are serialised, so the cursor rule holds.
      const job = await lockedJob(c, t, input.jobId);
      if (!job || !input.expectStatus.includes(job.status) || !claimable(job, input)) return undefined;
      const batch: BatchRecord = {
        jobId: job.id, batchIndex: job.batchCount, trigger: input.trigger, triggerKind: input.triggerKind ?? input.trigger, occurrenceAt: input.occurrenceAt, runCount: input.runCount,
        writtenRuns: 0, firstRunIndex: job.runCount, envVars: job.envVars, ...batchGrid(job, input), createdAt: input.now,
      };
      // The cursor rule above is the claim; the unique key (job, occurrence) is a second guard while the row lasts.
      const inserted = await c.query(
        `INSERT INTO ${t.batches} (job_id, batch_index, trigger, trigger_kind, occurrence_at, run_count, written_runs, first_run_index, env_vars, grid, selection, created_at)
         VALUES ($1, $2, $3, $11, $4, $5, 0, $6, $7, $8, $9, $10) ON CONFLICT (job_id, occurrence_at) WHERE trigger = 'schedule' DO NOTHING`,
        [job.id, batch.batchIndex, batch.trigger, batch.occurrenceAt, batch.runCount, batch.firstRunIndex, json(batch.envVars), json(batch.grid), json(batch.selection), batch.createdAt, batch.triggerKind],
      );
      if (inserted.rowCount === 0) return undefined;
      const patched = applyJobPatch(job, batchPatch(job, input), input.now);
      await writeJob(c, t, { ...patched, batchCount: job.batchCount + 1, runCount: job.runCount + input.runCount });
      if (input.occurrenceAt !== null) {
        await appendLedger(c, t, { jobId: job.id, action: 'started', reason: null, at: input.occurrenceAt, lastAt: input.occurrenceAt, count: 1, batchIndex: batch.batchIndex });
        await pruneLedger(c, t, job.id, input.ledgerRetention, input.now);
      }
      await this.#announce(c, [{ type: 'job-changed', jobId: job.id }]);
      return batch;
    });
  }

  async insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<boolean> {
    return this.#do('insertRuns', () => this.#runs.insertRuns(jobId, batchIndex, runs, now));
  }

  async getBatch(jobId: string, batchIndex: number): Promise<BatchRecord | undefined> {
    return this.#do('getBatch', async () => {
      const where = `FROM ${this.#t.batches} WHERE job_id = $1 AND batch_index = $2`;
      const head = (await this.#pool.query<BatchHeadRow>(`SELECT ${BATCH_HEAD_COLUMNS.join(', ')} ${where}`, [jobId, batchIndex])).rows[0];
      if (!head) return undefined;
      const hit = this.#parts.batch(head);
      if (hit) return hit;
      const { rows } = await this.#pool.query<BatchRow>(`SELECT * ${where}`, [jobId, batchIndex]);
      return rows[0] && this.#parts.rememberBatch(rows[0]);
    });
  }

  async listIncompleteBatches(): Promise<BatchRecord[]> {
    const t = this.#t;
    return this.#do('listIncompleteBatches', async () =>
      (
        await this.#pool.query<BatchRow>(
          `SELECT b.* FROM ${t.batches} b JOIN ${t.jobs} j ON j.id = b.job_id
           WHERE b.written_runs < b.run_count AND j.status IN ('PENDING', 'STARTED', 'PAUSED') ORDER BY b.job_id, b.batch_index`,
        )
      ).rows.map(toBatch),
    );
  }

  async recordSkips(jobId: string, skips: readonly SkipInput[], advance?: { scheduleCursor: number; expectVersion: number; now: number }, retention?: LedgerPrune): Promise<boolean> {
    checkLedgerRetention(retention, 'retention');
    const t = this.#t;
    return this.#tx('recordSkips', async (c) => {
      const job = await lockedJob(c, t, jobId);
      if (!job) throw new StorageError('STORAGE_NOT_FOUND', 'No such job', { path: 'jobId', value: jobId });
      if (advance) {
        if (job.version !== advance.expectVersion) return false;
        await writeJob(c, t, applyJobPatch(job, { scheduleCursor: Math.max(job.scheduleCursor ?? -Infinity, advance.scheduleCursor) }, advance.now));
      }
      for (const skip of skips) {
        const { rows } = await c.query<LedgerRow>(`SELECT * FROM ${t.ledger} WHERE job_id = $1 ORDER BY ord DESC LIMIT 1`, [jobId]);
        const change = skipChange(rows[0] && toOccurrence(rows[0]), jobId, skip);
        if ('extend' in change) await c.query(`UPDATE ${t.ledger} SET last_at = $3, count = $4 WHERE job_id = $1 AND ord = $2`, [jobId, rows[0]!.ord, change.extend.lastAt, change.extend.count]);
        else await appendLedger(c, t, change.append);
      }
      if (retention) await pruneLedger(c, t, jobId, retention, retention.now);
      return true;
    });
  }

  async listOccurrences(jobId: string, page: PageRequest = {}): Promise<Page<OccurrenceRecord>> {
    return this.#do('listOccurrences', async () => {
      const limit = page.limit ?? 100;
      const after = page.cursor ? parseIndexCursor(page.cursor) : -1;
      const { rows } = await this.#pool.query<LedgerRow>(`SELECT * FROM ${this.#t.ledger} WHERE job_id = $1 AND ord > $2 ORDER BY ord LIMIT $3`, [jobId, after, limit + 1]);
      const items = rows.slice(0, limit);
      return { items: items.map(toOccurrence), nextCursor: rows.length > limit && items.length > 0 ? String(items[items.length - 1]!.ord) : null };
    });
  }

  async claimRuns(input: ClaimInput): Promise<RunRecord[]> {
    return this.#do('claimRuns', () => this.#runs.claim(input));
  }

  async releaseRuns(owner: string, keep: readonly string[]): Promise<string[]> {
    return this.#do('releaseRuns', () => this.#runs.release(owner, keep));
  }

  async heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult> {
    return this.#do('heartbeat', () => this.#runs.heartbeat(owner, runIds, leaseMs));
  }

  async setProcessInfo(runId: string, owner: string, info: Json): Promise<void> {
    await this.#do('setProcessInfo', () => this.#runs.setProcessInfo(runId, owner, info));
  }

  async finishRun(runId: string, end: FinishRun): Promise<boolean> {
    return this.#do('finishRun', () => this.#finisher.finish(runId, end));
  }

  async finishAndClaim(ends: readonly RunEnd[], claim: ClaimInput): Promise<FinishAndClaimResult> {
    const result = await this.#do('finishAndClaim', () => this.#runs.finishAndClaim(ends, claim));
    // The ends' counter deltas are folded as the finisher's are (see counters.ts).
    await this.#finisher.fold();
    return result;
  }

  async cancelRuns(target: CancelTarget, now: number): Promise<{
    /** The PENDING runs that became ABORTED. */
    aborted: string[];
    /** The STARTED runs flagged `cancelRequested` for their owner. */
    flagged: string[];
  }> {
    return this.#do('cancelRuns', () => this.#runs.cancel(target, now));
  }

  async recoverExpiredRuns(requeue: (job: JobRecord) => boolean, now: number): Promise<RecoveredRun[]> {
    return this.#do('recoverExpiredRuns', () => this.#runs.recover(requeue, now));
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.#do('getRun', () => this.#runs.get(id));
  }

  async listRuns(jobId: string, filter: RunFilter = {}): Promise<Page<RunRecord>> {
    return this.#do('listRuns', () => this.#runs.list(jobId, filter));
  }

  async putStepStates(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    await this.#do('putStepStates', () => this.#runs.putSteps(runId, steps));
  }

  async getStepStates(runId: string): Promise<StepStateRecord[]> {
    return this.#do('getStepStates', () => this.#runs.getSteps(runId));
  }

  async getStepStatesOf(runIds: readonly string[]): Promise<Map<string, StepStateRecord[]>> {
    checkRunIds(runIds);
    return this.#do('getStepStatesOf', () => this.#runs.getStepsOf(runIds));
  }

  async deleteRuns(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    return this.#do('deleteRuns', () => this.#runs.delete(jobId, which));
  }

  async #announce(c: PoolClient, events: StorageEvent[]): Promise<void> {
    if (this.#notify) await notify(c, this.#t, events);
  }

  #tx<T>(where: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.#do(where, () => transaction(this.#pool, fn));
  }

  async #do<T>(where: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError();
    if (!this.#ready) throw new StorageError('STORAGE_NOT_INITIALISED', 'The storage is not initialised', { hint: 'Call `await storage.init()` first' });
    try {
      return await fn();
    } catch (error) {
      throw pgError(error, where);
    }
  }
}

function timeoutOption(value: number | undefined, fallback: number, path: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new OptionsError('OPTIONS_INVALID', `Expected \`${path}\` to be a whole number of milliseconds >= 0`, { path, value: ms, hint: '0 waits for ever' });
  }
  return ms;
}

function closedError(): StorageError {
  return new StorageError('STORAGE_CLOSED', 'The storage is closed', { hint: 'Create a new PostgresStorage' });
}
