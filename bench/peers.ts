/**
 * The peer libraries the storage and end-to-end benches compare with, doing `n` no-op
 * jobs: BullMQ 6.7's Worker (Redis) and graphile-worker 0.17.3 tuned (local queue 500,
 * batched completion). Each trial uses a queue or schema of its own and removes it.
 * Resolves the time spent enqueueing and the time from the first job processed to the
 * last one done (for graphile-worker: committed, since completions are batched).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface PeerOptions {
  /** Jobs processed at once. */
  concurrency: number;
  /** Jobs added per enqueue call. */
  chunk: number;
  /** A prefix for the queue or schema name (a random suffix is added). */
  name: string;
}

/** Milliseconds spent enqueueing the jobs, and processing them. */
export interface PeerTrial {
  enqueueMs: number;
  processMs: number;
}

export const REDIS = { host: '127.0.0.1', port: 6379 };

/**
 * BullMQ 6.7 loads its Redis client (`ioredis`, an optional peer) at run time: it must be
 * installed (a devDependency), or reachable through NODE_PATH.
 */
export async function bullmqTrial(n: number, o: PeerOptions): Promise<PeerTrial> {
  const { Queue, Worker } = await import('bullmq');
  const name = `${o.name}-${randomBytes(4).toString('hex')}`;
  const queue = new Queue(name, { connection: REDIS });
  const t0 = performance.now();
  for (let i = 0; i < n; i += o.chunk) await queue.addBulk(Array.from({ length: Math.min(o.chunk, n - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  const t1 = performance.now();
  let done = 0;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const worker = new Worker(name, async () => undefined, { connection: REDIS, concurrency: o.concurrency });
  worker.on('completed', () => {
    if (++done === n) allDone();
  });
  await finished;
  const t2 = performance.now();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { enqueueMs: t1 - t0, processMs: t2 - t1 };
}

export async function graphileTrial(n: number, connectionString: string, o: PeerOptions): Promise<PeerTrial> {
  const gw = await import('graphile-worker');
  const schema = `${o.name}_${randomBytes(4).toString('hex')}`;
  const utils = await gw.makeWorkerUtils({ connectionString, schema });
  await utils.migrate();
  const t0 = performance.now();
  for (let i = 0; i < n; i += o.chunk) await utils.addJobs(Array.from({ length: Math.min(o.chunk, n - i) }, (_, k) => ({ identifier: 'noop', payload: { i: i + k } })));
  const t1 = performance.now();
  let done = 0;
  let allRan!: () => void;
  const ran = new Promise<void>((resolve) => (allRan = resolve));
  const runner = await gw.run({
    connectionString, schema, concurrency: o.concurrency, noHandleSignals: true, pollInterval: 1000,
    logger: new gw.Logger(() => () => undefined),
    taskList: { noop: async () => void (++done === n && allRan()) },
    preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  await ran;
  // Completions are batched: done once they are all committed.
  const client = new pg.Client({ connectionString });
  await client.connect();
  while (Number((await client.query(`SELECT count(*) AS n FROM "${schema}"._private_jobs`)).rows[0].n) > 0) await new Promise((r) => setTimeout(r, 5));
  const t2 = performance.now();
  await runner.stop();
  await utils.release();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
  return { enqueueMs: t1 - t0, processMs: t2 - t1 };
}
