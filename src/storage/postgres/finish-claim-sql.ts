import type { Tables } from './pg.js';
import { RUN_COLUMNS } from './claim-sql.js';
import { endRunsCte, upsertStepsSql } from './end-sql.js';

/**
 * Ends runs and claims others as one server-side function: one round trip and one commit
 * for a turn of a process's slots (`Storage.finishAndClaim`), where `putStepStates`,
 * `finishRun` and `claimRuns` would take three of each.
 *
 * 1. The ends, with the finisher's SQL (end-sql.ts): each run from STARTED (held by
 *    its owner) or PENDING (no owner) to its end state, with one counter delta row per
 *    job.
 * 2. The step states given with the ends that were written (`p_step_counts[i]` states of
 *    end i, NULL for none given; flattened in `p_s_*`), as `putStepStates` writes them:
 *    states past the new count are deleted, the others upserted.
 * 3. The ends written, as rows with `finished_id` (and `finished_job`) set.
 * 4. The claim, by calling the claim function (claim-sql.ts) in a statement of its own:
 *    it sees the ends (a function's statements each take a new snapshot and command id),
 *    so a job at its `maxConcurrentRuns` whose run just ended has room again. Returned as
 *    rows with `finished_id` NULL and the run's columns set.
 *
 * The caller validates the input (no run twice) first; the function is its own
 * transaction, so a failure leaves nothing of any part.
 */
export function finishClaimFunctionSql(t: Tables): string {
  const runNulls = RUN_COLUMNS.map((c) => `NULL::${c.split(' ')[1]}`).join(', ');
  return `
    CREATE OR REPLACE FUNCTION ${t.finishClaim}(
      p_ids TEXT[], p_owners TEXT[], p_ends TEXT[], p_reasons TEXT[], p_errors TEXT[], p_at BIGINT[], p_step_counts INT[],
      p_s_run TEXT[], p_s_ord INT[], p_s_uuid TEXT[], p_s_status TEXT[], p_s_started BIGINT[], p_s_finished BIGINT[], p_s_attempts INT[], p_s_exit INT[], p_s_error TEXT[],
      p_owner TEXT, p_limit BIGINT, p_lease BIGINT, p_jobs TEXT[], p_statuses TEXT[], p_from BIGINT)
    RETURNS TABLE (finished_id TEXT, finished_job TEXT, claim_low BIGINT, ${RUN_COLUMNS.join(', ')})
    LANGUAGE plpgsql AS $finish_claim$
    #variable_conflict use_column
    DECLARE
      v_ids TEXT[];
      v_jobs TEXT[];
    BEGIN
      ${endRunsCte(t, { ids: 'p_ids', owners: 'p_owners', statuses: 'p_ends', reasons: 'p_reasons', errors: 'p_errors', at: 'p_at' })}
      SELECT array_agg(u.id), array_agg(u.job_id) INTO v_ids, v_jobs FROM u;
      IF v_ids IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(p_step_counts) AS c(n) WHERE c.n IS NOT NULL) THEN
        DELETE FROM ${t.steps} s USING unnest(p_ids, p_step_counts) AS y(run_id, n)
        WHERE y.n IS NOT NULL AND y.run_id = ANY(v_ids) AND s.run_id = y.run_id AND s.ord >= y.n;
        ${upsertStepsSql(t, ['p_s_run', 'p_s_ord', 'p_s_uuid', 'p_s_status', 'p_s_started', 'p_s_finished', 'p_s_attempts', 'p_s_exit', 'p_s_error'], 'x.run_id = ANY(v_ids)')};
      END IF;
      RETURN QUERY SELECT x.id, x.job_id, NULL::BIGINT, ${runNulls} FROM unnest(v_ids, v_jobs) AS x(id, job_id);
      IF p_limit > 0 AND (p_jobs IS NULL OR cardinality(p_jobs) > 0) THEN
        RETURN QUERY SELECT NULL::TEXT, NULL::TEXT, c.* FROM ${t.claim}(p_owner, p_limit, p_lease, p_jobs, p_statuses, p_from) c;
      END IF;
    END
    $finish_claim$;`;
}
