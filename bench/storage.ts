/**
 * Storage figures (issue 6), each beside its baseline measured in the same run:
 *   (a) SQLite adapter: one-step no-op runs through the storage cycle of a scheduler
 *       (createBatch + chunked insertRuns, then finishAndClaim: the ends of the runs that
 *       ended and the claim for their slots in one call; and, as before it, claimRuns in
 *       batches beside finishRun) vs BullMQ on the local Redis (addBulk + Worker), same
 *       count, same concurrency;
 *   (b) PostgreSQL adapter: the same vs graphile-worker 0.17 (local queue + batched
 *       completion) on the same database;
 *   (c) a 10,000- and a 100,000-run batch on each adapter: write time and peak RSS of a
 *       fresh child process (goal: memory independent of the grid size).
 * Run: `npx tsx bench/storage.ts`. Prints markdown; never asserts.
 * `BENCH_ONLY=postgres` (or `sqlite`, `grid`, comma-separated) runs only those parts;
 * `BENCH_PG_COMPARE=<module path>` adds another version of the PostgreSQL adapter to (b).
 */
import { execFileSync, execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { RunEnd, Storage } from '../src/storage/port.js';
import type { JobRecord, NewRun, RunRecord } from '../src/storage/records.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { bullmqTrial as bullmq, graphileTrial as graphile } from './peers.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';

const PG_URL = process.env.PIPELINE_JOBS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
// BENCH_QUICK=1: a smoke run with small numbers (not for figures).
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 2_000 : 20_000;
const CONCURRENCY = 10;
const TRIALS = QUICK ? 1 : 3;
const CHUNK = 1_000;
const GRIDS = QUICK ? [2_000, 5_000] : [10_000, 100_000];
const ONLY = new Set((process.env.BENCH_ONLY ?? 'sqlite,postgres,grid').split(',').map((s) => s.trim()));

// ---------------------------------------------------------------- the cycle under test

/** What consumes a job's PENDING runs. Swap this for the real JobScheduler later. */
export type StorageConsumer = (input: { storage: Storage; jobId: string; total: number; concurrency: number }) => Promise<void>;

/**
 * The storage cycle a scheduler process did before `finishAndClaim` (and does on a store
 * without it): while fewer than `concurrency` runs execute, claim PENDING runs (one claim
 * in flight, for all free slots), run the no-op step, and record the end with finishRun.
 * A slot is free again when the step ends; the finishRun write goes on beside the next
 * runs (it is bookkeeping, and the per-job limit counts STARTED runs in the store, so it
 * still holds). Done when every write resolved.
 */
export const separateCycleConsumer: StorageConsumer = ({ storage, total, concurrency }) =>
  new Promise<void>((resolve, reject) => {
    const owner = `bench-${randomUUID()}`;
    let running = 0;
    let claimed = 0;
    let written = 0;
    let claiming = false;
    const execute = async (run: RunRecord): Promise<void> => {
      await Promise.resolve(); // the no-op step
      running--;
      pump();
      await storage.finishRun(run.id, { status: 'SUCCESS', owner, now: Date.now() });
      if (++written === total) resolve();
    };
    const pump = (): void => {
      if (claiming || running >= concurrency || claimed >= total) return;
      claiming = true;
      storage.claimRuns({ owner, limit: concurrency - running, leaseMs: 60_000 }).then((runs) => {
        claiming = false;
        claimed += runs.length;
        running += runs.length;
        for (const run of runs) execute(run).catch(reject);
        if (runs.length > 0) pump();
      }, reject);
    };
    pump();
  });

/**
 * The storage cycle the scheduler's dispatcher does with `finishAndClaim`: one call in
 * flight at a time carries the ends of the runs whose step ended since the last call and
 * claims runs for every free slot (theirs included), in one transaction. A slot is free
 * again when its step ends. Done when every end is written.
 */
export const storageCycleConsumer: StorageConsumer = ({ storage, total, concurrency }) =>
  new Promise<void>((resolve, reject) => {
    if (!storage.finishAndClaim) throw new Error('this store has no finishAndClaim');
    const owner = `bench-${randomUUID()}`;
    let running = 0;
    let claimed = 0;
    let written = 0;
    let busy = false;
    let ends: RunEnd[] = [];
    const execute = async (run: RunRecord): Promise<void> => {
      await Promise.resolve(); // the no-op step
      running--;
      ends.push({ runId: run.id, end: { status: 'SUCCESS', owner, now: Date.now() } });
      pump();
    };
    const pump = (): void => {
      if (busy) return;
      const limit = Math.min(concurrency - running, total - claimed);
      if (limit <= 0 && ends.length === 0) return;
      busy = true;
      const batch = ends;
      ends = [];
      storage.finishAndClaim!(batch, { owner, limit, leaseMs: 60_000 }).then(({ finished, claimed: runs }) => {
        busy = false;
        if (finished.some((ok) => !ok)) throw new Error('an end was refused');
        written += batch.length;
        if (written === total) return resolve();
        claimed += runs.length;
        running += runs.length;
        for (const run of runs) execute(run).catch(reject);
        pump();
      }).catch(reject);
    };
    pump();
  });

function benchJob(): JobRecord {
  return {
    id: randomUUID(), projectId: 'bench', name: 'bench', status: 'STARTED', snapshotId: 'snap',
    pipeline: { uuid: 'p', name: 'p', parameters: {}, parameterOrder: [], settings: {}, services: {}, steps: [{ uuid: 's1', title: 's1', file_path: 'a.py', incoming_connections: [], environment: 'e', parameters: {}, parameterOrder: [] }], source: {}, path: 'p.orchest', warnings: [] },
    environments: {}, grid: { version: 1, pipelineDefaults: { a: 0 }, steps: [{ uuid: 's1', defaults: {} }], dimensions: [{ scope: 'pipeline', key: 'a', values: [1, 2, 3] }] }, selection: null, schedule: { type: 'now', at: 0 }, envVars: {}, options: {},
    counters: { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 }, batchCount: 0, runCount: 0, scheduleCursor: null, bufferedOccurrence: null, key: null, specFingerprint: null,
    maxConcurrentRuns: 0, createdAt: Date.now(), updatedAt: Date.now(), finishedAt: null, version: 1,
  };
}

/** Chunk `from..to` of a grid's runs, as a scheduler computes them (one combination per index). */
function runsChunk(from: number, to: number): NewRun[] {
  const out: NewRun[] = [];
  for (let i = from; i < to; i++) out.push({ id: randomUUID(), gridIndex: i, indexInBatch: i, parameters: { pipeline: { a: i % 7, b: `v${i % 13}` }, steps: { s1: { c: i } } } });
  return out;
}

/** A job with one batch of `n` runs written in chunks. */
async function writeBatch(storage: Storage, n: number, afterChunk?: (chunk: number) => void): Promise<string> {
  const job = benchJob();
  await storage.insertJob(job);
  const batch = await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: n, expectStatus: ['STARTED'], now: Date.now() });
  for (let i = 0; i < n; i += CHUNK) {
    await storage.insertRuns(job.id, batch!.batchIndex, runsChunk(i, Math.min(n, i + CHUNK)), Date.now());
    afterChunk?.(i / CHUNK);
  }
  return job.id;
}

interface Trial {
  enqueueMs: number;
  processMs: number;
}

async function ourTrial(storage: Storage, n: number, consume: StorageConsumer): Promise<Trial> {
  const t0 = performance.now();
  const jobId = await writeBatch(storage, n);
  const t1 = performance.now();
  await consume({ storage, jobId, total: n, concurrency: CONCURRENCY });
  return { enqueueMs: t1 - t0, processMs: performance.now() - t1 };
}

// ---------------------------------------------------------------- baselines

const peer = { concurrency: CONCURRENCY, chunk: CHUNK };
const bullmqTrial = (n: number): Promise<Trial> => bullmq(n, { ...peer, name: 'pj-bench' });
const graphileTrial = (n: number): Promise<Trial> => graphile(n, PG_URL, { ...peer, name: 'gw_bench' });

// ---------------------------------------------------------------- grid child process

async function gridChild(kind: string, n: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pj-bench-grid-'));
  const schema = `pj_bench_${randomBytes(4).toString('hex')}`;
  const storage: Storage = kind === 'sqlite' ? new SqliteStorage({ path: path.join(dir, 'jobs.sqlite') }) : new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 2 });
  await storage.init();
  await writeBatch(storage, 10); // warm up statements and the driver
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const baseKb = process.resourceUsage().maxRSS;
  const baseHeap = process.memoryUsage().heapUsed;
  // Live heap: sampled after a full GC every 10 chunks (what the write keeps, not garbage V8 has yet to collect).
  let liveHeap = 0;
  const t0 = performance.now();
  await writeBatch(storage, n, (chunk) => {
    if (chunk % 10 !== 9) return;
    gc();
    liveHeap = Math.max(liveHeap, process.memoryUsage().heapUsed - baseHeap);
  });
  const ms = performance.now() - t0;
  const peakKb = process.resourceUsage().maxRSS;
  await storage.close();
  if (kind !== 'sqlite') {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA "${schema}" CASCADE`);
    await client.end();
  }
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ ms, baseMb: baseKb / 1024, peakMb: peakKb / 1024, liveMb: liveHeap / 2 ** 20 })}\n`);
}

// ---------------------------------------------------------------- report

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const rate = (n: number, ms: number): number => (n / ms) * 1000;

function rateRow(label: string, n: number, trials: Trial[], pick: (t: Trial) => number): { line: string; med: number } {
  const rates = trials.map((t) => rate(n, pick(t)));
  const med = median(rates);
  return { line: `| ${label} | ${fmt(med)} | ${fmt(Math.min(...rates))} - ${fmt(Math.max(...rates))} |`, med };
}

/** A store under test (or a baseline): one trial writes and processes RUNS runs. */
interface Contender {
  name: string;
  trial: () => Promise<Trial>;
}

/**
 * Trials of `ours` (one or more versions of an adapter) and `theirs`, interleaved so
 * that load from the rest of the machine falls on all of them alike; one warm-up each.
 * The goal is judged on the first of `ours`.
 */
async function compare(title: string, ours: Contender[], theirs: Contender, goal: string): Promise<void> {
  const all = [...ours, theirs];
  for (const c of all) await c.trial(); // warm-up, not counted
  const trials = all.map((): Trial[] => []);
  for (let i = 0; i < TRIALS; i++) for (const [k, c] of all.entries()) trials[k]!.push(await c.trial());
  console.log(`\n### ${title}\n\n${RUNS.toLocaleString('en-US')} one-step no-op runs, concurrency ${CONCURRENCY}, median of ${TRIALS} (range), trials interleaved\n`);
  console.log('| what | runs/s | range |\n|---|---|---|');
  const writes = ours.map((c, k) => rateRow(`${c.name}: write the batch (createBatch + insertRuns)`, RUNS, trials[k]!, (t) => t.enqueueMs));
  const te = rateRow(`${theirs.name}: enqueue`, RUNS, trials[ours.length]!, (t) => t.enqueueMs);
  const procs = ours.map((c, k) => rateRow(`${c.name}: claim + no-op + end`, RUNS, trials[k]!, (t) => t.processMs));
  const tp = rateRow(`${theirs.name}: process`, RUNS, trials[ours.length]!, (t) => t.processMs);
  for (const r of [...writes, te, ...procs, tp]) console.log(r.line);
  const ratios = ours.map((c, k) => `${c.name}: write ${(writes[k]!.med / te.med).toFixed(2)}x, process ${(procs[k]!.med / tp.med).toFixed(2)}x`);
  console.log(`\nratio (ours / ${theirs.name}): ${ratios.join('; ')}. ${goal}: ${procs[0]!.med >= tp.med ? 'met' : 'missed'}.`);
}

async function gridTable(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(`\n### One batch of N runs (chunks of ${CHUNK}), fresh child process each, median of ${TRIALS}\n`);
  console.log('| adapter | N | write time (s) | runs/s | peak RSS (MB) | RSS before writing (MB) | live heap growth after GC (MB) |\n|---|---|---|---|---|---|---|');
  const peaks: Record<string, number[]> = {};
  const lives: Record<string, number[]> = {};
  for (const kind of ['sqlite', 'postgres']) {
    for (const n of GRIDS) {
      const results: Array<{ ms: number; baseMb: number; peakMb: number; liveMb: number }> = [];
      for (let i = 0; i < TRIALS; i++) {
        const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--grid', kind, String(n)], { maxBuffer: 1 << 20 });
        results.push(JSON.parse(stdout.trim().split('\n').pop()!));
      }
      const ms = median(results.map((r) => r.ms));
      const peak = median(results.map((r) => r.peakMb));
      const live = median(results.map((r) => r.liveMb));
      (peaks[kind] ??= []).push(peak);
      (lives[kind] ??= []).push(live);
      console.log(`| ${kind} | ${fmt(n)} | ${(ms / 1000).toFixed(2)} | ${fmt(rate(n, ms))} | ${peak.toFixed(0)} | ${median(results.map((r) => r.baseMb)).toFixed(0)} | ${live.toFixed(1)} |`);
    }
  }
  for (const kind of Object.keys(peaks)) {
    const grew = peaks[kind]![1]! - peaks[kind]![0]!;
    const liveGrew = lives[kind]![1]! - lives[kind]![0]!;
    console.log(`\n${kind}: from ${fmt(GRIDS[0]!)} to ${fmt(GRIDS[1]!)} runs, peak RSS grew ${grew.toFixed(0)} MB and the live heap ${liveGrew.toFixed(1)} MB. Goal (memory independent of the grid size, within 10 MB): live heap ${Math.abs(liveGrew) <= 10 ? 'met' : 'missed'}, peak RSS ${Math.abs(grew) <= 10 ? 'met' : 'missed'}.`);
  }
}

function settings(): string {
  let redis = 'unknown';
  try {
    const get = (key: string): string => execFileSync('redis-cli', ['config', 'get', key], { encoding: 'utf8' }).split('\n')[1]?.trim() ?? '';
    const version = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['info', 'server'], { encoding: 'utf8' }))?.[1];
    redis = `Redis ${version}, hz ${get('hz')}, save "${get('save')}", appendonly ${get('appendonly')}`;
  } catch (error) {
    redis = `unknown (${(error as Error).message.split('\n')[0]})`;
  }
  return redis;
}

async function main(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const show = async (k: string): Promise<string> => (await client.query(`SHOW ${k}`)).rows[0][k];
  const pgInfo = `PostgreSQL ${await show('server_version')}, synchronous_commit ${await show('synchronous_commit')}, shared_buffers ${await show('shared_buffers')}, fsync ${await show('fsync')}`;
  await client.end();
  console.log(`## Storage figures\n\nNode ${process.version}; ${settings()}; ${pgInfo}; SQLite WAL, synchronous NORMAL. Redis, PostgreSQL and this benchmark share the machine's 2 cores.`);

  if (ONLY.has('sqlite')) await sqlitePart();
  if (ONLY.has('postgres')) await postgresPart();
  if (ONLY.has('grid')) await gridTable();
}

async function sqlitePart(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pj-bench-'));
  const sqlite = new SqliteStorage({ path: path.join(dir, 'jobs.sqlite') });
  await sqlite.init();
  await compare(
    '(a) SQLite adapter vs BullMQ 6.7 (Redis)',
    [
      { name: 'pipeline-jobs', trial: () => ourTrial(sqlite, RUNS, storageCycleConsumer) },
      { name: 'pipeline-jobs (finishRun + claimRuns)', trial: () => ourTrial(sqlite, RUNS, separateCycleConsumer) },
    ],
    { name: 'BullMQ', trial: () => bullmqTrial(RUNS) },
    "Goal, at least BullMQ's processing rate",
  );
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `BENCH_PG_COMPARE=<path>`: also measure the `PostgresStorage` exported by another
 * module (e.g. a copy of a previous version of the adapter), in its own schema, in the
 * same run (before/after figures under the same load); `BENCH_PG_COMPARE_LABEL` names it.
 */
async function postgresPart(): Promise<void> {
  type Ctor = new (options: ConstructorParameters<typeof PostgresStorage>[0]) => Storage;
  const versions: Array<{ name: string; Store: Ctor }> = [{ name: 'pipeline-jobs', Store: PostgresStorage }];
  const other = process.env.BENCH_PG_COMPARE;
  if (other) versions.push({ name: `pipeline-jobs (${process.env.BENCH_PG_COMPARE_LABEL ?? other})`, Store: ((await import(path.resolve(other))) as { PostgresStorage: Ctor }).PostgresStorage });
  const schemas = versions.map(() => `pj_bench_${randomBytes(4).toString('hex')}`);
  const gw = 'graphile-worker 0.17.3 (localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0)';
  const graphile: Contender = { name: 'graphile-worker', trial: () => graphileTrial(RUNS) };
  for (const sync of ['on', 'off'] as const) {
    const stores = versions.map((v, k) => new v.Store({ connectionString: PG_URL, schema: schemas[k], poolSize: 10, ...(sync === 'off' ? { synchronousCommit: sync } : {}) }));
    for (const s of stores) await s.init();
    const title = sync === 'on' ? `(b) PostgreSQL adapter (synchronousCommit 'on', the default) vs ${gw}` : `(b') PostgreSQL adapter with synchronousCommit 'off' vs ${gw}`;
    const ours = stores.flatMap((s, k): Contender[] => [
      { name: versions[k]!.name, trial: () => ourTrial(s, RUNS, storageCycleConsumer) },
      { name: `${versions[k]!.name} (finishRun + claimRuns)`, trial: () => ourTrial(s, RUNS, separateCycleConsumer) },
    ]);
    await compare(title, ours, graphile, "Goal, at least graphile-worker's processing rate");
    for (const s of stores) await s.close();
  }
  const drop = new pg.Client({ connectionString: PG_URL });
  await drop.connect();
  for (const schema of schemas) await drop.query(`DROP SCHEMA "${schema}" CASCADE`);
  await drop.end();
}

const args = process.argv.slice(2);
if (args[0] === '--grid') await gridChild(args[1]!, Number(args[2]));
else await main();
