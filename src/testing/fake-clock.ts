import type { Clock, TimerHandle } from '../clock.js';

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock for tests: time stands still until the test moves it. `advance(ms)` fires the
 * timers that fall due, in time order, letting promise chains settle after each one,
 * so scheduler tests never sleep.
 *
 * @example
 * const clock = new FakeClock('2026-03-08T06:00:00Z');
 * const scheduler = new JobScheduler({ clock, ... });
 * await clock.advance(60_000);
 */
export class FakeClock implements Clock {
  #now: number;
  #timers: FakeTimer[] = [];
  #nextId = 1;

  /**
   * A clock standing at `start`, with no timer armed.
   * @param start the initial time: epoch milliseconds, an ISO string or a Date. Default: `0` (the epoch).
   * @throws TypeError when `start` is not a valid time
   */
  constructor(start: number | string | Date = 0) {
    this.#now = typeof start === 'number' ? start : new Date(start).getTime();
    if (!Number.isFinite(this.#now)) throw new TypeError(`FakeClock: invalid start time ${String(start)}`);
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle.id);
  }

  /**
   * Resolves in a microtask, not an event-loop turn: the work a fired timer starts (all
   * the jobs due at one instant, say) is done by the time `advance` returns, as without
   * the yields. Subclass and override it to test interleaving with I/O.
   */
  yield(): Promise<void> {
    return Promise.resolve();
  }

  /** How many timers are armed. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the earliest armed timer falls due, or `undefined`. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers) if (min === undefined || t.due < min) min = t.due;
    return min;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (also
   * timers armed by fired timers), each at its own time, and lets pending promise
   * chains settle after each.
   * @param ms how far to move, in milliseconds
   * @throws RangeError when `ms` is negative or not a number
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: expected ms >= 0, got ${ms}`);
    await this.advanceTo(this.#now + ms);
  }

  /**
   * Like {@link advance}, to an absolute time (epoch ms, ISO string or Date).
   * @throws RangeError when `time` is before now
   */
  async advanceTo(time: number | string | Date): Promise<void> {
    const target = typeof time === 'number' ? time : new Date(time).getTime();
    if (target < this.#now) throw new RangeError(`FakeClock.advanceTo: ${target} is before now (${this.#now})`);
    await settle();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.due > target) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /**
   * Sets the time without firing timers, as when a machine wakes from suspend or the
   * wall clock is corrected. Timers already due fire on the next `advance`.
   * @param ms how far to move, in milliseconds (negative: the wall clock was set back)
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Lets pending promise chains and immediates run without moving time. */
  async flush(): Promise<void> {
    await settle();
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    return best;
  }
}

/** Lets promise chains and queued immediates run: a few macrotask turns. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
