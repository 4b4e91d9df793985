import type { Clock, TimerHandle } from '../clock.js';
import { NotFoundError, type PipelineJobsError } from '../errors.js';
import { isEndState } from '../status.js';
import type { Storage } from '../storage/port.js';
import type { JobRecord, RunRecord } from '../storage/records.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * `waitForRun` / `waitForJob` answered from what storage says, so they resolve in every
 * process, whichever process ended the run or job. Every waited id is read again when
 * something may have changed (an event of this process, a storage notification) and, as
 * the source of truth, every `pollMs` on the injected clock while anyone waits. A run or
 * job that is gone rejects with `NotFoundError`. One read pass at a time.
 */
export class Waiters {
  readonly #runs = new Map<string, Set<Waiter<RunRecord>>>();
  readonly #jobs = new Map<string, Set<Waiter<JobRecord>>>();
  #timer: TimerHandle | undefined;
  #pass: Promise<void> | undefined;
  /** What the next read pass reads: asked for while a pass was under way, or now. */
  #want = { runs: false, jobs: false };
  #closed: PipelineJobsError | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly pollMs: number,
    private readonly fail: (error: unknown, during: string) => void,
  ) {}

  /** Resolves the run once it has ended (as storage says). */
  run(runId: string, signal?: AbortSignal): Promise<RunRecord> {
    return this.#add(this.#runs, runId, signal);
  }

  /** Resolves the job once it has ended (as storage says). */
  job(jobId: string, signal?: AbortSignal): Promise<JobRecord> {
    return this.#add(this.#jobs, jobId, signal);
  }

  /**
   * Something may have ended: read the waited ids again now. `{ runs: true, jobs: false }`
   * when only runs can have ended (a run ended here: a job ends only with its own event).
   */
  check(what: { runs: boolean; jobs: boolean } = { runs: true, jobs: true }): void {
    if (this.#closed || (this.#runs.size === 0 && this.#jobs.size === 0)) return;
    this.#want = { runs: this.#want.runs || what.runs, jobs: this.#want.jobs || what.jobs };
    if (this.#pass) return; // read when the pass under way ends
    const want = this.#want;
    this.#want = { runs: false, jobs: false };
    this.#pass = this.#read(want)
      .catch((error: unknown) => this.fail(error, 'reading waited runs and jobs'))
      .finally(() => {
        this.#pass = undefined;
        if (this.#want.runs || this.#want.jobs) this.check(this.#want);
        else this.#arm();
      });
  }

  /** Rejects every wait with `error`, stops polling and resolves once no read is left in flight. */
  async close(error: PipelineJobsError): Promise<void> {
    this.#closed = error;
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const map of [this.#runs, this.#jobs] as Array<Map<string, Set<Waiter<unknown>>>>) {
      for (const set of map.values()) for (const w of set) w.reject(error);
      map.clear();
    }
    await this.#pass;
  }

  #add<T>(map: Map<string, Set<Waiter<T>>>, id: string, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const set = map.get(id) ?? new Set<Waiter<T>>();
      map.set(id, set);
      const done = (): void => {
        set.delete(waiter);
        if (set.size === 0 && map.get(id) === set) map.delete(id);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter<T> = {
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = (): void => waiter.reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
      this.check();
    });
  }

  async #read(want: { runs: boolean; jobs: boolean }): Promise<void> {
    for (const [id, set] of want.runs ? [...this.#runs] : []) {
      const run = await this.storage.getRun(id);
      if (!run) for (const w of [...set]) w.reject(new NotFoundError('RUN_NOT_FOUND', `Run "${id}" was deleted while it was waited for`, { path: 'runId', value: id }));
      else if (isEndState(run.status)) for (const w of [...set]) w.resolve(run);
    }
    for (const [id, set] of want.jobs ? [...this.#jobs] : []) {
      const job = await this.storage.getJob(id);
      if (!job) for (const w of [...set]) w.reject(new NotFoundError('JOB_NOT_FOUND', `Job "${id}" was deleted while it was waited for`, { path: 'jobId', value: id }));
      else if (isEndState(job.status)) for (const w of [...set]) w.resolve(job);
    }
  }

  #arm(): void {
    if (this.#closed || this.#timer || (this.#runs.size === 0 && this.#jobs.size === 0)) return;
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.check();
    }, this.pollMs);
  }
}
