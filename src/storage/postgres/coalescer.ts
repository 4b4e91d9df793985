interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one kind of write: calls that arrive while a write is in flight are
 * written together by the next one (one round trip and one commit for many), so a busy
 * process does not pay a commit per call, and an idle one adds no latency (a call made
 * when nothing is in flight is written after the current microtasks, with whatever else
 * arrived in them). Each call resolves with its own answer only after the statement that
 * carried it committed; two calls with the same key never share a statement (the second
 * goes in a later one, so it sees the first's effect). A statement that fails fails all of
 * its calls with its error, and nothing of it was written.
 */
export class Coalescer<I, O> {
  #queue: Array<Waiting<I, O>> = [];
  #flushing: Promise<void> | undefined;

  /** `write` stores `items` in one statement and answers each, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly key: (item: I) => string,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length === 1) queueMicrotask(() => this.#kick());
    });
  }

  /** Resolves when nothing is queued or being written. */
  async idle(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      this.#kick();
      await this.#flushing;
    }
  }

  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const seen = new Set<string>();
      const batch: Array<Waiting<I, O>> = [];
      const later: Array<Waiting<I, O>> = [];
      for (const p of this.#queue) {
        const k = this.key(p.item);
        (seen.has(k) ? later : batch).push(p);
        seen.add(k);
      }
      this.#queue = later;
      try {
        const out = await this.write(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(out[i]!));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }
}
