import type { FinishRun, RunEnd } from '../storage/port.js';
import type { StepStateRecord } from '../storage/records.js';

/** A run's end waiting to go to the store with the next claim (`Storage.finishAndClaim`). */
interface QueuedEnd {
  runId: string;
  end: FinishRun;
  steps: StepStateRecord[] | undefined;
  /** The store's answer; `undefined` when the end was not sent (its writer writes it alone). */
  settle: (stored: boolean | undefined) => void;
  /** The combined write failed: nothing of it was written, or its answer was lost. */
  fail: (error: unknown) => void;
}

/** The ends of runs taken for one call: what the store is sent, and how to answer each. */
export class TakenEnds {
  constructor(private readonly items: readonly QueuedEnd[]) {}

  get length(): number {
    return this.items.length;
  }

  /** The ends as `finishAndClaim` takes them. */
  toRunEnds(): RunEnd[] {
    return this.items.map(({ runId, end, steps }) => (steps ? { runId, end, steps } : { runId, end }));
  }

  /** The store's answers, in order. */
  settle(finished: readonly boolean[]): void {
    this.items.forEach((e, i) => e.settle(finished[i] === true));
  }

  /** The call failed: each writer writes its end alone. */
  fail(error: unknown): void {
    for (const e of this.items) e.fail(error);
  }
}

/**
 * The ends of runs waiting for the dispatcher's next claim round, so that runs that end
 * together go to the store in one call with the claim for their slots. `wake` is called
 * after the current microtasks when the first end arrives (ends of one burst share it).
 */
export class EndQueue {
  #items: QueuedEnd[] = [];

  constructor(private readonly wake: () => void) {}

  get size(): number {
    return this.#items.length;
  }

  /**
   * Queues a run's end. Resolves the store's answer, or `undefined` when the end was given
   * back unsent (the caller writes it with `finishRun`); rejects when the call failed.
   */
  add(runId: string, end: FinishRun, steps: StepStateRecord[] | undefined): Promise<boolean | undefined> {
    return new Promise((settle, fail) => {
      this.#items.push({ runId, end, steps, settle, fail });
      if (this.#items.length === 1) queueMicrotask(this.wake);
    });
  }

  /** Every end queued so far, for one call. */
  take(): TakenEnds {
    return new TakenEnds(this.#items.splice(0));
  }

  /** Gives every queued end back unsent (claiming stopped): their runs write them alone. */
  returnAll(): void {
    for (const e of this.#items.splice(0)) e.settle(undefined);
  }
}
