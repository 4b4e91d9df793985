/**
 * Batch rows in the SQLite adapter. Since schema 5 a batch is two rows, as a job is (see
 * job-rows.ts): its small fields in `pj_batches`, the grid, selection and variables it
 * runs in `pj_batch_parts`. A run reads its batch's small fields (once per run) and
 * `insertRuns` moves `written_runs` (once per chunk): with a grid of hundreds of kilobytes
 * inline, each of those walked or rewrote the grid's overflow pages.
 */
import type { BatchRecord } from '../records.js';
import { BATCH_HEAD_COLUMNS, type BatchHeadRow } from '../sql/parsed-parts.js';
import { batchHeadOf, json } from '../sql/rows.js';
import type { Db } from './db.js';

/** A whole batch row: the small columns and the parts. Add `WHERE` / `ORDER BY` on `b.` columns. */
export const SELECT_BATCH =
  'SELECT b.*, p.env_vars, p.grid, p.selection FROM pj_batches b JOIN pj_batch_parts p ON p.job_id = b.job_id AND p.batch_index = b.batch_index';

/** Inserts a new batch (both rows). */
export function insertBatchRows(db: Db, batch: BatchRecord): void {
  db.stmt(
    'INSERT INTO pj_batches (job_id, batch_index, trigger, trigger_kind, occurrence_at, run_count, written_runs, first_run_index, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(batch.jobId, batch.batchIndex, batch.trigger, batch.triggerKind, batch.occurrenceAt, batch.runCount, batch.writtenRuns, batch.firstRunIndex, batch.createdAt);
  db.stmt('INSERT INTO pj_batch_parts (job_id, batch_index, env_vars, grid, selection) VALUES (?, ?, ?, ?, ?)').run(
    batch.jobId,
    batch.batchIndex,
    json(batch.envVars),
    json(batch.grid),
    json(batch.selection),
  );
}

/** A batch's row of small fields (no JSON read), or `undefined`. */
export function selectBatchHead(db: Db, jobId: string, batchIndex: number): BatchHeadRow | undefined {
  return db.stmt(`SELECT ${BATCH_HEAD_COLUMNS.join(', ')} FROM pj_batches WHERE job_id = ? AND batch_index = ?`).get(jobId, batchIndex) as BatchHeadRow | undefined;
}

/** A batch's small fields (no JSON read or parsed), or `undefined`. */
export function readBatchHead(db: Db, jobId: string, batchIndex: number): Omit<BatchRecord, 'envVars' | 'grid' | 'selection'> | undefined {
  const row = selectBatchHead(db, jobId, batchIndex);
  return row && batchHeadOf(row);
}

/** Deletes every batch of a job (both rows). */
export function deleteJobBatches(db: Db, jobId: string): void {
  db.stmt('DELETE FROM pj_batch_parts WHERE job_id = ?').run(jobId);
  db.stmt('DELETE FROM pj_batches WHERE job_id = ?').run(jobId);
}

/** Deletes a job's batches that are fully written and have no run left (both rows). */
export function deleteEmptyBatches(db: Db, jobId: string): void {
  const gone = db
    .stmt(
      `DELETE FROM pj_batches WHERE job_id = ? AND written_runs >= run_count
       AND NOT EXISTS (SELECT 1 FROM pj_runs r WHERE r.job_id = pj_batches.job_id AND r.batch_index = pj_batches.batch_index) RETURNING batch_index`,
    )
    .all(jobId) as Array<{ batch_index: number }>;
  const dropParts = db.stmt('DELETE FROM pj_batch_parts WHERE job_id = ? AND batch_index = ?');
  for (const b of gone) dropParts.run(jobId, b.batch_index);
}
