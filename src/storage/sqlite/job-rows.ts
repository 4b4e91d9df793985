/**
 * Job rows in the SQLite adapter. Since schema 5 a job is two rows: its small fields and
 * counters in `pj_jobs`, its JSON parts (pipeline, grid, options, ...) in `pj_job_parts`.
 * SQLite rewrites a whole row on every update, overflow pages included, so with the parts
 * inline a counter update (two per run) or a claim reading a job's limit paid for a grid of
 * hundreds of kilobytes; now only a change of the parts themselves writes them. The parts
 * row carries the job version that last wrote it (`revision`), so parts parsed once are
 * reused across the versions that left them alone (a status change, a new batch).
 */
import type { JobRecord } from '../records.js';
import { JOB_HEAD_COLUMNS } from '../sql/parsed-parts.js';
import { json, jobColumnValues, toJob, type JobRow } from '../sql/rows.js';
import type { Db } from './db.js';

/** Each JSON part of a job record with its column in `pj_job_parts`. */
const PARTS = [
  ['pipeline', 'pipeline'],
  ['environments', 'environments'],
  ['grid', 'grid'],
  ['selection', 'selection'],
  ['schedule', 'schedule'],
  ['envVars', 'env_vars'],
  ['options', 'options'],
] as const satisfies ReadonlyArray<readonly [keyof JobRecord, string]>;

/** The small columns an update writes: all but the id. */
const HEAD_UPDATED = JOB_HEAD_COLUMNS.filter((c) => c !== 'id');

/** A whole job row: the small columns, the parts and their revision. Add `WHERE` / `ORDER BY` on `j.` columns. */
export const SELECT_JOB = `SELECT j.*, p.revision AS parts_revision, ${PARTS.map(([, c]) => `p.${c}`).join(', ')} FROM pj_jobs j JOIN pj_job_parts p ON p.job_id = j.id`;

/**
 * A job's small columns and the revision of its parts (the version that last wrote them),
 * without reading the parts: enough to tell whether parsed parts held in memory are current.
 */
export const SELECT_JOB_HEAD = `SELECT ${JOB_HEAD_COLUMNS.map((c) => `j.${c}`).join(', ')}, p.revision AS parts_revision FROM pj_jobs j JOIN pj_job_parts p ON p.job_id = j.id`;

/** The whole job, or `undefined`. */
export function readJob(db: Db, id: string): JobRecord | undefined {
  const row = db.stmt(`${SELECT_JOB} WHERE j.id = ?`).get(id) as JobRow | undefined;
  return row && toJob(row);
}

/** Inserts a new job (both rows). Throws the driver's constraint error on a duplicate id or key. */
export function insertJobRows(db: Db, job: JobRecord): void {
  db.stmt(`INSERT INTO pj_jobs (${JOB_HEAD_COLUMNS.join(', ')}) VALUES (${JOB_HEAD_COLUMNS.map(() => '?').join(', ')})`).run(...jobColumnValues(job, JOB_HEAD_COLUMNS));
  db.stmt(`INSERT INTO pj_job_parts (job_id, revision, ${PARTS.map(([, c]) => c).join(', ')}) VALUES (?, ?, ${PARTS.map(() => '?').join(', ')})`).run(
    job.id,
    job.version,
    ...PARTS.map(([f]) => json(job[f])),
  );
}

/**
 * Writes `next` over the stored job `prev` (read in the same transaction): every small
 * column, and only the parts that are not the very objects `prev` had (a patch keeps the
 * parts it does not touch), so a batch or a cursor move never rewrites the grid.
 */
export function writeJob(db: Db, next: JobRecord, prev: JobRecord): void {
  db.stmt(`UPDATE pj_jobs SET ${HEAD_UPDATED.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...jobColumnValues(next, HEAD_UPDATED), next.id);
  const changed = PARTS.filter(([f]) => next[f] !== prev[f]);
  if (changed.length === 0) return;
  db.stmt(`UPDATE pj_job_parts SET revision = ?, ${changed.map(([, c]) => `${c} = ?`).join(', ')} WHERE job_id = ?`).run(
    next.version,
    ...changed.map(([f]) => json(next[f])),
    next.id,
  );
}
