import PQueue from 'p-queue';
import type { Clock, TimerHandle } from '../clock.js';
import { StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { JobStatus, RunState } from '../status.js';
import type { FinishRun, Storage } from '../storage/port.js';
import { EndQueue } from './end-queue.js';
import type { ErrorInfo, RunReason, RunRecord, StepStateRecord } from '../storage/records.js';

const CLAIMABLE = [JobStatus.PENDING, JobStatus.STARTED, JobStatus.PAUSED];

/** What the dispatcher does with a claimed run; resolves its end. */
export type RunHandler = (run: RunRecord, signal: AbortSignal) => Promise<RunOutcome>;

export interface RunOutcome {
  status: typeof RunState.SUCCESS | typeof RunState.FAILURE | typeof RunState.ABORTED;
  reason?: RunReason;
  error?: ErrorInfo;
  /** The states of the steps that ran: stored with the run's end (before it, when apart). */
  steps?: StepStateRecord[];
}

export interface DispatcherOptions {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  owner: string;
  concurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  claimBatch: number;
  handle: RunHandler;
  /** Called with the runs a claim took, as soon as it answered (before they start). */
  onClaimed?: (runs: readonly RunRecord[]) => void;
  /** Called after a run's end is stored (or was refused because another process ended it). */
  onFinished: (run: RunRecord, outcome: RunOutcome, stored: boolean) => Promise<void>;
  onError: (error: unknown, during: string) => void;
  /** Periodic work beside claiming: lease recovery, resuming batches. */
  onPoll: () => Promise<void>;
  /**
   * First wait before a storage write that found the store unavailable is tried again
   * (a run's end, its preparation); doubled after each failure up to `retryMaxMs`.
   * @default 250
   */
  retryMs?: number;
  /** @default 5_000 */
  retryMaxMs?: number;
}

interface Active {
  run: RunRecord;
  controller: AbortController;
  reason: RunReason | undefined;
  /** A heartbeat found the lease gone: another process recovered the run. */
  lost: boolean;
}

/** Marks an error thrown before a run's first step could start: the run may simply be prepared again. */
const NOT_STARTED = Symbol('pipeline-jobs.notStarted');

/**
 * Wraps an error thrown while a claimed run was being prepared (before any step ran),
 * so the dispatcher retries the preparation instead of failing the run.
 */
export function notStarted(error: unknown): Error {
  const marked = error instanceof Error ? error : new Error(String(error), { cause: error });
  return Object.assign(marked, { [NOT_STARTED]: true });
}

/** A storage error that is worth retrying as it is: the store could not be reached. */
export function isUnavailable(error: unknown): boolean {
  return error instanceof StorageError && error.code === 'STORAGE_UNAVAILABLE';
}

/**
 * Claims pending runs from storage with a lease and runs them, at most `concurrency` at
 * once in this process (p-queue caps them; runs beyond stay PENDING in storage, in
 * order). Heartbeats extend the leases and bring cancels made by other processes.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #queue: PQueue;
  readonly #active = new Map<string, Active>();
  #claiming: Promise<void> | undefined;
  #again = false;
  #running = false;
  #heartbeatTimer: TimerHandle | undefined;
  #pollTimer: TimerHandle | undefined;
  #idleWaiters: Array<() => void> = [];
  /** Wakes every storage retry waiting for its backoff (the poll wants them first). */
  #retryWaiters = new Set<() => void>();
  /** Writes that failed at least once and are not done yet (waiting or trying again). */
  #retrying = 0;
  /** A claim failed as unavailable: it may have committed with its answer lost. */
  #claimUncertain = false;
  /** Set by `abortAll` during a stop: retries of ends make a last attempt and give up. */
  #givingUp = false;
  /** Ends of runs to write with the next claim, when the store can do both in one transaction. */
  readonly #ends = new EndQueue(() => this.wake());
  /**
   * Runs launched here whose end is not known to be written (going, or their end given up
   * at a stop): never given back as "claimed but never started".
   */
  readonly #launched = new Set<string>();

  constructor(options: DispatcherOptions) {
    this.#o = { retryMs: 250, retryMaxMs: 5_000, ...options };
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  start(): void {
    this.#running = true;
    this.#scheduleHeartbeat();
    this.#schedulePoll();
    this.wake();
  }

  /** Stops claiming; runs already going continue unless `cancel` aborts them. */
  stopClaiming(): void {
    this.#running = false;
    if (this.#heartbeatTimer) this.#o.clock.clearTimeout(this.#heartbeatTimer);
    if (this.#pollTimer) this.#o.clock.clearTimeout(this.#pollTimer);
    this.#heartbeatTimer = undefined;
    this.#pollTimer = undefined;
    if (!this.#claiming) this.#ends.returnAll();
  }

  /** Runs going in this process. */
  get activeCount(): number {
    return this.#active.size;
  }

  activeRunIds(): string[] {
    return [...this.#active.keys()];
  }

  /** Aborts a run going in this process; resolves whether it was here. */
  abort(runId: string, reason: RunReason = 'cancelled'): boolean {
    const a = this.#active.get(runId);
    if (!a) return false;
    a.reason ??= reason;
    a.controller.abort(new Error(`run ${reason}`));
    return true;
  }

  /**
   * Aborts every run going here. During a stop (claiming stopped) it also ends the
   * retries of writes that found the store unavailable, after one last attempt: a run
   * whose end could not be written then ends as a run of a dead process does, when its
   * lease expires.
   */
  abortAll(reason: RunReason = 'cancelled'): void {
    if (!this.#running) {
      this.#givingUp = true;
      this.#wakeRetries();
    }
    for (const id of [...this.#active.keys()]) this.abort(id, reason);
  }

  /**
   * At a stop, after the runs ended: a claim whose answer was lost may have left runs
   * STARTED under this process's name that never ran; they are given back (PENDING) now,
   * instead of ending `interrupted` when their lease expires.
   */
  async giveBackUnknownClaims(): Promise<void> {
    if (this.#claimUncertain) await this.#releaseUnknownClaims();
  }

  /** Resolves when no run is going and no claim is under way. */
  async onIdle(): Promise<void> {
    while (this.#active.size > 0 || this.#claiming) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /** Asks for a claim round: new runs may be pending. Cheap to call often. */
  wake(): void {
    if (!this.#running) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    this.#claiming = this.#claimLoop().finally(() => {
      this.#claiming = undefined;
      // An end queued after the loop's last look (its `wake` found it still claiming).
      if (this.#ends.size > 0) {
        if (this.#running) this.wake();
        else this.#ends.returnAll();
      }
      this.#notifyIdle();
    });
  }

  /**
   * Claims runs for the free slots until a claim comes back short. Runs' ends queued for
   * it go in the same call (`finishAndClaim`: one transaction for a turn of the slots),
   * and their slots count as free: the runs claimed for them wait in p-queue for the
   * ended runs' bookkeeping, a moment.
   */
  async #claimLoop(): Promise<void> {
    try {
      if (this.#claimUncertain && !(await this.#releaseUnknownClaims())) {
        // No claim until a poll tries again: ends do not wait for it.
        this.#ends.returnAll();
        return;
      }
      do {
        this.#again = false;
        while (this.#running) {
          const ends = this.#ends.take();
          const limit = Math.max(0, Math.min(this.#o.concurrency - this.#active.size + ends.length, this.#o.claimBatch));
          if (limit === 0 && ends.length === 0) break;
          const claim = {
            owner: this.#o.owner,
            limit,
            leaseMs: this.#o.leaseMs,
            // A PENDING one-off job's manually triggered runs run too; a draft's never exist.
            jobStatuses: CLAIMABLE,
          };
          let runs: RunRecord[];
          try {
            if (ends.length === 0) runs = await this.#o.storage.claimRuns(claim);
            else {
              const done = await this.#o.storage.finishAndClaim!(ends.toRunEnds(), claim);
              ends.settle(done.finished);
              runs = done.claimed;
            }
          } catch (err) {
            ends.fail(err);
            if (isUnavailable(err)) this.#claimUncertain = true;
            this.#o.onError(err, ends.length === 0 ? 'claiming runs' : 'ending runs and claiming');
            return;
          }
          this.#o.onClaimed?.(runs);
          for (const run of runs) this.#launch(run);
          if (runs.length < limit && this.#ends.size === 0) break;
        }
      } while (this.#again && this.#running);
    } finally {
      if (!this.#running) this.#ends.returnAll();
    }
  }

  /**
   * Queues a run's end for the next claim round, when the store writes ends and a claim
   * together and claiming goes on. Resolves the store's answer, or `undefined` when the
   * end was not written that way (the caller writes it with `finishRun`); rejects when
   * the combined write failed.
   */
  #endWithClaim(runId: string, end: FinishRun, steps: StepStateRecord[] | undefined): Promise<boolean | undefined> {
    if (!this.#o.storage.finishAndClaim || !this.#running) return Promise.resolve(undefined);
    return this.#ends.add(runId, end, steps);
  }

  /**
   * After a claim whose answer was lost, runs may be STARTED under this process's name
   * without it knowing: gives back every such run it is not executing (they never
   * started), so they run instead of ending `interrupted` when their lease expires.
   * Resolves whether claiming may go on.
   */
  async #releaseUnknownClaims(): Promise<boolean> {
    const { storage, owner } = this.#o;
    if (!storage.releaseRuns) {
      this.#claimUncertain = false;
      return true;
    }
    try {
      const released = await storage.releaseRuns(owner, [...this.#launched]);
      this.#claimUncertain = false;
      if (released.length > 0) this.#o.logger.warn('gave back runs claimed by a claim whose answer was lost', { runIds: released });
      return true;
    } catch (err) {
      this.#o.onError(err, 'giving back runs of a lost claim');
      return false;
    }
  }

  #launch(run: RunRecord): void {
    const entry: Active = { run, controller: new AbortController(), reason: undefined, lost: false };
    this.#active.set(run.id, entry);
    this.#launched.add(run.id);
    void this.#queue.add(async () => {
      let outcome = await this.#execute(entry);
      if (entry.reason && outcome.status === RunState.ABORTED) outcome = { ...outcome, reason: entry.reason };
      try {
        const stored = await this.#finish(entry, outcome);
        // Written, or refused: the run is no longer this process's to keep.
        this.#launched.delete(run.id);
        await this.#o.onFinished(run, outcome, stored);
      } catch (err) {
        this.#o.onError(err, `finishing run ${run.id}`);
      } finally {
        this.#active.delete(run.id);
        this.#notifyIdle();
        this.wake();
      }
    });
  }

  /**
   * Runs the handler. A failure before the first step started (the store unavailable
   * while the run's job was read) is not the run's outcome: the run is prepared again,
   * with backoff, while this process holds its lease and is not asked to stop it.
   */
  async #execute(entry: Active): Promise<RunOutcome> {
    let failed = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.#o.handle(entry.run, entry.controller.signal);
        } catch (err) {
          const before = (err as { [NOT_STARTED]?: boolean } | null)?.[NOT_STARTED] === true;
          if (before && isUnavailable(err) && !entry.controller.signal.aborted && !entry.lost && !this.#givingUp) {
            if (!failed) this.#retrying++;
            failed = true;
            this.#o.onError(err, `preparing run ${entry.run.id} (will retry)`);
            await this.#backoff(attempt, entry.controller.signal);
            continue;
          }
          // Stopped or cancelled before any step ran: that is what happened to it.
          if (before && entry.controller.signal.aborted) return { status: RunState.ABORTED, reason: entry.reason ?? 'cancelled' };
          return { status: RunState.FAILURE, reason: 'failed', error: toErrorInfo(err) };
        }
      }
    } finally {
      if (failed) this.#retrying--;
    }
  }

  /**
   * Writes a run's end. While the store is unavailable the write is retried with backoff
   * (the run stays active here, so heartbeats keep its lease), until it is written, the
   * lease is found lost, or a stop gives up. A retry that finds the run already ended
   * checks whether the end it finds is this one (the first attempt may have committed
   * before its answer was lost).
   */
  async #finish(entry: Active, outcome: RunOutcome): Promise<boolean> {
    const { storage, owner } = this.#o;
    const { steps, ...ended } = outcome;
    const end = { ...ended, owner, now: this.#o.clock.now() };
    // First with the next claim, its step states with it (one transaction for all); when
    // that failed (reported by the claim loop), apart, knowing the failed write may have
    // committed.
    let uncertain = false;
    try {
      const stored = await this.#endWithClaim(entry.run.id, end, steps);
      if (stored !== undefined) return stored;
    } catch {
      uncertain = true;
    }
    if (steps) {
      // The steps ran: their states are retried while the store is away, and a write that
      // cannot be made is reported, never turned into the run's failure: the end follows.
      await this.retrying(`recording the steps of run ${entry.run.id}`, () => storage.putStepStates(entry.run.id, steps)).catch((err: unknown) =>
        this.#o.onError(err, `recording the steps of run ${entry.run.id}`),
      );
    }
    let tries = 0;
    const stored = await this.retrying(`finishing run ${entry.run.id}`, () => (tries++, storage.finishRun(entry.run.id, end)), () => entry.lost);
    if (stored || (tries === 1 && !uncertain)) return stored;
    const now = await this.retrying(`reading run ${entry.run.id}`, () => storage.getRun(entry.run.id), () => entry.lost);
    return now !== undefined && now.status === end.status && now.finishedAt === end.now;
  }

  /**
   * Runs a storage write, and again with backoff while it fails with
   * `STORAGE_UNAVAILABLE`, until it succeeds, `stopIf()` holds, or a stop gives up (then
   * the last error is thrown). Each failed try is reported through `onError`.
   */
  async retrying<T>(during: string, write: () => Promise<T>, stopIf: () => boolean = () => false): Promise<T> {
    let failed = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await write();
        } catch (err) {
          if (!isUnavailable(err) || stopIf() || this.#givingUp) throw err;
          if (!failed) this.#retrying++;
          failed = true;
          this.#o.onError(err, `${during} (will retry)`);
          await this.#backoff(attempt);
        }
      }
    } finally {
      if (failed) this.#retrying--;
    }
  }

  /** Waits `retryMs * 2^attempt` (at most `retryMaxMs`), or less when woken or aborted. */
  #backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const ms = Math.min(this.#o.retryMaxMs!, this.#o.retryMs! * 2 ** Math.min(attempt, 30));
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#o.clock.clearTimeout(timer);
        this.#retryWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.#o.clock.setTimeout(done, ms);
      this.#retryWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wakeRetries(): void {
    for (const wake of [...this.#retryWaiters]) wake();
  }

  #notifyIdle(): void {
    if (this.#active.size > 0 || this.#claiming) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #scheduleHeartbeat(): void {
    if (!this.#running) return;
    this.#heartbeatTimer = this.#o.clock.setTimeout(() => {
      void this.heartbeat().finally(() => this.#scheduleHeartbeat());
    }, this.#o.heartbeatMs);
  }

  /** Extends this process's leases; aborts runs cancelled elsewhere or whose lease was lost. */
  async heartbeat(): Promise<void> {
    const ids = this.activeRunIds();
    if (ids.length === 0) return;
    try {
      const res = await this.#o.storage.heartbeat(this.#o.owner, ids, this.#o.leaseMs);
      for (const id of res.cancelRequested) this.abort(id, 'cancelled');
      for (const id of res.lost) {
        const a = this.#active.get(id);
        if (a) a.lost = true;
        this.abort(id, 'interrupted');
      }
    } catch (err) {
      this.#o.onError(err, 'heartbeat');
    }
  }

  #schedulePoll(): void {
    if (!this.#running) return;
    this.#pollTimer = this.#o.clock.setTimeout(() => {
      // Writes of this process waiting to be retried go first, and the poll waits for a
      // round without them: its lease recovery must never end a run of this process as
      // interrupted while that run's real end is still waiting to be written.
      if (this.#retrying > 0 || this.#retryWaiters.size > 0) {
        this.#wakeRetries();
        this.#schedulePoll();
        return;
      }
      void this.#o
        .onPoll()
        .catch((err: unknown) => this.#o.onError(err, 'polling'))
        .finally(() => {
          this.wake();
          this.#schedulePoll();
        });
    }, this.#o.pollMs);
  }
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return { code: (err as { code: string }).code, message: err instanceof Error ? err.message : String(err) };
  }
  return { code: 'RUN_ERROR', message: err instanceof Error ? err.message : String(err) };
}
