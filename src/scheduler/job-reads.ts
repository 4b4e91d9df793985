import type { Clock } from '../clock.js';
import { yieldTo } from '../clock.js';
import type { Storage } from '../storage/port.js';
import type { JobRecord } from '../storage/records.js';

/**
 * Reads of a job for its runs, shared: the reads of one job asked for in one turn of the
 * event loop (runs claimed together starting, runs that ended together looking at their
 * job) are one store read, made after that turn (`clock.yield()`). Each caller asked
 * before the read started, so what it gets is as fresh as a read of its own: a run that
 * ended before asking sees its own end in the counters. Callers after the read started
 * make the next one. On PostgreSQL a read is a round trip: ten runs ending together made
 * ten of them.
 */
export class SharedJobReads {
  /** The read each job's callers of this turn wait for, until it starts. */
  readonly #next = new Map<string, Promise<JobRecord | undefined>>();

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

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
    return this.storage.getJob(jobId);
  }
}
