/** A handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  /** Opaque to callers. */
  readonly id: unknown;
}

/**
 * Where the library gets time from. Nothing in the library reads `Date.now()` or calls
 * `setTimeout` directly: it asks the injected clock, so tests can use `FakeClock`
 * (from `pipeline-jobs/testing`) and advance time instead of sleeping.
 *
 * Must hold: `now()` never goes backwards within one process by more than the host's
 * clock does; a timer fires no earlier than `ms` after it was armed (by `now()`).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. Timers must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Lets the rest of the process run (I/O callbacks, timers) before resolving. The
   * scheduler calls it between the jobs that fall due together, so the first runs start
   * while later occurrences are still being written.
   * @default one event-loop turn (`setImmediate`), as `SystemClock` does
   */
  yield?(): Promise<void>;
}

/** The real clock: `Date.now()` and unref'd Node timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { id: t };
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle.id as NodeJS.Timeout);
  }

  /** One event-loop turn: pending I/O callbacks run before it resolves. */
  yield(): Promise<void> {
    return yieldTurn();
  }
}

/** Resolves after one event-loop turn (`setImmediate`). */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `clock.yield()`, or one event-loop turn for a clock without it. */
export function yieldTo(clock: Clock): Promise<void> {
  return clock.yield ? clock.yield() : yieldTurn();
}

/** Resolves after `ms` on the given clock, or rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
