/**
 * Job counters in PostgreSQL. A job's counters are its row's `n_*` columns plus the sum of
 * its rows in the `job_counts` table: claims, finishes, cancels and recoveries append a
 * delta row there in the same statement that changes the runs, so they never wait on
 * each other for the job row's lock. Readers sum both in one statement (one snapshot:
 * the counters always match the runs they count). Deltas are folded into the job row by
 * every transaction that locks the row anyway (updates, new batches) and, for busy jobs,
 * from time to time by the finisher ({@link foldCounts}, skipping rows someone holds).
 *
 * The per-job concurrency limit needs an exact STARTED count: a claim of a job with
 * `max_concurrent_runs > 0` locks the job's row and then sums its counters in a snapshot
 * taken after the lock (see claim-sql.ts), so folds and other claims are seen whole.
 */
import type { Pool, PoolClient } from 'pg';
import type { RunState } from '../../status.js';
import type { JobRow } from '../sql/rows.js';
import { COUNTER_COLUMN, JOB_COLUMNS } from '../sql/rows.js';
import type { Queryable, Tables } from './pg.js';
import { prepared } from './pg.js';

/** Counter changes per job id. */
export type Deltas = Map<string, Partial<Record<RunState, number>>>;

const STATES: readonly RunState[] = ['PENDING', 'STARTED', 'SUCCESS', 'FAILURE', 'ABORTED'];
/** `job_counts` column per run status. */
const DELTA_COLUMN: Record<RunState, string> = { PENDING: 'pending', STARTED: 'started', SUCCESS: 'success', FAILURE: 'failure', ABORTED: 'aborted' };

/** Records one run moving `from` -> `to` in `deltas`. */
export function bump(deltas: Deltas, jobId: string, from: RunState, to: RunState): void {
  const d = deltas.get(jobId) ?? {};
  d[from] = (d[from] ?? 0) - 1;
  d[to] = (d[to] ?? 0) + 1;
  deltas.set(jobId, d);
}

/** Appends counter deltas (one row per job; zero rows are left out). Takes no job lock. */
export async function addDeltas(db: Queryable, t: Tables, deltas: Deltas): Promise<void> {
  const ids = [...deltas.keys()].filter((id) => STATES.some((s) => (deltas.get(id)![s] ?? 0) !== 0));
  if (ids.length === 0) return;
  const col = (s: RunState): number[] => ids.map((id) => deltas.get(id)![s] ?? 0);
  await db.query(
    `INSERT INTO ${t.counts} (job_id, pending, started, success, failure, aborted)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])`,
    [ids, col('PENDING'), col('STARTED'), col('SUCCESS'), col('FAILURE'), col('ABORTED')],
  );
}

/** `SELECT` of job rows (alias `j`) with their counters summed; append `WHERE ...`. */
export function selectJobs(t: Tables, columns: readonly string[] = JOB_COLUMNS): string {
  const counters = new Set<string>(Object.values(COUNTER_COLUMN));
  const cols = columns.map((c) => (counters.has(c) ? `(j.${c} + coalesce(k.${deltaOf(c)}, 0))::bigint AS ${c}` : `j.${c}`));
  const sums = STATES.map((s) => `sum(${DELTA_COLUMN[s]}) AS ${DELTA_COLUMN[s]}`).join(', ');
  return `SELECT ${cols.join(', ')} FROM ${t.jobs} j LEFT JOIN LATERAL (SELECT ${sums} FROM ${t.counts} WHERE job_id = j.id) k ON true`;
}

function deltaOf(counterColumn: string): string {
  const state = STATES.find((s) => COUNTER_COLUMN[s] === counterColumn)!;
  return DELTA_COLUMN[state];
}

/**
 * Locks a job's row (`FOR UPDATE`: it waits for claims in flight) and folds its deltas
 * into it; resolves the row with exact counters, or `undefined` when there is no such job.
 * Two statements on purpose: the fold runs on a snapshot taken after the lock, so the
 * row it returns counts every delta committed by the claims the lock waited for.
 */
export async function lockJob(c: Queryable, t: Tables, id: string): Promise<JobRow | undefined> {
  const { rows } = await c.query(`SELECT 1 FROM ${t.jobs} WHERE id = $1 FOR UPDATE`, [id]);
  if (rows.length === 0) return undefined;
  const folded = await c.query<JobRow>(
    `WITH d AS (DELETE FROM ${t.counts} WHERE job_id = $1 RETURNING *),
          s AS (SELECT ${STATES.map((s) => `coalesce(sum(${DELTA_COLUMN[s]}), 0) AS ${DELTA_COLUMN[s]}`).join(', ')} FROM d)
     UPDATE ${t.jobs} j SET ${STATES.map((s) => `${COUNTER_COLUMN[s]} = j.${COUNTER_COLUMN[s]} + s.${DELTA_COLUMN[s]}`).join(', ')}
     FROM s WHERE j.id = $1 RETURNING j.*`,
    [id],
  );
  return folded.rows[0];
}

/**
 * Folds the deltas of `jobIds` into their rows, skipping jobs whose row someone holds
 * (a claim of a limited job, an update): it never waits. Resolves the ids folded.
 */
export async function foldCounts(db: Pool | PoolClient, t: Tables, jobIds: readonly string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const rows = await prepared<{ id: string }>(
    db,
    `${t.schema}:fold`,
    `WITH j AS (SELECT id FROM ${t.jobs} WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED),
          d AS (DELETE FROM ${t.counts} k USING j WHERE k.job_id = j.id RETURNING k.*),
          s AS (SELECT job_id, ${STATES.map((s) => `sum(${DELTA_COLUMN[s]}) AS ${DELTA_COLUMN[s]}`).join(', ')} FROM d GROUP BY job_id)
     UPDATE ${t.jobs} SET ${STATES.map((s) => `${COUNTER_COLUMN[s]} = ${COUNTER_COLUMN[s]} + s.${DELTA_COLUMN[s]}`).join(', ')}
     FROM s WHERE ${t.jobs}.id = s.job_id RETURNING ${t.jobs}.id`,
    [[...jobIds].sort()],
  );
  return rows.map((r) => r.id);
}

/**
 * How many delta rows this process appended per job since the job was last folded, so a
 * busy job's deltas are folded every `every` rows (bounding what a read sums).
 */
export class DeltaTally {
  readonly #written = new Map<string, number>();

  constructor(private readonly every: number) {}

  note(jobIds: Iterable<string>): void {
    for (const id of jobIds) this.#written.set(id, (this.#written.get(id) ?? 0) + 1);
  }

  /** Jobs due for a fold. */
  due(): string[] {
    return [...this.#written].filter(([, n]) => n >= this.every).map(([id]) => id);
  }

  folded(jobIds: Iterable<string>): void {
    for (const id of jobIds) this.#written.delete(id);
  }
}
