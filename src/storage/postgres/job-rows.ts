/** Reading and writing job rows inside the PostgreSQL adapter (counters: see counters.ts). */
import type { Pool, PoolClient } from 'pg';
import type { LedgerRetention } from '../port.js';
import type { JobRecord, OccurrenceRecord } from '../records.js';
import type { JobRow } from '../sql/rows.js';
import { COUNTER_COLUMN, JOB_COLUMNS, jobColumnValues, toJob } from '../sql/rows.js';
import { lockJob, selectJobs } from './counters.js';
import { JOB_HEAD_COLUMNS, type JobHeadRow, type ParsedParts } from '../sql/parsed-parts.js';
import type { Tables } from './pg.js';

/**
 * A job with its counters summed (one snapshot). Its JSON parts come from `parts` when held
 * at the job's version (one query of the small columns), else from a second query of the
 * whole row, whose parts are then kept.
 */
export async function readJob(db: Pool, t: Tables, id: string, parts: ParsedParts): Promise<JobRecord | undefined> {
  const head = (await db.query<JobHeadRow>(`${selectJobs(t, JOB_HEAD_COLUMNS)} WHERE j.id = $1`, [id])).rows[0];
  if (!head) return undefined;
  const hit = parts.job(head);
  if (hit) return hit;
  const { rows } = await db.query<JobRow>(`${selectJobs(t)} WHERE j.id = $1`, [id]);
  return rows[0] && parts.rememberJob(rows[0]);
}

/** A job locked for the rest of the transaction, its counter deltas folded into its row. */
export async function lockedJob(c: PoolClient, t: Tables, id: string): Promise<JobRecord | undefined> {
  const row = await lockJob(c, t, id);
  return row && toJob(row);
}

/** The columns `writeJob` sets: all but the id and the counters. */
const WRITTEN = JOB_COLUMNS.filter((col) => col !== 'id' && !(Object.values(COUNTER_COLUMN) as string[]).includes(col));

/** Writes a job's fields except its counters: those only move with the runs (deltas, folds). */
export async function writeJob(c: PoolClient, t: Tables, job: JobRecord): Promise<void> {
  await c.query(`UPDATE ${t.jobs} SET ${WRITTEN.map((col, k) => `${col} = $${k + 2}`).join(', ')} WHERE id = $1`, [job.id, ...jobColumnValues(job, WRITTEN)]);
}

/** Appends a ledger record at the job's next `ord`. */
export async function appendLedger(c: PoolClient, t: Tables, r: OccurrenceRecord): Promise<void> {
  await c.query(
    `INSERT INTO ${t.ledger} (job_id, ord, action, reason, at, last_at, count, batch_index)
     VALUES ($1, (SELECT coalesce(max(ord), -1) + 1 FROM ${t.ledger} WHERE job_id = $1), $2, $3, $4, $5, $6, $7)`,
    [r.jobId, r.action, r.reason, r.at, r.lastAt, r.count, r.batchIndex],
  );
}

/**
 * Prunes a job's ledger under `retention` (the rule of `ledgerVictims`, in SQL): by count
 * through the position range, by age through `last_at`; the newest record always stays.
 * Called with the job row locked, so appends and prunes of one job do not interleave.
 */
export async function pruneLedger(c: PoolClient, t: Tables, jobId: string, retention: LedgerRetention | undefined, now: number): Promise<void> {
  if (!retention || (retention.maxRecords === undefined && retention.maxAgeMs === undefined)) return;
  await c.query(
    `WITH top AS (SELECT max(ord) AS ord FROM ${t.ledger} WHERE job_id = $1)
     DELETE FROM ${t.ledger} l USING top WHERE l.job_id = $1 AND l.ord < top.ord
       AND (l.ord <= top.ord - $2::bigint OR l.last_at < $3::bigint)`,
    [jobId, retention.maxRecords ?? null, retention.maxAgeMs === undefined ? null : now - retention.maxAgeMs],
  );
}
