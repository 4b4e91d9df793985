/**
 * End to end on the durable stores (issue 10's "Done means", issue 12's row "JobScheduler
 * end to end"): a JobScheduler running one job defined in code (`definePipeline`, one
 * no-op function step, no projectDir: no snapshot, no working copy) of RUNS runs, from
 * `confirmJob` to the job finished, on SqliteStorage and on PostgresStorage (default
 * at-most-once, and `onInterrupted: 'rerun'`), beside BullMQ 6.7's Worker and
 * graphile-worker 0.17.3 (tuned as in bench/storage.ts) doing as many no-op jobs at the
 * same concurrency, in the same run, trials interleaved.
 * The peers are timed from the first enqueue to the last completion (what the scheduler's
 * figure covers: it writes its runs, then runs them) and, as in bench/storage.ts, the
 * processing alone.
 * Imports the built package as users do (`npx tsup` first). Run `npm run bench -- e2e`.
 * Env: BENCH_E2E_RUNS (default 10000), BENCH_ONLY=sqlite,postgres; BENCH_E2E_SEPARATE=1 adds the
 * same scheduler on a store that hides `finishAndClaim` (ends and claims in separate
 * writes, as before it), for a before/after in one run. Prints markdown, never asserts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { FunctionStepExecutor, JobScheduler, MemoryLogStore, RunExecutor, definePipeline } from 'pipeline-jobs';
import { PostgresStorage } from 'pipeline-jobs/postgres';
import { SqliteStorage } from 'pipeline-jobs/sqlite';
import type { Storage } from 'pipeline-jobs/storage';
import { type PeerTrial, bullmqTrial as bullmq, graphileTrial as graphile } from './peers.js';

const PG_URL = process.env.PIPELINE_JOBS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_E2E_RUNS ?? 10_000);
const CONCURRENCY = 10;
const TRIALS = 3;
const CHUNK = 1_000;
const ONLY = new Set((process.env.BENCH_ONLY ?? 'sqlite,postgres').split(',').map((s) => s.trim()));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pj-bench-e2e-'));
const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' / ');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const progress = (msg: string): void => void process.stderr.write(`[e2e] ${msg}\n`);

/** Runs/s of one trial: all of it (enqueue -> last done) and the processing alone. */
interface Trial {
  total: number;
  process: number;
}

// ---------------------------------------------------------------- ours

const pipeline = definePipeline({ name: 'bench-e2e', parameters: { p0: 0, p1: 0, p2: 0, p3: 0, p4: 0 }, steps: [{ uuid: 'a' }] });
// 10^5 combinations; a selection takes the first RUNS of them.
const spec = { pipeline_parameters: Object.fromEntries(['p0', 'p1', 'p2', 'p3', 'p4'].map((k) => [k, Array.from({ length: 10 }, (_, i) => i)])) };

/** One job of `runs` code-defined runs on `storage`: confirm -> job finished (the scheduler writes, claims, runs and finishes them). */
async function schedulerTrial(storage: Storage, runs: number, rerun: boolean): Promise<Trial> {
  let ran = 0;
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: () => void ran++ } }), logStore: new MemoryLogStore(), workRoot: path.join(tmp, 'runs') });
  const scheduler = new JobScheduler({ storage, executor, concurrency: CONCURRENCY });
  scheduler.on('scheduler:error', ({ error, during }) => progress(`scheduler error during ${during}: ${String(error)}`));
  await scheduler.start();
  try {
    const job = await scheduler.createJob({
      name: 'e2e', pipeline, parameters: { from: 'spec', spec }, selection: { ranges: [[0, runs]] }, draft: true,
      ...(rerun ? { options: { onInterrupted: 'rerun' as const } } : {}),
    });
    const t0 = performance.now();
    const ended = scheduler.waitForJob(job.id);
    await scheduler.confirmJob(job.id);
    const done = await ended;
    const ms = performance.now() - t0;
    if (done.counters.SUCCESS !== runs || ran !== runs) throw new Error(`not all runs succeeded once: ${done.status} ${JSON.stringify(done.counters)}, step ran ${ran} times`);
    const r = (runs / ms) * 1000;
    return { total: r, process: r };
  } finally {
    await scheduler.stop();
  }
}

const SEPARATE = process.env.BENCH_E2E_SEPARATE === '1';

/** The store without `finishAndClaim`: the scheduler then writes ends and claims apart. */
function separateWrites(storage: Storage): Storage {
  return new Proxy(storage, {
    get(target, key) {
      if (key === 'finishAndClaim') return undefined;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// ---------------------------------------------------------------- peers

const peer = { concurrency: CONCURRENCY, chunk: CHUNK };
/** A peer's trial as runs/s: enqueue -> last done, and the processing alone. */
const asRates = (n: number, t: PeerTrial): Trial => ({ total: (n / (t.enqueueMs + t.processMs)) * 1000, process: (n / t.processMs) * 1000 });
const bullmqTrial = async (n: number): Promise<Trial> => asRates(n, await bullmq(n, { ...peer, name: 'pj-e2e' }));
const graphileTrial = async (n: number): Promise<Trial> => asRates(n, await graphile(n, PG_URL, { ...peer, name: 'gw_e2e' }));

// ---------------------------------------------------------------- report

interface Contender {
  name: string;
  trial: () => Promise<Trial>;
}

/** Warm-up each, then TRIALS rounds with the contenders interleaved; one table; the aim is judged on the first of `ours` against `peer`. */
async function compare(title: string, ours: Contender[], peer: Contender, aims: Array<{ of: number; ratio: number; label: string }>): Promise<string> {
  const all = [...ours, peer];
  const before = load();
  progress(`${title}: warm-up`);
  for (const c of all) await c.trial();
  const trials = all.map((): Trial[] => []);
  for (let i = 0; i < TRIALS; i++) {
    for (const [k, c] of all.entries()) {
      progress(`${title}: round ${i + 1}, ${c.name}`);
      trials[k]!.push(await c.trial());
    }
  }
  const med = (k: number, pick: (t: Trial) => number): number => median(trials[k]!.map(pick));
  const range = (k: number, pick: (t: Trial) => number): string => `${fmt(Math.min(...trials[k]!.map(pick)))} - ${fmt(Math.max(...trials[k]!.map(pick)))}`;
  const p = ours.length;
  const rows = [
    ...ours.map((c, k) => `| ${c.name}: confirm -> job finished | **${fmt(med(k, (t) => t.total))}** | ${range(k, (t) => t.total)} | ${fmt(med(k, (t) => t.total) / med(p, (t) => t.total), 2)}x | ${fmt(med(k, (t) => t.total) / med(p, (t) => t.process), 2)}x |`),
    `| ${peer.name}: first enqueue -> last job done | ${fmt(med(p, (t) => t.total))} | ${range(p, (t) => t.total)} | 1 | |`,
    `| ${peer.name}: processing alone (jobs already queued) | ${fmt(med(p, (t) => t.process))} | ${range(p, (t) => t.process)} | | 1 |`,
  ];
  const verdicts = aims.map((a) => {
    const ratio = med(a.of, (t) => t.total) / med(p, (t) => t.process);
    return `${ours[a.of]!.name}: ${fmt(ratio, 2)}x of ${peer.name}'s processing rate, aim >= ${a.ratio}x: ${ratio >= a.ratio ? 'met' : 'missed'} (${a.label})`;
  });
  return [
    `### ${title}`,
    '',
    `${fmt(RUNS)} one-step no-op runs of one code-defined job, concurrency ${CONCURRENCY}, median of ${TRIALS} (range), trials interleaved after a warm-up each. Load average (1/5/15 min) before ${before}, after ${load()}; ${os.cpus().length} CPUs shared with the database.`,
    '',
    `| what | runs/s | range | / peer end to end | / peer processing alone |`,
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...verdicts.map((v) => `- ${v}`),
  ].join('\n');
}

async function sqlitePart(): Promise<string> {
  let n = 0;
  const fresh = async (): Promise<Storage> => {
    const storage = new SqliteStorage({ path: path.join(tmp, `e2e-${n++}.sqlite`) });
    await storage.init();
    return storage;
  };
  const on = (separate: boolean): Contender => ({
    name: `JobScheduler on SqliteStorage${separate ? ' (ends and claims apart)' : ''}`,
    trial: async () => {
      const storage = await fresh();
      try {
        return await schedulerTrial(separate ? separateWrites(storage) : storage, RUNS, false);
      } finally {
        await storage.close();
      }
    },
  });
  return compare('JobScheduler on SQLite vs BullMQ 6.7 Worker (Redis)', SEPARATE ? [on(false), on(true)] : [on(false)], { name: 'BullMQ Worker', trial: () => bullmqTrial(RUNS) }, [{ of: 0, ratio: 1, label: "issue 10: at least BullMQ's" }]);
}

async function postgresPart(): Promise<string> {
  const schemas: string[] = [];
  const on = (rerun: boolean, separate = false): Contender => ({
    name: `JobScheduler on PostgresStorage${rerun ? ", onInterrupted 'rerun'" : ' (at-most-once, default)'}${separate ? ' (ends and claims apart)' : ''}`,
    trial: async () => {
      const schema = `pj_e2e_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      const storage = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 10 });
      await storage.init();
      try {
        return await schedulerTrial(separate ? separateWrites(storage) : storage, RUNS, rerun);
      } finally {
        await storage.close();
      }
    },
  });
  const gw = 'graphile-worker 0.17.3 (localQueue.size 500, batched completion)';
  try {
    return await compare(`JobScheduler on PostgreSQL vs ${gw}`, [on(false), on(true), ...(SEPARATE ? [on(false, true)] : [])], { name: 'graphile-worker', trial: () => graphileTrial(RUNS) }, [
      { of: 0, ratio: 0.3, label: 'issue 12, at-most-once' },
      { of: 1, ratio: 1, label: "issue 12, at-least-once like graphile-worker's" },
    ]);
  } finally {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await client.end();
  }
}

const t0 = performance.now();
try {
  console.log(`Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average at start ${load()}\n`);
  if (ONLY.has('sqlite')) console.log(`${await sqlitePart()}\n`);
  if (ONLY.has('postgres')) console.log(`${await postgresPart()}\n`);
  console.log(`(total ${fmt((performance.now() - t0) / 1000, 1)} s)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
