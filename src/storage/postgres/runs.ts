import type { Pool, PoolClient } from 'pg';
import { StorageError } from '../../errors.js';
import type { RunState } from '../../status.js';
import { parseIndexCursor } from '../memory/helpers.js';
import type { CancelTarget, ClaimInput, HeartbeatResult, RecoveredRun, RunFilter, StorageEvent } from '../port.js';
import type { JobRecord, Json, NewRun, Page, RunRecord, StepStateRecord } from '../records.js';
import { checkLimit, freshRuns } from '../sql/logic.js';
import type { BatchRow, JobRow, RunRow, StepRow } from '../sql/rows.js';
import { json, toBatch, toJob, toRun, toStep } from '../sql/rows.js';
import type { Queryable, Tables } from './pg.js';
import { DB_NOW_MS, notify, statement, transaction } from './pg.js';

const END = `('SUCCESS', 'FAILURE', 'ABORTED')`;

/**
 * Claims must walk the pending-runs index in `seq` order and stop at the limit. Right after
 * a big batch is written the table's statistics are stale (autovacuum has not analysed it
 * yet) and the planner would rather collect and sort every pending run of the job: cost
 * linear in the backlog, per claim. These settings, local to the claim transaction, rule
 * that plan out.
 */
const CLAIM_PLAN = 'SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off';

/** Adds per-job counter deltas, locking job rows in id order (so concurrent writers cannot deadlock on them). */
export async function addCounters(db: Queryable, t: Tables, deltas: Map<string, Partial<Record<RunState, number>>>): Promise<void> {
  if (deltas.size === 0) return;
  const ids = [...deltas.keys()].sort();
  const col = (s: RunState): number[] => ids.map((id) => deltas.get(id)![s] ?? 0);
  await db.query(
    `UPDATE ${t.jobs} j SET n_pending = n_pending + d.p, n_started = n_started + d.s, n_success = n_success + d.ok, n_failure = n_failure + d.f, n_aborted = n_aborted + d.a
     FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS d(id, p, s, ok, f, a)
     WHERE j.id = d.id AND j.id = ANY($1::text[])`,
    [ids, col('PENDING'), col('STARTED'), col('SUCCESS'), col('FAILURE'), col('ABORTED')],
  );
}

function bump(deltas: Map<string, Partial<Record<RunState, number>>>, jobId: string, from: RunState, to: RunState): void {
  const d = deltas.get(jobId) ?? {};
  d[from] = (d[from] ?? 0) - 1;
  d[to] = (d[to] ?? 0) + 1;
  deltas.set(jobId, d);
}

/** The run half of the PostgreSQL adapter. */
export class PgRuns {
  constructor(
    private readonly pool: Pool,
    private readonly t: Tables,
    private readonly events: boolean,
  ) {}

  async insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): Promise<void> {
    const { t } = this;
    await transaction(this.pool, async (c) => {
      const { rows } = await c.query<BatchRow>(`SELECT * FROM ${t.batches} WHERE job_id = $1 AND batch_index = $2 FOR UPDATE`, [jobId, batchIndex]);
      if (!rows[0]) throw new StorageError('STORAGE_NOT_FOUND', 'No such batch', { path: 'batchIndex', value: `${jobId}#${batchIndex}` });
      const batch = toBatch(rows[0]);
      const fresh = freshRuns(batch, runs);
      if (fresh.length === 0) return;
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
      await addCounters(c, t, new Map([[jobId, { PENDING: added }]]));
      if (added > 0) await this.#notify(c, [{ type: 'runs-pending', jobId }]);
    });
  }

  async claim(input: ClaimInput): Promise<RunRecord[]> {
    checkLimit(input.limit, input.leaseMs);
    if (input.limit === 0 || (input.jobIds && input.jobIds.length === 0)) return [];
    const { t } = this;
    return transaction(this.pool, async (c) => {
      // Lock candidate runs first (others skip them), then their jobs in id order, and
      // count each job's STARTED runs again under that lock: the per-job limit holds
      // however many processes claim for the job at once.
      const cand = await c.query<{ id: string; job_id: string }>(
        `SELECT r.id, r.job_id FROM ${t.runs} r JOIN ${t.jobs} j ON j.id = r.job_id
         WHERE r.status = 'PENDING' AND j.status = ANY($1::text[]) AND ($2::text[] IS NULL OR r.job_id = ANY($2::text[]))
           AND (j.max_concurrent_runs = 0 OR j.n_started < j.max_concurrent_runs)
         ORDER BY r.seq LIMIT $3 FOR UPDATE OF r SKIP LOCKED`,
        [input.jobStatuses ?? ['STARTED', 'PAUSED'], input.jobIds ?? null, input.limit],
      );
      if (cand.rows.length === 0) return [];
      const jobIds = [...new Set(cand.rows.map((r) => r.job_id))].sort();
      const jobs = await c.query<{ id: string; n_started: string; max_concurrent_runs: number }>(
        `SELECT id, n_started, max_concurrent_runs FROM ${t.jobs} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
        [jobIds],
      );
      const room = new Map(jobs.rows.map((j) => [j.id, j.max_concurrent_runs > 0 ? j.max_concurrent_runs - Number(j.n_started) : Infinity]));
      const chosen: string[] = [];
      for (const r of cand.rows) {
        const left = room.get(r.job_id) ?? 0;
        if (left <= 0) continue;
        room.set(r.job_id, left - 1);
        chosen.push(r.id);
      }
      if (chosen.length === 0) return [];
      // The runs and their jobs' counters in one statement (one round trip less).
      const { rows } = await c.query<RunRow>(
        `WITH u AS (
           UPDATE ${t.runs} SET status = 'STARTED', started_at = ${DB_NOW_MS}, attempts = attempts + 1, lease_owner = $2, lease_expires_at = ${DB_NOW_MS} + $3
           WHERE id = ANY($1::text[]) RETURNING *
         ), d AS (SELECT job_id, count(*) AS n FROM u GROUP BY job_id), j AS (
           UPDATE ${t.jobs} SET n_pending = n_pending - d.n, n_started = n_started + d.n FROM d WHERE ${t.jobs}.id = d.job_id RETURNING 1
         ) SELECT * FROM u`,
        [chosen, input.owner, Math.ceil(input.leaseMs)],
      );
      return rows.map(toRun).sort((a, b) => a.seq - b.seq);
    }, CLAIM_PLAN);
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
      // Runs first, then the job counters (in job id order): the same lock order as claims.
      const flagged = await c.query<{ id: string; job_id: string }>(
        `UPDATE ${t.runs} SET cancel_requested = true WHERE ${where} AND status = 'STARTED' RETURNING id, job_id, run_index`,
        [arg],
      );
      const aborted = await c.query<{ id: string; job_id: string; run_index: string }>(
        `UPDATE ${t.runs} SET status = 'ABORTED', finished_at = $2, reason = 'cancelled', error = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE ${where} AND status = 'PENDING' RETURNING id, job_id, run_index`,
        [arg, now],
      );
      const deltas = new Map<string, Partial<Record<RunState, number>>>();
      for (const r of aborted.rows) bump(deltas, r.job_id, 'PENDING', 'ABORTED');
      await addCounters(c, t, deltas);
      const byJob = new Map<string, string[]>();
      for (const r of flagged.rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r.id]);
      await this.#notify(c, [...byJob].map(([jobId, runIds]) => ({ type: 'cancel', jobId, runIds })));
      const order = (ids: string[]): string[] => ('runIds' in target ? target.runIds.filter((id) => ids.includes(id)) : ids);
      const sorted = (rows: Array<{ id: string; run_index?: string }>): string[] => [...rows].sort((a, b) => Number(a.run_index) - Number(b.run_index)).map((r) => r.id);
      return { aborted: order(sorted(aborted.rows)), flagged: order(sorted(flagged.rows)) };
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
      const jobRows = await c.query<JobRow>(`SELECT * FROM ${t.jobs} WHERE id = ANY($1::text[])`, [[...new Set(runs.map((r) => r.jobId))]]);
      const again = new Map(jobRows.rows.map((row) => [row.id, requeue(toJob(row))]));
      const toQueue = runs.filter((r) => again.get(r.jobId) && !r.cancelRequested);
      const toEnd = runs.filter((r) => !toQueue.includes(r));
      const out: RecoveredRun[] = [];
      const deltas = new Map<string, Partial<Record<RunState, number>>>();
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
      await addCounters(c, t, deltas);
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
    const limit = filter.limit ?? 100;
    const after = filter.cursor ? parseIndexCursor(filter.cursor) : -1;
    const { rows } = await this.pool.query<RunRow>(
      `SELECT * FROM ${this.t.runs} WHERE job_id = $1 AND run_index > $2 AND ($3::text[] IS NULL OR status = ANY($3::text[]))
       AND ($4::bigint IS NULL OR batch_index = $4) ORDER BY run_index LIMIT $5`,
      [jobId, after, filter.status ?? null, filter.batchIndex ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(toRun);
    return { items, next: rows.length > limit && items.length > 0 ? String(items[items.length - 1]!.runIndex) : null };
  }

  async putSteps(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    const { t } = this;
    await transaction(this.pool, async (c) => {
      const run = await c.query(`SELECT 1 FROM ${t.runs} WHERE id = $1 FOR UPDATE`, [runId]);
      if (run.rows.length === 0) return;
      await c.query(`DELETE FROM ${t.steps} WHERE run_id = $1`, [runId]);
      if (steps.length === 0) return;
      await c.query(
        `INSERT INTO ${t.steps} (run_id, ord, step_uuid, status, started_at, finished_at, attempts, exit_code, error)
         SELECT $1, x.o - 1, x.u, x.s, x.sa, x.fa, x.a, x.e, x.err
         FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::int[], $8::text[]) WITH ORDINALITY AS x(u, s, sa, fa, a, e, err, o)`,
        [runId, steps.map((s) => s.stepUuid), steps.map((s) => s.status), steps.map((s) => s.startedAt), steps.map((s) => s.finishedAt), steps.map((s) => s.attempts), steps.map((s) => s.exitCode), steps.map((s) => (s.error ? json(s.error) : null))],
      );
    });
  }

  async getSteps(runId: string): Promise<StepStateRecord[]> {
    const { rows } = await this.pool.query<StepRow>(`SELECT * FROM ${this.t.steps} WHERE run_id = $1 ORDER BY ord`, [runId]);
    return rows.map(toStep);
  }

  async delete(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): Promise<string[]> {
    const { t } = this;
    const victims =
      'runIds' in which
        ? `SELECT id FROM ${t.runs} WHERE job_id = $1 AND status IN ${END} AND id = ANY($2::text[])`
        : `SELECT id FROM ${t.runs} WHERE job_id = $1 AND status IN ${END} ORDER BY finished_at DESC, run_index DESC OFFSET $2`;
    const rows = await statement<{ id: string }>(
      this.pool,
      `WITH v AS (DELETE FROM ${t.runs} WHERE id IN (${victims}) RETURNING id, run_index),
            s AS (DELETE FROM ${t.steps} WHERE run_id IN (SELECT id FROM v))
       SELECT id FROM v ORDER BY run_index`,
      [jobId, 'runIds' in which ? [...which.runIds] : Math.max(0, which.keepLatest)],
    );
    return rows.map((r) => r.id);
  }

  async #notify(c: PoolClient, events: StorageEvent[]): Promise<void> {
    if (this.events) await notify(c, this.t, events);
  }
}
