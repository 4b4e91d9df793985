/**
 * Claim cost with a long backlog (issue 9, point 10): the time of one `claimRuns` while a
 * job with 100,000 PENDING runs sits at its `maxConcurrentRuns`, beside the baseline of
 * the same store and backlog with that job *not* at a limit, measured in the same run.
 * Aim: the ratio stays near 1 (a claim never walks a blocked job's backlog).
 * Run: `npx tsx bench/claims.ts` (`BENCH_QUICK=1`: 10,000 runs; `BENCH_ONLY=memory,sqlite,postgres`).
 * Prints markdown; never asserts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage } from '../src/storage/memory/index.js';
import type { Storage } from '../src/storage/port.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import type { JobRecord, NewRun } from '../src/storage/records.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const BACKLOG = QUICK ? 10_000 : 100_000;
const CLAIMS = 200;
const CHUNK = 1_000;
const PG_URL = process.env.PIPELINE_JOBS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'memory,sqlite,postgres').split(',').map((s) => s.trim()));

function job(maxConcurrentRuns: number): JobRecord {
  const now = Date.now();
  return {
    id: randomUUID(), projectId: 'bench', name: 'bench', status: 'STARTED', snapshotId: 'snap',
    pipeline: { uuid: 'p', name: 'p', parameters: {}, parameterOrder: [], settings: {}, services: {}, steps: [], source: {}, path: 'p.orchest', warnings: [] },
    environments: {}, grid: { version: 1, pipelineDefaults: {}, steps: [], dimensions: [] }, selection: null, schedule: { type: 'now', at: 0 }, envVars: {}, options: {},
    counters: { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 }, batchCount: 0, runCount: 0, scheduleCursor: null, bufferedOccurrence: null, key: null, specFingerprint: null,
    maxConcurrentRuns, createdAt: now, updatedAt: now, finishedAt: null, version: 1,
  };
}

async function addRuns(storage: Storage, jobId: string, n: number): Promise<void> {
  const batch = (await storage.createBatch({ jobId, trigger: 'manual', occurrenceAt: null, runCount: n, expectStatus: ['STARTED'], now: Date.now() }))!;
  for (let i = 0; i < n; i += CHUNK) {
    const chunk: NewRun[] = [];
    for (let k = i; k < Math.min(n, i + CHUNK); k++) chunk.push({ id: randomUUID(), gridIndex: k, indexInBatch: k, parameters: { pipeline: {}, steps: {} } });
    await storage.insertRuns(jobId, batch.batchIndex, chunk, Date.now());
  }
}

/**
 * Median ms of one claim of 1 run while the big job (its runs first in seq order) is at
 * its limit (`blocked`: the claim must find the small job's runs past the backlog) or has
 * no limit (the baseline: the same backlog, the claim takes its head).
 */
async function measure(make: () => Promise<{ storage: Storage; done: () => Promise<void> }>, blocked: boolean): Promise<number> {
  const { storage, done } = await make();
  try {
    const big = job(blocked ? 1 : 0);
    const small = job(0);
    await storage.insertJob(big);
    await storage.insertJob(small);
    await addRuns(storage, big.id, BACKLOG);
    await addRuns(storage, small.id, CLAIMS + 10);
    if (blocked) await storage.claimRuns({ owner: 'holder', limit: 1, leaseMs: 3_600_000, jobIds: [big.id] });
    const times: number[] = [];
    for (let i = 0; i < CLAIMS; i++) {
      const t0 = performance.now();
      const got = await storage.claimRuns({ owner: 'bench', limit: 1, leaseMs: 60_000 });
      times.push(performance.now() - t0);
      // Blocked: the small job's runs, past the big job's backlog; baseline: the backlog's head.
      if (got.length !== 1 || got[0]!.jobId !== (blocked ? small.id : big.id)) throw new Error(`bench: claim ${i} took ${got.length} runs of ${got[0]?.jobId}`);
      await storage.finishRun(got[0]!.id, { status: 'SUCCESS', owner: 'bench', now: Date.now() });
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    await done();
  }
}

const adapters: Array<[string, () => Promise<{ storage: Storage; done: () => Promise<void> }>]> = [];
if (ONLY.has('memory')) adapters.push(['memory', async () => ({ storage: new MemoryStorage(), done: async () => undefined })]);
if (ONLY.has('sqlite')) {
  adapters.push([
    'sqlite',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'pj-bench-claims-'));
      const storage = new SqliteStorage({ path: path.join(dir, 'jobs.sqlite'), integrityCheck: 'off' });
      await storage.init();
      return { storage, done: async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  ]);
}
if (ONLY.has('postgres')) {
  adapters.push([
    'postgres',
    async () => {
      const schema = `pj_bench_claims_${process.pid}_${randomUUID().slice(0, 8)}`;
      const storage = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
      await storage.init();
      return {
        storage,
        done: async () => {
          await storage.close();
          const pg = (await import('pg')).default;
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await c.end();
        },
      };
    },
  ]);
}

console.log(`Claim of 1 run, median of ${CLAIMS}, with ${BACKLOG.toLocaleString('en')} PENDING runs of another job (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
console.log('| adapter | baseline: no job at a limit (ms) | backlog job at its limit (ms) | ratio (aim ~1) |');
console.log('|---|---|---|---|');
for (const [name, make] of adapters) {
  try {
    const base = await measure(make, false);
    const blocked = await measure(make, true);
    console.log(`| ${name} | ${base.toFixed(3)} | ${blocked.toFixed(3)} | ${(blocked / base).toFixed(2)} |`);
  } catch (error) {
    console.log(`| ${name} | failed: ${(error as Error).message} | | |`);
  }
}
