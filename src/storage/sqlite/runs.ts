import type { Clock } from '../../clock.js';
import { StorageError } from '../../errors.js';
import type { JobStatus, RunState } from '../../status.js';
import { parseIndexCursor } from '../shared/cursors.js';
import type { CancelTarget, ClaimInput, FinishAndClaimResult, FinishRun, HeartbeatResult, RecoveredRun, RunEnd, RunFilter } from '../port.js';
import type { JobRecord, Json, NewRun, Page, RunRecord, StepStateRecord } from '../records.js';
import { RUNS_WRITABLE, checkDeleteRuns, checkEnds, checkLimit, checkRelease, claimsNothing, freshRuns, groupSteps } from '../shared/checks.js';
import type { RunRow, StepRow } from '../sql/rows.js';
import { json, toRun, toStep } from '../sql/rows.js';
import type { Db } from './db.js';
import { readJob } from './job-rows.js';
import { deleteEmptyBatches, readBatchHead } from './batch-rows.js';

const END = `('SUCCESS', 'FAILURE', 'ABORTED')`;

/** The run half of the SQLite adapter: each method runs inside one write transaction when it writes. */
export class SqliteRuns {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  insertRuns(jobId: string, batchIndex: number, runs: readonly NewRun[], now: number): boolean {
    const { db } = this;
    return db.write(() => {
      const batch = readBatchHead(db, jobId, batchIndex);
      if (!batch) throw new StorageError('STORAGE_NOT_FOUND', 'No such batch', { path: 'batchIndex', value: `${jobId}#${batchIndex}` });
      // Compare-and-set on the job's status, in this write transaction: an ended job's batch is closed.
      const job = db.stmt('SELECT status FROM pj_jobs WHERE id = ?').get(jobId) as { status: JobStatus } | undefined;
      if (!job || !RUNS_WRITABLE.includes(job.status)) {
        db.stmt('UPDATE pj_batches SET run_count = written_runs WHERE job_id = ? AND batch_index = ?').run(jobId, batchIndex);
        return false;
      }
      const fresh = freshRuns(batch, runs);
      if (fresh.length === 0) return true;
      const insert = db.stmt(
        `INSERT INTO pj_runs (id, job_id, batch_index, grid_index, index_in_batch, run_index, status, parameters, created_at, attempts, cancel_requested, seq)
         VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, 0, 0, ?) ON CONFLICT (job_id, batch_index, index_in_batch) DO NOTHING`,
      );
      let seq = db.takeSeq(fresh.length);
      let added = 0;
      let written = batch.writtenRuns;
      for (const r of fresh) {
        try {
          added += insert.run(r.id, jobId, batchIndex, r.gridIndex, r.indexInBatch, batch.firstRunIndex + r.indexInBatch, json(r.parameters), now, seq++).changes;
        } catch (error) {
          if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new StorageError('STORAGE_DUPLICATE_ID', 'A run with this id exists', { path: `runs[${fresh.indexOf(r)}].id`, value: r.id, cause: error });
          }
          throw error;
        }
        written = Math.max(written, r.indexInBatch + 1);
      }
      db.stmt('UPDATE pj_batches SET written_runs = ? WHERE job_id = ? AND batch_index = ?').run(written, jobId, batchIndex);
      db.addCounters(jobId, { PENDING: added });
      return true;
    });
  }

  claim(input: ClaimInput): RunRecord[] {
    checkLimit(input.limit, input.leaseMs);
    if (claimsNothing(input)) return [];
    const { db } = this;
    const statuses = JSON.stringify(input.jobStatuses ?? ['STARTED', 'PAUSED']);
    const jobIds = input.jobIds ? JSON.stringify(input.jobIds) : null;
    return db.write(() => {
      const now = this.clock.now();
      const expires = now + input.leaseMs;
      const take = db.stmt("UPDATE pj_runs SET status = 'STARTED', started_at = ?, attempts = attempts + 1, lease_owner = ?, lease_expires_at = ? WHERE id = ?");
      const claim = (rows: RunRow[]): RunRecord[] => {
        const taken = new Map<string, number>();
        const out = rows.map((row) => {
          take.run(now, input.owner, expires, row.id);
          taken.set(row.job_id, (taken.get(row.job_id) ?? 0) + 1);
          return { ...toRun(row), status: 'STARTED' as const, startedAt: now, attempts: Number(row.attempts) + 1, leaseOwner: input.owner, leaseExpiresAt: expires };
        });
        for (const [jobId, n] of taken) db.addCounters(jobId, { PENDING: -n, STARTED: n });
        return out;
      };
      const jobs = db
        .stmt(
          `SELECT id, n_started, max_concurrent_runs FROM pj_jobs WHERE n_pending > 0 AND status IN (SELECT value FROM json_each(?))
           AND (? IS NULL OR id IN (SELECT value FROM json_each(?)))`,
        )
        .all(statuses, jobIds, jobIds) as Array<{ id: string; n_started: number; max_concurrent_runs: number }>;
      const capacity = (j: { n_started: number; max_concurrent_runs: number }): number =>
        j.max_concurrent_runs > 0 ? Math.max(0, j.max_concurrent_runs - j.n_started) : Number.POSITIVE_INFINITY;
      if (jobs.length === 0) return [];
      if (input.jobIds || jobs.some((j) => capacity(j) === 0)) {
        // A job is at its limit (or left out by `jobIds`): walking the pending runs in seq
        // order would pass its whole backlog. Take each job that may run from its own queue
        // (pj_runs_pending_by_job), at most its capacity, and merge them by seq: the cost no
        // longer grows with another job's backlog.
        const perJob = db.stmt("SELECT * FROM pj_runs INDEXED BY pj_runs_pending_by_job WHERE job_id = ? AND status = 'PENDING' ORDER BY seq LIMIT ?");
        const rows: RunRow[] = [];
        for (const j of jobs) {
          const cap = Math.min(capacity(j), input.limit);
          if (cap > 0) rows.push(...(perJob.all(j.id, cap) as RunRow[]));
        }
        rows.sort((a, b) => Number(a.seq) - Number(b.seq));
        return claim(rows.slice(0, input.limit));
      }
      const candidates = db.stmt(
        // Walk the pending runs in seq order (the partial index), joining each to its job:
        // left to itself the planner may scan all of a job's runs and sort them.
        `SELECT r.*, j.n_started AS j_started, j.max_concurrent_runs AS j_max FROM pj_runs r INDEXED BY pj_runs_pending CROSS JOIN pj_jobs j ON j.id = r.job_id
         WHERE r.status = 'PENDING' AND r.seq > ? AND j.status IN (SELECT value FROM json_each(?))
           AND (? IS NULL OR r.job_id IN (SELECT value FROM json_each(?)))
           AND (j.max_concurrent_runs = 0 OR j.n_started < j.max_concurrent_runs)
         ORDER BY r.seq LIMIT ?`,
      );
      const out: RunRecord[] = [];
      let after = -1;
      while (out.length < input.limit) {
        const want = input.limit - out.length;
        const rows = candidates.all(after, statuses, jobIds, jobIds, want) as Array<RunRow & { j_started: number; j_max: number }>;
        const taken = new Map<string, number>();
        const chosen: RunRow[] = [];
        for (const row of rows) {
          after = Number(row.seq);
          const already = taken.get(row.job_id) ?? 0;
          // A job that reaches its limit in this round is left out of the next query by its counter.
          if (row.j_max > 0 && row.j_started + already >= row.j_max) continue;
          taken.set(row.job_id, already + 1);
          chosen.push(row);
        }
        out.push(...claim(chosen));
        if (rows.length < want) break;
      }
      return out;
    });
  }

  heartbeat(owner: string, runIds: readonly string[], leaseMs: number): HeartbeatResult {
    const result: HeartbeatResult = { cancelRequested: [], lost: [] };
    if (runIds.length === 0) return result;
    const { db } = this;
    return db.write(() => {
      const extend = db.stmt("UPDATE pj_runs SET lease_expires_at = ? WHERE id = ? AND status = 'STARTED' AND lease_owner = ? RETURNING cancel_requested");
      const until = this.clock.now() + leaseMs;
      for (const id of runIds) {
        const row = extend.get(until, id, owner) as { cancel_requested: number } | undefined;
        if (!row) result.lost.push(id);
        else if (row.cancel_requested) result.cancelRequested.push(id);
      }
      return result;
    });
  }

  setProcessInfo(runId: string, owner: string, info: Json): void {
    this.db.stmt("UPDATE pj_runs SET process_info = ? WHERE id = ? AND lease_owner = ? AND status = 'STARTED'").run(json(info), runId, owner);
  }

  /** Group commit (see Db.grouped): the ends of runs that finish together share one transaction. */
  finish(runId: string, end: FinishRun): Promise<boolean> {
    const { db } = this;
    return db.grouped(() => this.#end(runId, end));
  }

  /** Writes a run's end as `finishRun` takes it (in the caller's transaction). */
  #end(runId: string, end: FinishRun): boolean {
    return this.#finish(runId, end.owner === null ? 'PENDING' : 'STARTED', end.owner, end.status, end.reason ?? null, end.error ? json(end.error) : null, end.now);
  }

  /**
   * The ends, then the claim, in one write transaction (the claim's own is a savepoint in
   * it), shared with the other grouped writes of the burst (see Db.grouped): a run's step
   * states and its end commit together.
   */
  finishAndClaim(ends: readonly RunEnd[], input: ClaimInput): Promise<FinishAndClaimResult> {
    checkEnds(ends);
    checkLimit(input.limit, input.leaseMs);
    return this.db.grouped(() => ({
      finished: ends.map(({ runId, end, steps }) => {
        const done = this.#end(runId, end);
        if (done && steps) this.#writeSteps(runId, steps);
        return done;
      }),
      claimed: this.claim(input),
    }));
  }

  #finish(runId: string, from: RunState, owner: string | null, to: RunState, reason: string | null, error: string | null, now: number): boolean {
    const row = this.db
      .stmt(
        `UPDATE pj_runs SET status = ?, finished_at = ?, reason = ?, error = ?, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = ? AND status = ? AND lease_owner IS ? RETURNING job_id`,
      )
      .get(to, now, reason, error, runId, from, owner) as { job_id: string } | undefined;
    if (!row) return false;
    this.db.addCounters(row.job_id, { [from]: -1, [to]: 1 });
    return true;
  }

  cancel(target: CancelTarget, now: number): { aborted: string[]; flagged: string[] } {
    const { db } = this;
    return db.write(() => {
      const ids = 'jobId' in target
        ? (db.stmt("SELECT id FROM pj_runs WHERE job_id = ? AND status IN ('PENDING', 'STARTED') ORDER BY run_index").all(target.jobId) as Array<{ id: string }>).map((r) => r.id)
        : target.runIds;
      const aborted: string[] = [];
      const flagged: string[] = [];
      const flag = db.stmt("UPDATE pj_runs SET cancel_requested = 1 WHERE id = ? AND status = 'STARTED' RETURNING id");
      for (const id of ids) {
        if (this.#finish(id, 'PENDING', null, 'ABORTED', 'cancelled', null, now)) aborted.push(id);
        else if (flag.get(id)) flagged.push(id);
      }
      return { aborted, flagged };
    });
  }

  release(owner: string, keep: readonly string[]): string[] {
    checkRelease(owner, keep);
    const { db } = this;
    const kept = new Set(keep);
    return db.write(() => {
      // An ended job gets no PENDING run back; a cancelled run ends through its lease.
      const held = db
        .stmt(
          `SELECT r.id, r.job_id FROM pj_runs r JOIN pj_jobs j ON j.id = r.job_id
           WHERE r.status = 'STARTED' AND r.lease_owner = ? AND r.cancel_requested = 0 AND j.status IN ('PENDING', 'STARTED', 'PAUSED') ORDER BY r.seq`,
        )
        .all(owner) as Array<{ id: string; job_id: string }>;
      const out: string[] = [];
      for (const row of held) {
        if (kept.has(row.id)) continue;
        const seq = db.takeSeq(1);
        db.stmt("UPDATE pj_runs SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, started_at = NULL, attempts = max(attempts - 1, 0), seq = ? WHERE id = ?").run(seq, row.id);
        db.addCounters(row.job_id, { STARTED: -1, PENDING: 1 });
        out.push(row.id);
      }
      return out;
    });
  }

  recover(requeue: (job: JobRecord) => boolean, now: number): RecoveredRun[] {
    const { db } = this;
    return db.write(() => {
      const expired = db.stmt("SELECT * FROM pj_runs WHERE status = 'STARTED' AND lease_expires_at <= ? ORDER BY seq").all(this.clock.now()) as RunRow[];
      const decisions = new Map<string, boolean>();
      const out: RecoveredRun[] = [];
      for (const row of expired) {
        const run = toRun(row);
        let again = decisions.get(run.jobId);
        if (again === undefined) {
          const job = readJob(db, run.jobId)!;
          // An ended job gets no PENDING run back.
          again = RUNS_WRITABLE.includes(job.status) && requeue(job);
          decisions.set(run.jobId, again);
        }
        if (again && !run.cancelRequested) {
          const seq = db.takeSeq(1);
          db.stmt("UPDATE pj_runs SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, started_at = NULL, seq = ? WHERE id = ?").run(seq, run.id);
          db.addCounters(run.jobId, { STARTED: -1, PENDING: 1 });
          out.push({ run: { ...run, status: 'PENDING', leaseOwner: null, leaseExpiresAt: null, startedAt: null, seq }, outcome: 'requeued' });
        } else {
          const status = run.cancelRequested ? 'ABORTED' : 'FAILURE';
          const reason = run.cancelRequested ? 'cancelled' : 'interrupted';
          this.#finish(run.id, 'STARTED', run.leaseOwner, status, reason, null, now);
          out.push({ run: { ...run, status, reason, error: null, finishedAt: now, leaseOwner: null, leaseExpiresAt: null }, outcome: 'failed' });
        }
      }
      return out;
    });
  }

  get(id: string): RunRecord | undefined {
    const row = this.db.stmt('SELECT * FROM pj_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  list(jobId: string, filter: RunFilter): Page<RunRecord> {
    const limit = filter.limit ?? 100;
    const after = filter.cursor ? parseIndexCursor(filter.cursor) : -1;
    const rows = this.db
      .stmt(
        `SELECT * FROM pj_runs WHERE job_id = ? AND run_index > ? AND (? IS NULL OR status IN (SELECT value FROM json_each(?)))
         AND (? IS NULL OR batch_index = ?) ORDER BY run_index LIMIT ?`,
      )
      .all(jobId, after, ...twice(filter.status ? JSON.stringify(filter.status) : null), ...twice(filter.batchIndex ?? null), limit + 1) as RunRow[];
    const items = rows.slice(0, limit).map(toRun);
    return { items, nextCursor: rows.length > limit && items.length > 0 ? String(items[items.length - 1]!.runIndex) : null };
  }

  /** Group commit (see Db.grouped), as for `finish`. */
  putSteps(runId: string, steps: readonly StepStateRecord[]): Promise<void> {
    const { db } = this;
    return db.grouped(() => {
      if (!db.stmt('SELECT 1 FROM pj_runs WHERE id = ?').get(runId)) return;
      this.#writeSteps(runId, steps);
    });
  }

  #writeSteps(runId: string, steps: readonly StepStateRecord[]): void {
    const { db } = this;
    db.stmt('DELETE FROM pj_steps WHERE run_id = ?').run(runId);
    const insert = db.stmt('INSERT INTO pj_steps (run_id, ord, step_uuid, status, started_at, finished_at, attempts, exit_code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    steps.forEach((s, i) => insert.run(runId, i, s.stepId, s.status, s.startedAt, s.finishedAt, s.attempts, s.exitCode, s.error ? json(s.error) : null));
  }

  getSteps(runId: string): StepStateRecord[] {
    return (this.db.stmt('SELECT * FROM pj_steps WHERE run_id = ? ORDER BY ord').all(runId) as StepRow[]).map(toStep);
  }

  /** The step states of several runs in one statement, by run id. */
  getStepsOf(runIds: readonly string[]): Map<string, StepStateRecord[]> {
    const rows = this.db.stmt('SELECT * FROM pj_steps WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, ord').all(JSON.stringify(runIds)) as StepRow[];
    return groupSteps(runIds, rows.map(toStep));
  }

  delete(jobId: string, which: { runIds: readonly string[] } | { keepLatest: number }): string[] {
    checkDeleteRuns(which);
    const { db } = this;
    return db.write(() => {
      const victims =
        'runIds' in which
          ? (db.stmt(`SELECT id FROM pj_runs WHERE job_id = ? AND status IN ${END} AND id IN (SELECT value FROM json_each(?)) ORDER BY run_index`).all(jobId, JSON.stringify(which.runIds)) as Array<{ id: string }>)
          : (db.stmt(`SELECT id FROM pj_runs WHERE job_id = ? AND status IN ${END} ORDER BY finished_at DESC, run_index DESC LIMIT -1 OFFSET ?`).all(jobId, Math.max(0, which.keepLatest)) as Array<{ id: string }>);
      const dropSteps = db.stmt('DELETE FROM pj_steps WHERE run_id = ?');
      const dropRun = db.stmt('DELETE FROM pj_runs WHERE id = ?');
      for (const { id } of victims) {
        dropSteps.run(id);
        dropRun.run(id);
      }
      // A batch goes with its last run; one still being written stays (its writer resumes it).
      deleteEmptyBatches(db, jobId);
      return victims.map((v) => v.id);
    });
  }
}

function twice<T>(v: T): [T, T] {
  return [v, v];
}
