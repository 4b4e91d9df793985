import type { Clock, TimerHandle } from '../clock.js';

interface Entry {
  at: number;
  jobId: string;
}

/**
 * One timer for all jobs: a min-heap of (next wake-up, job), and a single clock timer
 * armed for the earliest, re-armed on every change. The sleep is capped so a
 * suspended machine or a wall-clock jump is noticed within `maxSleepMs`. No loop
 * visits every job on every tick.
 */
export class TimerLoop {
  readonly #clock: Clock;
  readonly #maxSleepMs: number;
  readonly #onDue: (jobIds: string[]) => void;
  readonly #heap: Entry[] = [];
  /** The live wake-up time per job; heap entries that disagree are stale and skipped. */
  readonly #wakeAt = new Map<string, number>();
  #timer: TimerHandle | undefined;
  #armedFor: number | undefined;
  #running = false;

  constructor(clock: Clock, maxSleepMs: number, onDue: (jobIds: string[]) => void) {
    this.#clock = clock;
    this.#maxSleepMs = maxSleepMs;
    this.#onDue = onDue;
  }

  start(): void {
    this.#running = true;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = undefined;
  }

  /** Sets (or with `undefined`, clears) when `jobId` next needs attention. */
  set(jobId: string, at: number | undefined): void {
    if (at === undefined) {
      this.#wakeAt.delete(jobId);
      return;
    }
    if (this.#wakeAt.get(jobId) === at) return;
    this.#wakeAt.set(jobId, at);
    this.#push({ at, jobId });
    if (this.#armedFor === undefined || at < this.#armedFor) this.#arm();
  }

  /** Whether `jobId` has a wake-up time. */
  has(jobId: string): boolean {
    return this.#wakeAt.has(jobId);
  }

  /** How many jobs have a wake-up time. */
  get size(): number {
    return this.#wakeAt.size;
  }

  #arm(): void {
    if (!this.#running) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = undefined;
    this.#dropStale();
    const top = this.#heap[0];
    const now = this.#clock.now();
    const wakeAt = top === undefined ? now + this.#maxSleepMs : Math.min(top.at, now + this.#maxSleepMs);
    this.#armedFor = top?.at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, wakeAt - now));
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    const due: string[] = [];
    for (;;) {
      this.#dropStale();
      const top = this.#heap[0];
      if (!top || top.at > now) break;
      this.#pop();
      this.#wakeAt.delete(top.jobId);
      due.push(top.jobId);
    }
    if (due.length > 0) this.#onDue(due);
    this.#arm();
  }

  #dropStale(): void {
    while (this.#heap.length > 0 && this.#wakeAt.get(this.#heap[0]!.jobId) !== this.#heap[0]!.at) this.#pop();
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const cur = m === i ? last : h[m]!;
      let best = cur;
      if (l < h.length && h[l]!.at < best.at) {
        m = l;
        best = h[l]!;
      }
      if (r < h.length && h[r]!.at < best.at) {
        m = r;
        best = h[r]!;
      }
      if (m === i) break;
      h[i] = best;
      i = m;
    }
    h[i] = last;
  }
}
