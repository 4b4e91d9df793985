import type { Tables } from './pg.js';
import { DB_NOW_MS } from './pg.js';

/** The runs table's columns as the claim function returns them (after `claim_low`). */
export const RUN_COLUMNS = [
  'id TEXT', 'job_id TEXT', 'batch_index INTEGER', 'grid_index BIGINT', 'index_in_batch BIGINT', 'run_index BIGINT', 'status TEXT', 'parameters TEXT',
  'created_at BIGINT', 'started_at BIGINT', 'finished_at BIGINT', 'reason TEXT', 'error TEXT', 'attempts INTEGER', 'lease_owner TEXT',
  'lease_expires_at BIGINT', 'cancel_requested BOOLEAN', 'process_info TEXT', 'seq BIGINT',
];

/**
 * The claim as one server-side function: a claim is one round trip and one commit (its
 * own statement), with its plans cached per connection.
 *
 * 0. Find the oldest PENDING run at or after `p_from`, and start from it. The pending
 *    index's head fills with entries of runs claimed since the table was last vacuumed,
 *    which every claim from the start would walk (a millisecond per 60,000 here, per
 *    claim); a run becomes PENDING only with a new, higher `seq`, so the oldest one seen
 *    stays a lower bound, and the caller passes it back (`claim_low` of every row).
 * 1. Find the jobs at their limit by this snapshot's count that have PENDING runs
 *    (`v_full`; the per-job pending index answers each in one probe).
 * 2. Lock up to `p_limit` PENDING runs, oldest `seq` first, of jobs in `p_statuses` (and
 *    `p_jobs`), `FOR UPDATE SKIP LOCKED`: another claimer takes other runs.
 *    - No job at its limit: walk the pending index in `seq` order (`runs_pending`) and
 *      stop at `p_limit`: the cost of a claim is the runs it takes.
 *    - Some job at its limit: a walk in `seq` order would pass over that job's whole
 *      backlog (every claim, while the job is full). Instead take the jobs that have
 *      room, and each one's head (at most its room) by its own pending index
 *      (`runs_job_pending`, `(job_id, seq)`), merged by `seq`: the cost is a probe per
 *      job with room, never the rows of a full job. The merged candidates are read
 *      without locks (locking each job's head would lock rows the merge drops), then
 *      locked one by one by primary key (one statement over all of them gets planned,
 *      on stale statistics, as a walk of the pending index), skipping those another
 *      claimer holds or took; when some were, the next round starts past the last
 *      candidate, so a claim is short only when the runs are.
 *    Then lock their jobs: those with a limit `FOR UPDATE` (claims of one limited job
 *    take turns), the others `FOR KEY SHARE`, which claims share with each other and with
 *    finishes, but which an update of the job (`FOR UPDATE`) waits for, so a limit or
 *    status set by an update applies to every claim that commits after it. Both locks
 *    re-check the job's status and limit on the newest row version. (A claim that raced
 *    a limit change takes none of that job's runs; the next claim does.)
 * 3. Only when a limited job is among them: count its STARTED runs (row + deltas) in a
 *    new statement, whose snapshot is taken with the lock held (a volatile function's
 *    statements each take one under READ COMMITTED). Every claim of the job that
 *    committed is in it and none can commit meanwhile; a fold that ran while this claim
 *    waited is seen whole (an older snapshot would count its deltas twice). The snapshot
 *    counts of steps 1 and 2 only choose candidates; this count is the one that decides.
 * 4. The runs that fit become STARTED with a lease from the database's clock, and their
 *    counters move as one delta row per job.
 *
 * `enable_sort`/`enable_bitmapscan` off, for this function only: right after a big batch
 * is written the statistics are stale and the planner would rather collect and sort
 * every pending run (cost linear in the backlog, per claim) than walk the pending index
 * in `seq` order and stop at the limit. `jit` off: the sorts that remain (a handful of
 * rows) then carry the disabled-sort penalty, which would push the plan's cost past
 * `jit_above_cost` and compile every claim (about a second here). `plan_cache_mode`
 * generic: the function's statements are planned once per connection instead of on
 * every claim (their custom plans cost more to plan than to run: the planner reads the
 * ends of the `seq` indexes for each range; about 1 ms of a 1.9 ms claim here), and with
 * the settings above the generic plans are the index walks the comments describe.
 *
 * `CREATE OR REPLACE`: the schema migration that changes the claim replaces the
 * function an older version created (same signature).
 */
export function claimFunctionSql(t: Tables): string {
  const started = `coalesce((SELECT sum(k.started) FROM ${t.counts} k WHERE k.job_id = j.id), 0)`;
  const active = `j.status = ANY(p_statuses) AND (p_jobs IS NULL OR j.id = ANY(p_jobs))`;
  return `
    CREATE OR REPLACE FUNCTION ${t.claim}(p_owner TEXT, p_limit BIGINT, p_lease BIGINT, p_jobs TEXT[], p_statuses TEXT[], p_from BIGINT)
    RETURNS TABLE (claim_low BIGINT, ${RUN_COLUMNS.join(', ')})
    LANGUAGE plpgsql SET enable_sort = off SET enable_bitmapscan = off SET jit = off SET plan_cache_mode = force_generic_plan AS $claim$
    #variable_conflict use_column
    DECLARE
      v_low BIGINT;
      v_full TEXT[];
      v_after BIGINT;
      v_last BIGINT;
      v_id TEXT;
      v_seq BIGINT;
      v_job TEXT;
      v_ids TEXT[] := '{}';
      v_jobs TEXT[] := '{}';
      v_free TEXT[];
      v_lim TEXT[];
      v_room BIGINT[];
    BEGIN
      SELECT r.seq INTO v_low FROM ${t.runs} r WHERE r.status = 'PENDING' AND r.seq >= p_from ORDER BY r.seq LIMIT 1;
      IF v_low IS NULL THEN
        RETURN;
      END IF;
      SELECT array_agg(j.id) INTO v_full FROM ${t.jobs} j
      WHERE ${active} AND j.max_concurrent_runs > 0 AND j.n_started + ${started} >= j.max_concurrent_runs
        -- A scalar subquery, not EXISTS: a semi-join may be planned as a read of every
        -- pending run; this is one probe of the job's pending index per limited job.
        AND (SELECT r.seq FROM ${t.runs} r WHERE r.job_id = j.id AND r.status = 'PENDING' AND r.seq >= v_low ORDER BY r.seq LIMIT 1) IS NOT NULL;
      IF v_full IS NULL THEN
        SELECT array_agg(c.id ORDER BY c.seq), array_agg(c.job_id ORDER BY c.seq) INTO v_ids, v_jobs FROM (
          SELECT r.id, r.job_id, r.seq FROM ${t.runs} r JOIN ${t.jobs} j ON j.id = r.job_id
          WHERE r.status = 'PENDING' AND r.seq >= v_low AND ${active}
          ORDER BY r.seq LIMIT p_limit FOR UPDATE OF r SKIP LOCKED
        ) c;
      ELSE
        v_after := v_low - 1;
        LOOP
          v_last := NULL;
          FOR v_id, v_seq IN
            WITH open AS (
              SELECT j.id, CASE WHEN j.max_concurrent_runs = 0 THEN p_limit
                                ELSE least(p_limit, j.max_concurrent_runs - j.n_started - ${started}) END AS room
              FROM ${t.jobs} j WHERE ${active} AND NOT (j.id = ANY(v_full))
            )
            SELECT h.id, h.seq FROM open CROSS JOIN LATERAL (
              SELECT r.id, r.seq FROM ${t.runs} r
              WHERE r.job_id = open.id AND r.status = 'PENDING' AND r.seq > v_after
              ORDER BY r.seq LIMIT open.room
            ) h
            WHERE open.room > 0
            ORDER BY h.seq LIMIT p_limit - coalesce(cardinality(v_ids), 0)
          LOOP
            v_last := v_seq;
            SELECT r.job_id INTO v_job FROM ${t.runs} r WHERE r.id = v_id AND r.status = 'PENDING' FOR UPDATE OF r SKIP LOCKED;
            IF FOUND THEN
              v_ids := v_ids || v_id;
              v_jobs := v_jobs || v_job;
            END IF;
          END LOOP;
          EXIT WHEN v_last IS NULL OR cardinality(v_ids) >= p_limit;
          v_after := v_last;
        END LOOP;
      END IF;
      IF coalesce(cardinality(v_ids), 0) = 0 THEN
        RETURN;
      END IF;
      SELECT array_agg(j.id) INTO v_lim FROM (
        SELECT j.id FROM ${t.jobs} j
        WHERE j.id = ANY(v_jobs) AND j.max_concurrent_runs > 0 AND j.status = ANY(p_statuses)
        ORDER BY j.id FOR UPDATE
      ) j;
      SELECT array_agg(j.id) INTO v_free FROM (
        SELECT j.id FROM ${t.jobs} j
        WHERE j.id = ANY(v_jobs) AND j.max_concurrent_runs = 0 AND j.status = ANY(p_statuses)
        ORDER BY j.id FOR KEY SHARE
      ) j;
      IF v_lim IS NOT NULL THEN
        SELECT array_agg(j.id), array_agg(j.max_concurrent_runs - j.n_started - ${started}) INTO v_lim, v_room
        FROM ${t.jobs} j WHERE j.id = ANY(v_lim);
      END IF;
      RETURN QUERY
      WITH n AS (
        SELECT x.id, x.job_id, row_number() OVER (PARTITION BY x.job_id ORDER BY x.o) AS k FROM unnest(v_ids, v_jobs) WITH ORDINALITY AS x(id, job_id, o)
      ), room AS (
        SELECT y.id, y.room FROM unnest(v_lim, v_room) AS y(id, room)
      ), u AS (
        UPDATE ${t.runs} r SET status = 'STARTED', started_at = ${DB_NOW_MS}, attempts = r.attempts + 1, lease_owner = p_owner,
          lease_expires_at = ${DB_NOW_MS} + p_lease
        FROM n LEFT JOIN room ON room.id = n.job_id
        WHERE r.id = n.id AND (n.job_id = ANY(v_free) OR n.k <= room.room)
        RETURNING r.*
      ), d AS (
        INSERT INTO ${t.counts} (job_id, pending, started, success, failure, aborted)
        SELECT u.job_id, -count(*), count(*), 0, 0, 0 FROM u GROUP BY u.job_id
      )
      SELECT v_low, u.* FROM u ORDER BY u.seq;
    END
    $claim$;`;
}
