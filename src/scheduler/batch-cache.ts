import type { BatchRecord } from '../storage/records.js';

/**
 * The batches of the runs this process executes, by job and batch index. What a run
 * needs of its batch (its variables, occurrence and trigger, the grid it runs) never
 * changes once the batch exists, so a run reads its batch only when it is not among the
 * last `size` batches used, and runs of one batch starting together share one read.
 * Reads that fail or find nothing are not kept. A deleted job's runs find their job gone
 * first (the job is read beside the batch), so a batch kept here is never used to run
 * anything of a deleted job.
 */
export class BatchCache {
  readonly #entries = new Map<string, Promise<BatchRecord | undefined>>();

  constructor(private readonly size = 64) {}

  get(jobId: string, batchIndex: number, read: () => Promise<BatchRecord | undefined>): Promise<BatchRecord | undefined> {
    const key = `${jobId}#${batchIndex}`;
    const hit = this.#entries.get(key);
    if (hit) {
      // Most recently used last: the first entry is the one to drop.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const reading = read();
    this.#entries.set(key, reading);
    const drop = (): void => {
      if (this.#entries.get(key) === reading) this.#entries.delete(key);
    };
    // The caller gets the rejection; this only stops keeping it.
    reading.then((batch) => batch ?? drop(), drop);
    if (this.#entries.size > this.size) this.#entries.delete(this.#entries.keys().next().value!);
    return reading;
  }

  /** Drops the batches of a job (deleted here). */
  forget(jobId: string): void {
    for (const key of [...this.#entries.keys()]) if (key.startsWith(`${jobId}#`)) this.#entries.delete(key);
  }
}
