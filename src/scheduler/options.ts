import { availableParallelism, hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { SystemClock } from '../clock.js';
import type { EnvironmentResolver } from '../environment.js';
import { OptionsError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { Snapshots } from '../snapshot/port.js';
import type { Storage } from '../storage/port.js';
import { NoSnapshots } from './no-snapshots.js';
import type { RunRunner } from './runner.js';

/** Options of `JobScheduler`: one object, copied, never mutated. */
export interface JobSchedulerOptions {
  /** Where jobs, batches, runs and the ledger live. */
  storage: Storage;
  /**
   * Where project snapshots are taken and read. Only jobs with a `projectDir` need it: a
   * scheduler of jobs defined in code (function steps, no project) can do without.
   * @default none: creating or running a job with a project fails with `OPTIONS_MISSING`
   */
  snapshots?: Snapshots;
  /** Executes one pipeline run (`RunExecutor`). */
  executor: RunRunner;
  /** @default new SystemClock() */
  clock?: Clock;
  /** Records what environment ids mean when a job is created. @default none: environments are not pinned */
  environments?: EnvironmentResolver;
  /** @default silentLogger */
  logger?: Logger;
  /**
   * How many runs this process executes at once (p-queue's concurrency). Runs beyond
   * stay PENDING in storage, in order.
   * @default os.availableParallelism()
   */
  concurrency?: number;
  /**
   * How long a claimed run's lease lasts without a heartbeat. A run whose process died
   * is found when its lease expires.
   * @default 30_000
   */
  leaseMs?: number;
  /** How often leases are extended (and cancels from other processes picked up). @default 5_000 */
  heartbeatMs?: number;
  /** How often storage is polled for runs other processes created, and expired leases. @default 2_000 */
  pollMs?: number;
  /**
   * How often all watched jobs are re-read from storage, to pick up jobs other processes
   * created or changed when the storage cannot notify (`Storage.subscribe`).
   * @default 30_000
   */
  rescanMs?: number;
  /**
   * Keep the Node process alive while the scheduler is started, as a server does (its
   * timers alone do not). `false` for hosts that manage their own lifetime.
   * @default true
   */
  keepAlive?: boolean;
  /** The longest the timer sleeps, so a suspended machine or clock jump is noticed. @default 60_000 */
  maxSleepMs?: number;
  /** The most runs one batch may start (a larger selection is refused). @default 100_000 */
  maxRunsPerBatch?: number;
  /** Runs written per storage call when a batch starts. @default 1_000 */
  batchChunkSize?: number;
  /** This process's name in leases. @default `${hostname()}:${pid}:${random}` */
  owner?: string;
}

export type ResolvedSchedulerOptions = Required<Omit<JobSchedulerOptions, 'environments'>> & Pick<JobSchedulerOptions, 'environments'>;

/** Fills defaults and checks every number. */
export function resolveOptions(options: JobSchedulerOptions): ResolvedSchedulerOptions {
  if (!options || typeof options !== 'object') throw new OptionsError('OPTIONS_INVALID', 'JobScheduler needs an options object', { path: '$', value: options });
  for (const key of ['storage', 'executor'] as const) {
    if (!options[key]) throw new OptionsError('OPTIONS_MISSING', `JobScheduler needs \`${key}\``, { path: key, value: options[key] });
  }
  const r: ResolvedSchedulerOptions = {
    clock: new SystemClock(),
    logger: silentLogger,
    concurrency: availableParallelism(),
    leaseMs: 30_000,
    heartbeatMs: 5_000,
    pollMs: 2_000,
    rescanMs: 30_000,
    keepAlive: true,
    maxSleepMs: 60_000,
    maxRunsPerBatch: 100_000,
    batchChunkSize: 1_000,
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as ResolvedSchedulerOptions;
  // Jobs defined in code need none; the others get a typed error from it.
  r.snapshots ??= new NoSnapshots();
  const positive = ['concurrency', 'leaseMs', 'heartbeatMs', 'pollMs', 'rescanMs', 'maxSleepMs', 'maxRunsPerBatch', 'batchChunkSize'] as const;
  for (const key of positive) {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new OptionsError('OPTIONS_INVALID', `Expected \`${key}\` to be a positive number`, { path: key, value: v });
    }
  }
  if (r.heartbeatMs >= r.leaseMs) {
    throw new OptionsError('OPTIONS_INVALID', 'heartbeatMs must be shorter than leaseMs', {
      path: 'heartbeatMs',
      value: r.heartbeatMs,
      hint: `Leases (${r.leaseMs} ms) would expire between heartbeats; use a third of leaseMs or less`,
    });
  }
  return r;
}
