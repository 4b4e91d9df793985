import type { Pool, PoolClient } from 'pg';
import { StorageError } from '../../errors.js';
import type { JobStatus, RunState } from '../../status.js';
import { parseIndexCursor } from '../shared/cursors.js';
import type { CancelTarget, ClaimInput, FinishAndClaimResult, HeartbeatResult, RecoveredRun, RunEnd, RunFilter, StorageEvent } from '../port.js';
import type { JobRecord, Json, NewRun, Page, RunRecord, StepStateRecord } from '../records.js';
import { RUNS_WRITABLE, checkDeleteRuns, checkEnds, checkLimit, checkRelease, claimsNothing, freshRuns, groupSteps } from '../shared/checks.js';
import type { BatchRow, JobRow, RunRow, StepRow } from '../sql/rows.js';
import { json, toBatch, toJob, toRun, toStep } from '../sql/rows.js';
import type { DeltaTally, Deltas } from './counters.js';
import { Coalescer } from './coalescer.js';
import { upsertStepsSql } from './end-sql.js';
import { addDeltas, bump, selectJobs } from './counters.js';
import type { Tables } from './pg.js';
import { DB_NOW_MS, notify, prepared, statement, transaction } from './pg.js';

const END = `('SUCCESS', 'FAILURE', 'ABORTED')`;

/** Every this many claims, a claim scans the pending runs from the start again (see `claim`). */
const CLAIM_RESCAN = 256;

/** The run half of the PostgreSQL adapter. */
export class PgRuns {
  #claimFrom = 0;
  #claims = 0;
  readonly #steps = new Coalescer<{ runId: string; steps: readonly StepStateRecord[] }, void>((items) => this.#writeSteps(items), (i) => i.runId);

  constructor(
    private readonly pool: Pool,
    private readonly t: Tables,
    private readonly events: boolean,
    private readonly tally: DeltaTally,
  ) {}

  async insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<boolean> {
    const { t } = this;
    return transaction(this.pool, async (c) => {
      const { rows } = await c.query<BatchRow>(`SELECT * FROM ${t.batches} WHERE job_id = $1 AND batch_index = $2 FOR UPDATE`, [jobId, batchIndex]);
      if (!rows[0]) throw new StorageError('STORAGE_NOT_FOUND', 'No such batch', { path: 'batchIndex', value: `${jobId}#${batchIndex}` });
      const batch = toBatch(rows[0]);
      // Compare-and-set on the job's status: FOR SHARE waits for an update of the job in
      // flight (a cancel) and keeps the status from changing until this chunk commits.
      // Batch row first, then job row: the order deleteJob takes them in.
      const job = await c.query<{ status: JobStatus }>(`SELECT status FROM ${t.jobs} WHERE id = $1 FOR SHARE`, [jobId]);
      if (!job.rows[0] || !RUNS_WRITABLE.includes(job.rows[0].status)) {
        await c.query(`UPDATE ${t.batches} SET run_count = written_runs WHERE job_id = $1 AND batch_index = $2`, [jobId, batchIndex]);
        return false;
      }
      const fresh = freshRuns(batch, runs);
      if (fresh.length === 0) return true;
      const dup = await c.query<{ id: string }>(`SELECT id FROM ${t.runs} WHERE id = ANY($1::text[]) LIMIT 1`, [fresh.map((r) => r.id)]);
      if (dup.rows[0]) {
        const at = fresh.findIndex((r) => r.id === dup.rows[0]!.id);
        throw new StorageError('STORAGE_DUPLICATE_ID', 'A run with this id exists', { path: `runs[${at}].id`, value: dup.rows[0].id });
      }
      const inserted = await c.query(
        `INSERT INTO ${t.runs} (id, job_id, batch_index, grid_index, index_in_batch, run_index, status, parameters, created_at, attempts, cancel_requested, seq)
         SELECT x.id, $1, $2, x.g, x.i, $3 + x.i, 'PENDING', x.p, $4, 0, false, nextval('${t.seq}')
         FROM unnest($5::text[], $6::bigint[], $7::bigint[], $8::text[]) WITH ORDINALITY AS x(id, g, i, p, o) ORDER BY x.o
         ON CONFLICT (job_id, batch_index, index_in_batch) DO NOTHING`,
        [jobId, batchIndex, batch.firstRunIndex, now, fresh.map((r) => r.id), fresh.map((r) => r.gridIndex), fresh.map((r) => r.indexInBatch), fresh.map((r) => json(r.parameters))],
      );
      const written = Math.max(batch.writtenRuns, ...fresh.map((r) => r.indexInBatch + 1));
      await c.query(`UPDATE ${t.batches} SET written_runs = $3 WHERE job_id = $1 AND batch_index = $2`, [jobId, batchIndex, written]);
      const added = inserted.rowCount ?? 0;
      await addDeltas(c, t, new Map([[jobId, { PENDING: added }]]));
      this.tally.note([jobId]);
      if (added > 0) await this.#notify(c, [{ type: 'runs-pending', jobId }]);
      return true;
    });
  }

  async claim(input: ClaimInput): Promise<RunRecord[]> {
    checkLimit(input.limit, input.leaseMs);
    if (claimsNothing(input)) return [];
    const { t } = this;
    // One statement (see claim-sql.ts): its own transaction, one round trip.
    const rows = await prepared<RunRow & { claim_low: string }>(this.pool, `${t.schema}:claim`, `SELECT * FROM ${t.claim}($1, $2, $3, $4, $5, $6)`, this.#claimArgs(input));
    return this.#claimed(input, rows);
  }

  /**
   * Ends and a claim in one statement (see finish-claim-sql.ts): one round trip and one
   * commit. Validated first: bad input writes nothing.
   */
  async finishAndClaim(ends: readonly RunEnd[], input: ClaimInput): Promise<FinishAndClaimResult> {
    checkEnds(ends);
    checkLimit(input.limit, input.leaseMs);
    if (ends.length === 0) return { finished: [], claimed: await this.claim(input) };
    const { t } = this;
    const rows = await prepared<RunRow & { claim_low: string | null; finished_id: string | null; finished_job: string | null }>(
      this.pool,
      `${t.schema}:finish_claim`,
      `SELECT * FROM ${t.finishClaim}(${Array.from({ length: 22 }, (_, i) => `$${i + 1}`).join(', ')})`,
      [
        ends.map((e) => e.runId),
        ends.map((e) => e.end.owner),
        ends.map((e) => e.end.status),
        ends.map((e) => e.end.reason ?? null),
        ends.map((e) => (e.end.error ? json(e.end.error) : null)),
        ends.map((e) => e.end.now),
        ends.map((e) => e.steps?.length ?? null),
        ...stepColumns(ends.flatMap((e) => (e.steps ?? []).map((s, ord) => ({ runId: e.runId, ord, s })))),
        ...this.#claimArgs(input),
      ],
    );
    const done = new Set<string>();
    const jobs = new Set<string>();
    const claimedRows: Array<RunRow & { claim_low: string }> = [];
    for (const row of rows) {
      if (row.finished_id === null) claimedRows.push(row as RunRow & { claim_low: string });
      else done.add(row.finished_id), jobs.add(row.finished_job!);
    }
    this.tally.note(jobs);
    const claimed = claimsNothing(input) ? [] : this.#claimed(input, claimedRows);
    return { finished: ends.map((e) => done.has(e.runId)), claimed };
  }

  #claimArgs(input: ClaimInput): unknown[] {
    return [input.owner, input.limit, Math.ceil(input.leaseMs), input.jobIds ? [...input.jobIds] : null, input.jobStatuses ?? ['STARTED', 'PAUSED'], this.#claimFrom];
  }

  #claimed(input: ClaimInput, rows: ReadonlyArray<RunRow & { claim_low: string }>): RunRecord[] {
    // Where the next claim starts. Back to the start after a short claim (the backlog is
    // gone: nothing to walk past) and every CLAIM_RESCAN claims: a chunk of runs whose
    // transaction took its seqs earlier but committed later than the one seen is then
    // found again (late by a few claims, never lost).
    this.#claims = (this.#claims + 1) % CLAIM_RESCAN;
    this.#claimFrom = rows.length < input.limit || this.#claims === 0 ? 0 : Number(rows[0]!.claim_low);
    const runs = rows.map(toRun);
    this.tally.note(new Set(runs.map((r) => r.jobId)));
    return runs;
  }

  async heartbeat(owner: string, runIds: readonly string[], leaseMs: number): Promise<HeartbeatResult> {
    const result: HeartbeatResult = { cancelRequested: [], lost: [] };
    if (runIds.length === 0) return result;
    const rows = await statement<{ id: string; cancel_requested: boolean }>(
      this.pool,
      `UPDATE ${this.t.runs} SET lease_expires_at = ${DB_NOW_MS} + $3 WHERE id = ANY($1::text[]) AND status = 'STARTED' AND lease_owner = $2 RETURNING id, cancel_requested`,
      [[...runIds], owner, Math.ceil(leaseMs)],
    );
    const held = new Map(rows.map((r) => [r.id, r.cancel_requested]));
    for (const id of runIds) {
      if (!held.has(id)) result.lost.push(id);
      else if (held.get(id)) result.cancelRequested.push(id);
    }
    return result;
  }

  async setProcessInfo(runId: string, owner: string, info: Json): Promise<void> {
    await this.pool.query(`UPDATE ${this.t.runs} SET process_info = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'STARTED'`, [runId, owner, json(info)]);
  }

  async cancel(target: CancelTarget, now: number): Promise<{ aborted: string[]; flagged: string[] }> {
    const { t } = this;
    return transaction(this.pool, async (c) => {
      const [where, arg] = 'jobId' in target ? ['job_id = $1', target.jobId] : ['id = ANY($1::text[])', [...target.runIds]];
      // Runs only: the counters move as delta rows, so no job row is locked.
      const flagged = await c.query<{ id: string; job_id: string }>(
        `UPDATE ${t.runs} SET cancel_requested = true WHERE ${where} AND status = 'STARTED' RETURNING id, job_id, run_index`,
        [arg],
      );
      const aborted = await c.query<{ id: string; job_id: string; run_index: string }>(
        `UPDATE ${t.runs} SET status = 'ABORTED', finished_at = $2, reason = 'cancelled', error = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE ${where} AND status = 'PENDING' RETURNING id, job_id, run_index`,
        [arg, now],
      );
      const deltas: Deltas = new Map();
      for (const r of aborted.rows) bump(deltas, r.job_id, 'PENDING', 'ABORTED');
      await addDeltas(c, t, deltas);
      this.tally.note(deltas.keys());
      const byJob = new Map<string, string[]>();
      for (const r of flagged.rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r.id]);
      await this.#notify(c, [...byJob].map(([jobId, runIds]) => ({ type: 'cancel', jobId, runIds })));
      const order = (ids: string[]): string[] => ('runIds' in target ? target.runIds.filter((id) => ids.includes(id)) : ids);
      const sorted = (rows: Array<{ id: string; run_index?: string }>): string[] => [...rows].sort((a, b) => Number(a.run_index) - Number(b.run_index)).map((r) => r.id);
      return { aborted: order(sorted(aborted.rows)), flagged: order(sorted(flagged.rows)) };
    });
  }

  async release(owner: string, keep: readonly string[]): Promise<string[]> {
    checkRelease(owner, keep);
    const { t } = this;
    return transaction(this.pool, async (c) => {
      const { rows } = await c.query<{ id: string; job_id: string }>(
        `UPDATE ${t.runs} r SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, started_at = NULL, attempts = greatest(r.attempts - 1, 0), seq = nextval('${t.seq}')
         FROM ${t.jobs} j
         WHERE j.id = r.job_id AND j.status IN ('PENDING', 'STARTED', 'PAUSED') AND NOT r.cancel_requested
           AND r.status = 'STARTED' AND r.lease_owner = $1 AND NOT (r.id = ANY($2::text[])) RETURNING r.id, r.job_id`,
        [owner, [...keep]],
      );
      const deltas: Deltas = new Map();
      for (const r of rows) bump(deltas, r.job_id, 'STARTED', 'PENDING');
      await addDeltas(c, t, deltas);
      this.tally.note(deltas.keys());
      await this.#notify(c, [...deltas.keys()].map((jobId) => ({ type: 'runs-pending' as const, jobId })));
      return rows.map((r) => r.id);
    });
  }

  async recover(requeue: (job: JobRecord) => boolean, now: number): Promise<RecoveredRun[]> {
    const { t } = this;
    return transaction(this.pool, async (c) => {
      const expired = await c.query<RunRow>(
        `SELECT * FROM ${t.runs} WHERE status = 'STARTED' AND lease_expires_at <= ${DB_NOW_MS} ORDER BY seq FOR UPDATE SKIP LOCKED`,
      );
      if (expired.rows.length === 0) return [];
      const runs = expired.rows.map(toRun);
      const jobRows = await c.query<JobRow>(`${selectJobs(t)} WHERE j.id = ANY($1::text[])`, [[...new Set(runs.map((r) => r.jobId))]]);
      // An ended job gets no PENDING run back.
      const again = new Map(jobRows.rows.map((row) => [row.id, RUNS_WRITABLE.includes(row.status as JobStatus) && requeue(toJob(row))]));
      const toQueue = runs.filter((r) => again.get(r.jobId) && !r.cancelRequested);
      const toEnd = runs.filter((r) => !toQueue.includes(r));
      const out: RecoveredRun[] = [];
      const deltas: Deltas = new Map();
      if (toQueue.length > 0) {
        const { rows } = await c.query<RunRow>(
          `UPDATE ${t.runs} r SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, started_at = NULL, seq = nextval('${t.seq}')
           FROM (SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS x(id, o) ORDER BY o) x WHERE r.id = x.id AND r.id = ANY($1::text[]) RETURNING r.*`,
          [toQueue.map((r) => r.id)],
        );
        for (const row of rows) {
          out.push({ run: toRun(row), outcome: 'requeued' });
          bump(deltas, row.job_id, 'STARTED', 'PENDING');
        }
      }
      if (toEnd.length > 0) {
        const { rows } = await c.query<RunRow>(
          `UPDATE ${t.runs} SET status = CASE WHEN cancel_requested THEN 'ABORTED' ELSE 'FAILURE' END,
             reason = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'interrupted' END,
             error = NULL, finished_at = $2, lease_owner = NULL, lease_expires_at = NULL
           WHERE id = ANY($1::text[]) RETURNING *`,
          [toEnd.map((r) => r.id), now],
        );
        for (const row of rows) {
          out.push({ run: toRun(row), outcome: 'failed' });
          bump(deltas, row.job_id, 'STARTED', row.status as RunState);
        }
      }
      await addDeltas(c, t, deltas);
      this.tally.note(deltas.keys());
      const queuedJobs = [...new Set(toQueue.map((r) => r.jobId))];
      await this.#notify(c, queuedJobs.map((jobId) => ({ type: 'runs-pending', jobId })));
      return out.sort((a, b) => runs.findIndex((r) => r.id === a.run.id) - runs.findIndex((r) => r.id === b.run.id));
    });
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<RunRow>(`SELECT * FROM ${this.t.runs} WHERE id = $1`, [id]);
    return rows[0] && toRun(rows[0]);
  }

  async list(jobId: string, filter: RunFilter): Promise<Page<RunRecord>> {
    const { t } = this;
    const limit = filter.limit ?? 100;
    const after = filter.cursor ? parseIndexCursor(filter.cursor) : -1;
    // Run index order is (batch, index in batch) order, the unique position index's: the
    // cursor (a run index, its run possibly deleted since) becomes a position through the
    // batch it falls in, so a page starts right at it however deep it is.
    const from =
      after < 0
        ? ''
        : `AND (batch_index, index_in_batch) > (SELECT b.batch_index, $5 - b.first_run_index FROM ${t.batches} b
             WHERE b.job_id = $1 AND b.first_run_index <= $5 ORDER BY b.batch_index DESC LIMIT 1)`;
    const { rows } = await this.pool.query<RunRow>(
      `SELECT * FROM ${t.runs} WHERE job_id = $1 ${from} AND ($2::text[] IS NULL OR status = ANY($2::text[]))
       AND ($3::bigint IS NULL OR batch_index = $3) ORDER BY batch_index, index_in_batch LIMIT $4`,
      [jobId, filter.status ?? null, filter.batchIndex ?? null, limit + 1, ...(after < 0 ? [] : [after])],
    );
    const items = rows.slice(0, limit).map(toRun);
    return { items, nextCursor: rows.length > limit && items.length > 0 ? String(items[items.length - 1]!.runIndex) : null };
  }

  /**
   * Group commit (see coalescer.ts): the step states of runs ending together are written by
   * one statement, one round trip and one commit, each call resolving once its own list is
   * committed. The statement locks the runs' rows in id order (a concurrent write of the
   * same run waits; a missing run gets nothing), upserts each list by position and deletes
   * what lies past its end. The upsert and the delete touch different rows, so their order
   * inside the statement does not matter.
   */
  putSteps(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    return this.#steps.submit({ runId, steps });
  }

  /** Resolves when no step states are queued or being written (before the pool is ended). */
  idle(): Promise<void> {
    return this.#steps.idle();
  }

  async #writeSteps(items: Array<{ runId: string; steps: readonly StepStateRecord[] }>): Promise<void[]> {
    const { t } = this;
    const all = items.flatMap((i) => i.steps.map((s, ord) => ({ runId: i.runId, ord, s })));
    await prepared(
      this.pool,
      `${t.schema}:put-steps`,
      `WITH n AS (SELECT * FROM unnest($1::text[], $2::int[]) AS y(run_id, n)),
            r AS (SELECT id FROM ${t.runs} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE),
            d AS (DELETE FROM ${t.steps} s USING n WHERE s.run_id = n.run_id AND s.run_id IN (SELECT id FROM r) AND s.ord >= n.n)
       ${upsertStepsSql(t, ['$3::text[]', '$4::int[]', '$5::text[]', '$6::text[]', '$7::bigint[]', '$8::bigint[]', '$9::int[]', '$10::int[]', '$11::text[]'], 'x.run_id IN (SELECT id FROM r)')}`,
      [items.map((i) => i.runId), items.map((i) => i.steps.length), ...stepColumns(all)],
    );
    return items.map(() => undefined);
  }

  async getSteps(runId: string): Promise<StepStateRecord[]> {
    const { rows } = await this.pool.query<StepRow>(`SELECT * FROM ${this.t.steps} WHERE run_id = $1 ORDER BY ord`, [runId]);
    return rows.map(toStep);
  }

  /** The step states of several runs in one statement, by run id. */
  async getStepsOf(runIds: readonly string[]): Promise<Map<string, StepStateRecord[]>> {
    const { rows } = await this.pool.query<StepRow>(`SELECT * FROM ${this.t.steps} WHERE run_id = ANY($1::text[]) ORDER BY run_id, ord`, [runIds]);
    return groupSteps(runIds, rows.map(toStep));
  }

  async delete(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    checkDeleteRuns(which);
    const { t } = this;
    const victims =
      'runIds' in which
        ? `SELECT id FROM ${t.runs} WHERE job_id = $1 AND status IN ${END} AND id = ANY($2::text[])`
        : `SELECT id FROM ${t.runs} WHERE job_id = $1 AND status IN ${END} ORDER BY finished_at DESC, run_index DESC OFFSET $2`;
    return transaction(this.pool, async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `WITH v AS (DELETE FROM ${t.runs} WHERE id IN (${victims}) RETURNING id, run_index),
              s AS (DELETE FROM ${t.steps} WHERE run_id IN (SELECT id FROM v))
         SELECT id FROM v ORDER BY run_index`,
        [jobId, 'runIds' in which ? [...which.runIds] : Math.max(0, which.keepLatest)],
      );
      // A batch goes with its last run. The empty, fully written batches are locked first
      // (a chunk being written holds its batch row, so this waits for it), then deleted in
      // a new statement, whose snapshot sees every run committed meanwhile: a batch that
      // got runs stays, and one still being written (written_runs < run_count) is not taken.
      const empty = `NOT EXISTS (SELECT 1 FROM ${t.runs} r WHERE r.job_id = b.job_id AND r.batch_index = b.batch_index)`;
      const locked = await c.query<{ batch_index: string }>(
        `SELECT b.batch_index FROM ${t.batches} b WHERE b.job_id = $1 AND b.written_runs >= b.run_count AND ${empty} FOR UPDATE`,
        [jobId],
      );
      if (locked.rows.length > 0) {
        await c.query(`DELETE FROM ${t.batches} b WHERE b.job_id = $1 AND b.batch_index = ANY($2::int[]) AND b.written_runs >= b.run_count AND ${empty}`, [
          jobId,
          locked.rows.map((r) => r.batch_index),
        ]);
      }
      return rows.map((r) => r.id);
    });
  }

  async #notify(c: PoolClient, events: StorageEvent[]): Promise<void> {
    if (this.events) await notify(c, this.t, events);
  }
}

/** Step states as the column arrays of an `unnest` (run, ord, uuid, status, started, finished, attempts, exit code, error). */
function stepColumns(all: ReadonlyArray<{ runId: string; ord: number; s: StepStateRecord }>): unknown[][] {
  return [
    all.map((x) => x.runId),
    all.map((x) => x.ord),
    all.map((x) => x.s.stepId),
    all.map((x) => x.s.status),
    all.map((x) => x.s.startedAt),
    all.map((x) => x.s.finishedAt),
    all.map((x) => x.s.attempts),
    all.map((x) => x.s.exitCode),
    all.map((x) => (x.s.error ? json(x.s.error) : null)),
  ];
}
