import PQueue from 'p-queue';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { JobStatus, RunState } from '../status.js';
import type { Storage } from '../storage/port.js';
import type { ErrorInfo, RunReason, RunRecord } from '../storage/records.js';

const CLAIMABLE = [JobStatus.PENDING, JobStatus.STARTED, JobStatus.PAUSED];

/** What the dispatcher does with a claimed run; resolves its end. */
export type RunHandler = (run: RunRecord, signal: AbortSignal) => Promise<RunOutcome>;

export interface RunOutcome {
  status: typeof RunState.SUCCESS | typeof RunState.FAILURE | typeof RunState.ABORTED;
  reason?: RunReason;
  error?: ErrorInfo;
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
  /** Called after a run's end is stored (or was refused because another process ended it). */
  onFinished: (run: RunRecord, outcome: RunOutcome, stored: boolean) => Promise<void>;
  onError: (error: unknown, during: string) => void;
  /** Periodic work beside claiming: lease recovery, resuming batches. */
  onPoll: () => Promise<void>;
}

interface Active {
  run: RunRecord;
  controller: AbortController;
  reason: RunReason | undefined;
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

  constructor(options: DispatcherOptions) {
    this.#o = options;
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

  /** Aborts every run going here. */
  abortAll(reason: RunReason = 'cancelled'): void {
    for (const id of [...this.#active.keys()]) this.abort(id, reason);
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
      this.#notifyIdle();
    });
  }

  async #claimLoop(): Promise<void> {
    do {
      this.#again = false;
      while (this.#running) {
        const free = this.#o.concurrency - this.#active.size;
        if (free <= 0) break;
        let runs: RunRecord[];
        try {
          runs = await this.#o.storage.claimRuns({
            owner: this.#o.owner,
            limit: Math.min(free, this.#o.claimBatch),
            leaseMs: this.#o.leaseMs,
            // A PENDING one-off job's manually triggered runs run too; a draft's never exist.
            jobStatuses: CLAIMABLE,
          });
        } catch (err) {
          this.#o.onError(err, 'claiming runs');
          return;
        }
        for (const run of runs) this.#launch(run);
        if (runs.length < Math.min(free, this.#o.claimBatch)) break;
      }
    } while (this.#again && this.#running);
  }

  #launch(run: RunRecord): void {
    const entry: Active = { run, controller: new AbortController(), reason: undefined };
    this.#active.set(run.id, entry);
    void this.#queue.add(async () => {
      let outcome: RunOutcome;
      try {
        outcome = await this.#o.handle(run, entry.controller.signal);
      } catch (err) {
        outcome = { status: RunState.FAILURE, reason: 'failed', error: toErrorInfo(err) };
      }
      if (entry.reason && outcome.status === RunState.ABORTED) outcome = { ...outcome, reason: entry.reason };
      let stored = false;
      try {
        stored = await this.#o.storage.finishRun(run.id, { ...outcome, owner: this.#o.owner, now: this.#o.clock.now() });
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
      for (const id of res.lost) this.abort(id, 'interrupted');
    } catch (err) {
      this.#o.onError(err, 'heartbeat');
    }
  }

  #schedulePoll(): void {
    if (!this.#running) return;
    this.#pollTimer = this.#o.clock.setTimeout(() => {
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
