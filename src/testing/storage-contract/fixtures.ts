import { randomUUID } from 'node:crypto';
import type { Storage } from '../../storage/port.js';
import type { BatchRecord, JobRecord, NewRun, RunRecord } from '../../storage/records.js';
import type { Pipeline } from '../../pipeline/model.js';
import type { JobStatus } from '../../status.js';

/** What a contract factory gives: a fresh, initialised store, and optionally a second one on the same data. */
export interface StorageContractSubject {
  /** The store under test: fresh (no jobs), `init()` already awaited. The suite closes it. */
  storage: Storage;
  /** Removes what the factory created (files, schemas). Called after each test. */
  cleanup?: () => Promise<void>;
  /**
   * Another `Storage` instance on the same data (another connection or pool), used to
   * prove claims hold across processes. Leave it out when there is no such thing (memory).
   * The suite closes what it returns.
   */
  second?: () => Promise<Storage>;
}

/** Makes a fresh {@link StorageContractSubject} for each test of the contract suite. */
export type StorageContractFactory = () => Promise<StorageContractSubject>;

/** The per-test state the contract parts share. */
export interface ContractContext {
  readonly storage: Storage;
  /** Storages to spread concurrent calls over: the main one, and the second when there is one. */
  readonly all: readonly Storage[];
}

/** A fixed time base for the times the caller gives (the store's lease clock is its own). */
export const T0 = Date.UTC(2026, 0, 1);

const pipeline: Pipeline = {
  uuid: 'p-uuid',
  name: 'contract pipeline',
  parameters: { zeta: 1, alpha: 'ä "quoted" \\ ☃', nested: { b: [1, 2, { c: null }], a: true } },
  parameterOrder: ['zeta', 'alpha', 'nested'],
  settings: { max_steps_parallelism: 2, custom: 'kept' },
  services: {},
  steps: [
    { uuid: 's1', title: 'one', file_path: 'one.py', incoming_connections: [], environment: 'env-a', parameters: { k: 1 }, parameterOrder: ['k'] },
    { uuid: 's2', title: 'two', file_path: 'two.ipynb', incoming_connections: ['s1'], environment: 'env-a', kernel: { name: 'python3' }, parameters: {}, parameterOrder: [] },
  ],
  source: { version: '1.2.3', zeta_first: 1, aaa_second: 2, steps: {} },
  path: 'main.orchest',
  warnings: [],
};

/** A job record with every field set; `over` replaces fields. */
export function makeJob(over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: randomUUID(),
    projectId: 'project-1',
    name: 'a job',
    status: 'STARTED',
    snapshotId: 'snap-1',
    pipeline,
    environments: { 'env-a': { id: 'env-a', kind: 'local', interpreters: { '.py': ['/usr/bin/python3'] }, version: 'Python 3.11', resolvedAt: T0 } },
    grid: {
      version: 1,
      pipelineDefaults: { zeta: 0, alpha: 'a' },
      steps: [{ uuid: 's1', defaults: { k: 0 } }, { uuid: 's2', defaults: {} }],
      dimensions: [
        { scope: 'pipeline', key: 'zeta', values: [1, 2, 3] },
        { scope: 'pipeline', key: 'alpha', values: ['x', 'y'] },
      ],
    },
    selection: null,
    schedule: {
      type: 'cron', cron: '*/5 * * * *', timezone: 'Europe/Berlin', startAt: null, endAt: null, gap: 'skip', repeat: 'first', lateness: 60_000,
      missed: { policy: 'skip', window: 0, cap: 1 }, overlap: 'allow',
    },
    envVars: { A: '1', B: 'two' },
    options: { onInterrupted: 'fail', maxRetainedRuns: null },
    counters: { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 },
    batchCount: 0,
    runCount: 0,
    scheduleCursor: null,
    bufferedOccurrence: null,
    key: null,
    specFingerprint: null,
    maxConcurrentRuns: 0,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: null,
    version: 1,
    ...over,
  };
}

/** Runs `from .. from+count-1` of a batch, with distinct grid indices and parameters. */
export function newRuns(count: number, from = 0): NewRun[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { id: randomUUID(), gridIndex: i * 3 + 1, indexInBatch: i, parameters: { pipeline: { zeta: i, alpha: `v${i}` }, steps: { s1: { k: i }, s2: {} } } };
  });
}

/** Inserts a job (STARTED by default) with one manual batch of `runs` PENDING runs. */
export async function jobWithRuns(
  storage: Storage,
  runs: number,
  over: Partial<JobRecord> = {},
): Promise<{ job: JobRecord; batch: BatchRecord; runs: NewRun[] }> {
  const job = makeJob(over);
  await storage.insertJob(job);
  const batch = await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: runs, expectStatus: [job.status], now: T0 });
  if (!batch) throw new Error('contract setup: createBatch refused a fresh job');
  const written = newRuns(runs);
  if (runs > 0) await storage.insertRuns(job.id, batch.batchIndex, written, T0);
  return { job, batch, runs: written };
}

/** Adds another manual batch of `count` runs to a job. */
export async function addBatch(storage: Storage, jobId: string, count: number, status: JobStatus = 'STARTED'): Promise<NewRun[]> {
  const batch = await storage.createBatch({ jobId, trigger: 'manual', occurrenceAt: null, runCount: count, expectStatus: [status], now: T0 });
  if (!batch) throw new Error('contract setup: createBatch refused');
  const runs = newRuns(count);
  await storage.insertRuns(jobId, batch.batchIndex, runs, T0);
  return runs;
}

/** Every run of a job, through pagination. */
export async function allRuns(storage: Storage, jobId: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listRuns(jobId, { limit: 500, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** The job's counters as the runs it has now say they should be. */
export async function countedFromRuns(storage: Storage, jobId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 };
  for (const r of await allRuns(storage, jobId)) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Polls `probe` until it yields a value; fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`contract: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A store to use for call `i` of a set of concurrent calls (alternating between instances). */
export function pick(ctx: ContractContext, i: number): Storage {
  return ctx.all[i % ctx.all.length]!;
}

/** Resolves the rejection of `promise` (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; path?: string; name?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; path?: string; name?: string };
  }
  throw new Error('contract: expected a rejection, the call resolved');
}

/**
 * Tries a change of a record the store handed out: an adapter may hand out frozen
 * records, and then the change throws (a `TypeError` in strict mode) instead. Either way
 * the store must not change: the caller checks that afterwards.
 */
export function tryToChange(change: () => void): void {
  try {
    change();
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
}
