import type { Clock } from '../clock.js';
import { yieldTo } from '../clock.js';
import type { Storage } from '../storage/port.js';
import type { JobRecord, RunRecord } from '../storage/records.js';

/** Jobs whose latest read is kept for runs claimed before it started. */
const KEPT = 256;

/**
 * Reads of a job for its runs, shared. On PostgreSQL a read is a round trip, and ten runs
 * ending together made ten of them.
 * - The reads of one job asked for in one turn of the event loop (runs claimed together
 *   starting, runs that ended together looking at their job) are one store read, made
 *   after that turn (`clock.yield()`). Each caller asked before the read started, so what
 *   it gets is as fresh as a read of its own: a run that ended before asking sees its own
 *   end in the counters. Callers after the read started make the next one.
 * - A run about to start needs a read made after it was claimed: a read of its job that
 *   started after the claim (the one made when the runs it took the slots of ended, whose
 *   ends went with that claim) serves it.
 */
export class SharedJobReads {
  /** The read each job's callers of this turn wait for, until it starts. */
  readonly #next = new Map<string, Promise<JobRecord | undefined>>();
  /** The latest read started of each job (for runs claimed before it), with when it started. */
  readonly #latest = new Map<string, { started: number; read: Promise<JobRecord | undefined> }>();
  /** Reads started so far: the clock of `#latest`. */
  #started = 0;
  /** When each run was claimed, on that clock. */
  readonly #claimedAt = new WeakMap<RunRecord, number>();

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

  /** Notes that these runs were claimed now. */
  claimed(runs: readonly RunRecord[]): void {
    for (const run of runs) this.#claimedAt.set(run, this.#started);
  }

  /** The job of a run about to start: a read started after the run was claimed. */
  forRun(run: RunRecord): Promise<JobRecord | undefined> {
    const claimedAt = this.#claimedAt.get(run);
    const latest = this.#latest.get(run.jobId);
    if (claimedAt !== undefined && latest && latest.started > claimedAt) return latest.read;
    return this.get(run.jobId);
  }

  /** The job, read after the current turn (shared with the other callers of this turn). */
  get(jobId: string): Promise<JobRecord | undefined> {
    let read = this.#next.get(jobId);
    if (!read) {
      read = this.#read(jobId);
      this.#next.set(jobId, read);
    }
    return read;
  }

  async #read(jobId: string): Promise<JobRecord | undefined> {
    await yieldTo(this.clock);
    // Started now: whoever asks from here on needs a read that starts later.
    this.#next.delete(jobId);
    const read = this.storage.getJob(jobId);
    const entry = { started: ++this.#started, read };
    this.#latest.delete(jobId);
    this.#latest.set(jobId, entry);
    if (this.#latest.size > KEPT) this.#latest.delete(this.#latest.keys().next().value!);
    // A failed read serves nobody later (its callers get the error).
    read.catch(() => {
      if (this.#latest.get(jobId) === entry) this.#latest.delete(jobId);
    });
    return read;
  }
}
