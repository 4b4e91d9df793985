import type { Pool } from 'pg';
import type { Logger } from '../../logger.js';
import type { RunState } from '../../status.js';
import type { FinishRun } from '../port.js';
import { json } from '../sql/rows.js';
import type { DeltaTally } from './counters.js';
import { foldCounts } from './counters.js';
import { endRunsCte } from './end-sql.js';
import type { Tables } from './pg.js';
import { prepared } from './pg.js';

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
 * so the second sees the first's result and resolves `false`. The counters move as delta
 * rows (no job row lock, so finishes and claims never wait on each other); between
 * writes, the finisher folds the deltas of busy jobs into their rows (see counters.ts).
 */
export class RunFinisher {
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly t: Tables,
    private readonly mapError: (error: unknown) => Error,
    private readonly tally: DeltaTally,
    private readonly logger: Logger,
  ) {}

  finish(runId: string, end: FinishRun): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ runId, end, resolve, reject });
      // Start writing after the current microtasks: finishes called in one burst (runs
      // that ended together) share the first statement instead of the second.
      if (this.#queue.length === 1) queueMicrotask(() => this.#kick());
    });
  }

  #kick(): void {
    if (this.#flushing) return;
    // #flush handles its own errors. A call that arrived after its loop saw an empty
    // queue, but before this callback, starts the next flush here.
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  /** Resolves when nothing is being written (before the pool is ended). */
  async idle(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      this.#kick();
      await this.#flushing;
    }
  }

  async #flush(): Promise<void> {
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
      await this.fold();
    }
  }

  /**
   * Folds the deltas of jobs this process wrote many for; a job someone holds is tried
   * again later. Never rejects: folding only compacts.
   */
  async fold(): Promise<void> {
    const due = this.tally.due();
    if (due.length === 0) return;
    // Due again after as many writes, folded or not: a job whose row someone held now
    // (or that was deleted) is not tried after every write.
    this.tally.folded(due);
    try {
      await foldCounts(this.pool, this.t, due);
    } catch (error) {
      // Folding only compacts: the deltas stay valid where they are and are folded on a
      // later try, so a failure here must not fail the finishes waiting behind it.
      this.logger.warn('folding job counters failed; will retry', { error: this.mapError(error) });
    }
  }

  async #write(batch: Pending[]): Promise<Set<string>> {
    const { t } = this;
    const rows = await prepared<{ id: string; job_id: string }>(
      this.pool,
      `${t.schema}:finish`,
      `${endRunsCte(t, { ids: '$1::text[]', owners: '$2::text[]', statuses: '$3::text[]', reasons: '$4::text[]', errors: '$5::text[]', at: '$6::bigint[]' })}
       SELECT u.id, u.job_id FROM u`,
      [
        batch.map((p) => p.runId),
        batch.map((p) => p.end.owner),
        batch.map((p) => p.end.status satisfies RunState),
        batch.map((p) => p.end.reason ?? null),
        batch.map((p) => (p.end.error ? json(p.end.error) : null)),
        batch.map((p) => p.end.now),
      ],
    );
    this.tally.note(new Set(rows.map((r) => r.job_id)));
    return new Set(rows.map((r) => r.id));
  }
}
