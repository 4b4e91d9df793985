import type { Pool } from 'pg';
import type { RunState } from '../../status.js';
import type { FinishRun } from '../port.js';
import { json } from '../sql/rows.js';
import type { Tables } from './pg.js';
import { statement } from './pg.js';

interface Pending {
  runId: string;
  end: FinishRun;
  resolve: (ok: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Ends runs in batches: calls that arrive while a statement is in flight are written
 * together by the next one (one round trip and one commit for many runs), so a busy
 * process finishes thousands of runs a second without adding latency when it is idle.
 * Each call still gets its own answer; two finishes of one run never share a statement,
 * so the second sees the first's result and resolves `false`.
 */
export class RunFinisher {
  #queue: Pending[] = [];
  #flushing = false;

  constructor(
    private readonly pool: Pool,
    private readonly t: Tables,
    private readonly mapError: (error: unknown) => Error,
  ) {}

  finish(runId: string, end: FinishRun): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ runId, end, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) {
      const seen = new Set<string>();
      const batch: Pending[] = [];
      const later: Pending[] = [];
      for (const p of this.#queue) (seen.has(p.runId) ? later : batch).push(p), seen.add(p.runId);
      this.#queue = later;
      try {
        const done = await this.#write(batch);
        for (const p of batch) p.resolve(done.has(p.runId));
      } catch (error) {
        // The statement failed as a whole (nothing was written): every caller in it learns why.
        const typed = this.mapError(error);
        for (const p of batch) p.reject(typed);
      }
    }
    this.#flushing = false;
  }

  async #write(batch: Pending[]): Promise<Set<string>> {
    const { t } = this;
    const rows = await statement<{ id: string }>(
      this.pool,
      `WITH i AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS x(id, owner, status, reason, error, at)
       ), u AS (
         UPDATE ${t.runs} r SET status = i.status, finished_at = i.at, reason = i.reason, error = i.error, lease_owner = NULL, lease_expires_at = NULL
         FROM i WHERE r.id = i.id AND r.id = ANY($1::text[]) AND ((i.owner IS NULL AND r.status = 'PENDING') OR (i.owner IS NOT NULL AND r.status = 'STARTED' AND r.lease_owner = i.owner))
         RETURNING r.id, r.job_id, r.status, i.owner IS NULL AS was_pending
       ), d AS (
         SELECT job_id, count(*) FILTER (WHERE was_pending) AS p, count(*) FILTER (WHERE NOT was_pending) AS s,
                count(*) FILTER (WHERE status = 'SUCCESS') AS ok, count(*) FILTER (WHERE status = 'FAILURE') AS f, count(*) FILTER (WHERE status = 'ABORTED') AS a
         FROM u GROUP BY job_id
       ), j AS (
         UPDATE ${t.jobs} SET n_pending = n_pending - d.p, n_started = n_started - d.s, n_success = n_success + d.ok, n_failure = n_failure + d.f, n_aborted = n_aborted + d.a
         FROM d WHERE ${t.jobs}.id = d.job_id AND ${t.jobs}.id IN (SELECT job_id FROM d) RETURNING 1
       )
       SELECT id FROM u`,
      [
        batch.map((p) => p.runId),
        batch.map((p) => p.end.owner),
        batch.map((p) => p.end.status satisfies RunState),
        batch.map((p) => p.end.reason ?? null),
        batch.map((p) => (p.end.error ? json(p.end.error) : null)),
        batch.map((p) => p.end.now),
      ],
    );
    return new Set(rows.map((r) => r.id));
  }
}
