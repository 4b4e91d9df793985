import type { TypedEmitter } from '../events.js';
import { GridSelection, ParameterGrid } from '../parameters/index.js';
import type { BatchRecord, JobRecord } from '../storage/records.js';
import type { BatchCache } from './batch-cache.js';
import type { Dispatcher } from './dispatcher.js';
import type { SharedJobReads } from './job-reads.js';
import type { ResolvedSchedulerOptions } from './options.js';
import type { ScheduleCache } from './schedule-adapter.js';
import type { TimerLoop } from './timer-loop.js';
import type { SchedulerEvents } from './types.js';

/** What the scheduler's parts share. Internal. */
export interface SchedulerContext {
  readonly o: ResolvedSchedulerOptions;
  readonly events: TypedEmitter<SchedulerEvents>;
  readonly timer: TimerLoop;
  readonly dispatcher: Dispatcher;
  readonly grids: GridCache;
  /** The batches of runs executed here (what a run needs of its batch never changes). */
  readonly batches: BatchCache;
  /** Reads of a job for its runs (starting, or ended), shared by the runs of one turn. */
  readonly jobReads: SharedJobReads;
  readonly schedules: ScheduleCache;
  /** Serialises work on one job within this process. */
  readonly lock: <T>(jobId: string, work: () => Promise<T>) => Promise<T>;
  /** Contains and reports an error of background work. */
  readonly fail: (error: unknown, during: string) => void;
}

/**
 * Parsed grids and selections per job: restoring them costs time in the size of the grid's
 * definition (every value is read and checked), so an entry is kept while the job's version
 * is the same, or while its grid and selection are the very same objects (a store handing
 * out frozen records shares them across versions: a counter or status change does not
 * parse a grid of 100,000 values again). A frozen definition's grid is also kept by the
 * definition object itself, so a batch that records its job's grid (the same frozen object)
 * does not parse it again either.
 */
export class GridCache {
  readonly #cache = new Map<string, { version: number; def: JobRecord['grid']; sel: JobRecord['selection']; grid: ParameterGrid; selection: GridSelection }>();
  /** Grids by their frozen definition object: dropped with it. */
  readonly #byDefinition = new WeakMap<object, ParameterGrid>();
  readonly #maxRunsPerBatch: number;

  constructor(maxRunsPerBatch: number) {
    this.#maxRunsPerBatch = maxRunsPerBatch;
  }

  get(job: JobRecord): { grid: ParameterGrid; selection: GridSelection } {
    const hit = this.#cache.get(job.id);
    if (hit && (hit.version === job.version || (hit.def === job.grid && hit.sel === job.selection && Object.isFrozen(job.grid)))) return hit;
    const grid = this.#grid(job.grid);
    const selection = job.selection === null ? GridSelection.all(grid.size) : GridSelection.fromJSON(job.selection);
    const entry = { version: job.version, def: job.grid, sel: job.selection, grid, selection };
    this.#cache.set(job.id, entry);
    return entry;
  }

  /** The grid and selection a batch recorded when it was created (what it runs, whatever the job's are now). */
  ofBatch(batch: BatchRecord): { grid: ParameterGrid; selection: GridSelection } {
    const grid = this.#grid(batch.grid);
    const selection = batch.selection === null ? GridSelection.all(grid.size) : GridSelection.fromJSON(batch.selection);
    return { grid, selection };
  }

  forget(jobId: string): void {
    this.#cache.delete(jobId);
  }

  /** The grid of a definition: parsed once per frozen definition object; always parsed when it is not frozen (it could change). */
  #grid(def: JobRecord['grid']): ParameterGrid {
    const frozen = typeof def === 'object' && def !== null && Object.isFrozen(def);
    const known = frozen ? this.#byDefinition.get(def) : undefined;
    if (known) return known;
    const grid = ParameterGrid.fromJSON(def, { maxRunsPerBatch: this.#maxRunsPerBatch });
    if (frozen) this.#byDefinition.set(def, grid);
    return grid;
  }
}

/** A per-key promise chain: work on one key runs one at a time, in call order. */
export function keyedLock(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return next;
  };
}
