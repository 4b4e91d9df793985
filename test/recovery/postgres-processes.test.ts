import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { dropSchemas, findTestDatabase, freshSchema } from '../storage/pg-helpers.js';
import { spawnScheduler, type Child } from './fixtures/children.js';
import { leftoverProcesses, makeScheduler, stackPaths, workingCopies, writeProject } from './fixtures/stack.js';
import { expectOccurrencesAccounted, runsOf } from './invariants.js';

const url = await findTestDatabase();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!url)('three scheduler processes on one PostgreSQL database', () => {
  it('start each occurrence once, hold the per-job limit, survive a killed process and pass a cancel between processes', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pj-procs-'));
    const schema = freshSchema();
    cleanups.push(() => rmSync(root, { recursive: true, force: true }), () => dropSchemas(url!, [schema]));
    const p = stackPaths(root);
    writeProject(p, 4);
    const marker = randomBytes(6).toString('hex');
    const storage = new PostgresStorage({ connectionString: url!, schema, poolSize: 3 });
    await storage.init();
    cleanups.push(() => storage.close());
    const creator = makeScheduler(storage, p);
    const env = (job: string, long: number) => ({ job: { PJ_LEDGER: p.ledger, PJ_MARKER: marker, PJ_JOB: job, PJ_LONG: String(long) } });

    // A job firing every second for 20 seconds, 4 runs per occurrence, at most 3 at once.
    // (Created before the processes start: a running scheduler does not pick up cron jobs
    // another process creates later; see the report.)
    const startAt = Math.ceil((Date.now() + 6_000) / 1_000) * 1_000;
    const endAt = startAt + 19_000;
    const every = await creator.createJob({
      name: 'every second', projectDir: p.project, pipeline: 'main.orchest',
      schedule: { type: 'cron', cron: '* * * * * *', startAt, endAt }, env: env('every', 1.5), options: { maxConcurrentRuns: 3 },
    });
    const children: Child[] = [0, 1, 2].map(() => spawnScheduler(['postgres', url!, root, schema]));
    cleanups.push(() => children.forEach((c) => c.proc.kill('SIGKILL')));
    await Promise.all(children.map((c) => c.waitFor('ready')));
    let maxStarted = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxStarted = Math.max(maxStarted, (await storage.getJob(every.id))!.counters.STARTED);
        await pause(20);
      }
    })();
    cleanups.push(async () => {
      sampling = false;
      await sampler.catch(() => {
        // The test failed already; the sampler's own error adds nothing.
      });
    });

    // Halfway through, one process dies.
    await pause(startAt + 10_000 - Date.now());
    children[1]!.proc.kill('SIGKILL');

    // A job of long runs; once two run, a process that does not hold them cancels it.
    const slow = await creator.createJob({ name: 'slow', projectDir: p.project, pipeline: 'main.orchest', env: env('slow', 60), selection: { indices: [1] } });
    const running = await waitUntil(30_000, async () => {
      const runs = (await storage.listRuns(slow.id, { status: ['STARTED'] })).items;
      return runs.length > 0 ? runs : undefined;
    });
    const owners = new Set(running.map((r) => r.leaseOwner!.split(':')[1]));
    const canceller = [children[0]!, children[2]!].find((c) => !owners.has(String(c.proc.pid)))
      ?? (() => { throw new Error(`both live processes hold the slow run: ${[...owners].join(', ')}`); })();
    const cancelledAt = Date.now();
    canceller.send(`cancel ${slow.id}`);
    await canceller.waitFor('cancelled');
    await waitUntil(10_000, async () => ((await storage.getJob(slow.id))!.counters.STARTED === 0 ? true : undefined));
    const stoppedIn = Date.now() - cancelledAt;
    for (const r of await runsOf(storage, slow.id)) expect(r).toMatchObject({ status: 'ABORTED' });
    expect(stoppedIn).toBeLessThan(5_000);

    // The every-second job ends on its own after endAt; nothing stays STARTED.
    const finished = await waitUntil(
      90_000,
      async () => {
        const job = (await storage.getJob(every.id))!;
        return ['SUCCESS', 'FAILURE', 'ABORTED'].includes(job.status) ? job : undefined;
      },
      async () => {
        const job = (await storage.getJob(every.id))!;
        const stuck = (await runsOf(storage, every.id)).filter((r) => r.status === 'PENDING' || r.status === 'STARTED');
        return `job ${JSON.stringify({ status: job.status, counters: job.counters, cursor: job.scheduleCursor, endAt, batchCount: job.batchCount })}; unfinished runs ${JSON.stringify(stuck.map((r) => [r.status, r.leaseOwner, r.leaseExpiresAt]))}; children stderr: ${children.map((c) => c.stderr().slice(-800)).join(' | ')}`;
      },
    ).finally(async () => {
      sampling = false;
      await sampler;
    });
    await Promise.all([children[0]!, children[2]!].map(async (c) => {
      c.send('stop');
      await c.waitFor('stopped');
    }));

    expect(maxStarted).toBeGreaterThan(0);
    expect(maxStarted).toBeLessThanOrEqual(3);
    const runs = await runsOf(storage, every.id);
    expect(runs.filter((r) => r.status === 'PENDING' || r.status === 'STARTED')).toEqual([]);
    expect(finished.counters.PENDING + finished.counters.STARTED).toBe(0);
    expect(runs.length).toBe(finished.batchCount * 4);
    // The killed process's runs ended FAILURE/interrupted, found by the others.
    expect(runs.every((r) => r.status === 'SUCCESS' || (r.status === 'FAILURE' && r.reason === 'interrupted'))).toBe(true);
    const ledger = await expectOccurrencesAccounted(storage, every.id, 1_000, startAt);
    expect(ledger[ledger.length - 1]!.lastAt).toBe(endAt);
    expect(ledger.filter((r) => r.action === 'started')).toHaveLength(finished.batchCount);
    expect(leftoverProcesses(marker)).toEqual([]);
    expect(workingCopies(p.work)).toEqual([]);
  }, 240_000);
});

async function waitUntil<T>(timeoutMs: number, probe: () => Promise<T | undefined>, explain?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out${explain ? `: ${await explain()}` : ''}`);
    await pause(50);
  }
}
