import type { Tables } from './pg.js';

/** SQL expressions of the arrays an end of runs reads (parameters, or a function's arguments). */
export interface EndArrays {
  ids: string;
  owners: string;
  statuses: string;
  reasons: string;
  errors: string;
  at: string;
}

/**
 * Runs' ends as data-modifying CTEs, for the finisher's statement and the end-and-claim
 * function alike: `u` is each run moved from STARTED (held by its owner) or PENDING (no
 * owner) to its end state (`id`, `job_id`, `status`, `was_pending`), `d` one counter delta
 * row per job. Follow with a query that reads `u`.
 */
export function endRunsCte(t: Tables, a: EndArrays): string {
  return `WITH i AS (
      SELECT * FROM unnest(${a.ids}, ${a.owners}, ${a.statuses}, ${a.reasons}, ${a.errors}, ${a.at}) AS x(id, owner, status, reason, error, at)
    ), u AS (
      UPDATE ${t.runs} r SET status = i.status, finished_at = i.at, reason = i.reason, error = i.error, lease_owner = NULL, lease_expires_at = NULL
      FROM i WHERE r.id = i.id AND r.id = ANY(${a.ids}) AND ((i.owner IS NULL AND r.status = 'PENDING') OR (i.owner IS NOT NULL AND r.status = 'STARTED' AND r.lease_owner = i.owner))
      RETURNING r.id, r.job_id, r.status, i.owner IS NULL AS was_pending
    ), d AS (
      INSERT INTO ${t.counts} (job_id, pending, started, success, failure, aborted)
      SELECT u.job_id, -count(*) FILTER (WHERE u.was_pending), -count(*) FILTER (WHERE NOT u.was_pending),
             count(*) FILTER (WHERE u.status = 'SUCCESS'), count(*) FILTER (WHERE u.status = 'FAILURE'), count(*) FILTER (WHERE u.status = 'ABORTED')
      FROM u GROUP BY u.job_id
    )`;
}

/**
 * Upserts step states from nine arrays (run, ord, uuid, status, started, finished,
 * attempts, exit code, error: the order of `stepColumns` in runs.ts), keeping the rows
 * `where` allows (on `x.run_id`), for `putStepStates` and the end-and-claim function.
 */
export function upsertStepsSql(t: Tables, arrays: readonly string[], where: string): string {
  return `INSERT INTO ${t.steps} (run_id, ord, step_uuid, status, started_at, finished_at, attempts, exit_code, error)
    SELECT x.run_id, x.ord, x.u, x.s, x.sa, x.fa, x.a, x.e, x.err
    FROM unnest(${arrays.join(', ')}) AS x(run_id, ord, u, s, sa, fa, a, e, err)
    WHERE ${where}
    ON CONFLICT (run_id, ord) DO UPDATE SET step_uuid = excluded.step_uuid, status = excluded.status, started_at = excluded.started_at,
      finished_at = excluded.finished_at, attempts = excluded.attempts, exit_code = excluded.exit_code, error = excluded.error`;
}
