/**
 * The PostgreSQL claim with a job at its `maxConcurrentRuns` (issue 9, point 10): it must
 * not walk that job's backlog. Measured by the rows the claim reads (the transaction's own
 * table statistics), never by time; plus the claim's guarantees on that path (seq order,
 * limits, runs another claimer holds skipped) and the migration that brings it.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { tables } from '../../src/storage/postgres/pg.js';
import { migrate } from '../../src/storage/postgres/schema.js';
import type { JobRecord } from '../../src/storage/records.js';
import { T0, makeJob, newRuns } from '../../src/testing/storage-contract/fixtures.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

const url = await findTestDatabase();
const schemas: string[] = [];
const closers: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const close of closers) await close();
  if (url) await dropSchemas(url, schemas);
});

async function store(schema?: string): Promise<{ s: PostgresStorage; schema: string }> {
  const name = schema ?? freshSchema();
  if (!schema) schemas.push(name);
  const s = new PostgresStorage({ connectionString: url!, schema: name, poolSize: 4 });
  closers.push(() => s.close());
  await s.init();
  return { s, schema: name };
}

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url! });
  await c.connect();
  closers.push(() => c.end());
  return c;
}

async function addJob(s: PostgresStorage, job: JobRecord, runs: number): Promise<void> {
  await s.insertJob(job);
  await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: runs, expectStatus: ['STARTED'], now: T0 });
  for (let i = 0; i < runs; i += 500) await s.insertRuns(job.id, 0, newRuns(Math.min(500, runs - i), i), T0);
}

describe.skipIf(!url)('PostgreSQL claim with a job at its limit', () => {
  it('reads a handful of runs, not the backlog of the job at its limit', async () => {
    const { s, schema } = await store();
    const full = makeJob({ maxConcurrentRuns: 1 });
    const other = makeJob();
    await addJob(s, full, 2_000);
    await addJob(s, other, 3);
    expect(await s.claimRuns({ owner: 'holder', limit: 1, leaseMs: 60_000, jobIds: [full.id] })).toHaveLength(1);
    const c = await client();
    const t = tables(schema);
    // One transaction: the claim and the reading of its own statistics (pg_stat_xact_*
    // counts this transaction's reads so far, flushed or not).
    await c.query('BEGIN');
    const claimed = await c.query<{ job_id: string }>(`SELECT * FROM ${t.claim}('w', 1, 60000, NULL, ARRAY['STARTED', 'PAUSED'], 0)`);
    const read = await c.query<{ rows: string }>(
      `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS rows FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = 'runs'`,
      [schema],
    );
    await c.query('COMMIT');
    expect(claimed.rows.map((r) => r.job_id)).toEqual([other.id]);
    // Walking the backlog reads its 1,999 pending runs; the claim reads the heads.
    expect(Number(read.rows[0]!.rows)).toBeLessThan(50);
  });

  it('hands out the other jobs runs in seq order, each job within its room', async () => {
    const { s } = await store();
    const full = makeJob({ maxConcurrentRuns: 1 });
    const two = makeJob({ maxConcurrentRuns: 2 });
    const free = makeJob();
    await addJob(s, full, 300);
    await s.claimRuns({ owner: 'holder', limit: 1, leaseMs: 60_000, jobIds: [full.id] });
    await addJob(s, two, 5);
    await addJob(s, free, 5);
    const got = await s.claimRuns({ owner: 'w', limit: 6, leaseMs: 60_000 });
    // `two` has room for 2 (its runs come first), then `free`'s runs, oldest first.
    expect(got.map((r) => r.jobId)).toEqual([two.id, two.id, free.id, free.id, free.id, free.id]);
    expect(got.map((r) => r.runIndex)).toEqual([0, 1, 0, 1, 2, 3]);
    expect((await s.getJob(full.id))!.counters.STARTED).toBe(1);
    expect((await s.getJob(two.id))!.counters.STARTED).toBe(2);
  });

  it('skips the runs another claimer holds and takes the next ones', async () => {
    const { s, schema } = await store();
    const full = makeJob({ maxConcurrentRuns: 1 });
    const free = makeJob();
    await addJob(s, full, 100);
    await s.claimRuns({ owner: 'holder', limit: 1, leaseMs: 60_000, jobIds: [full.id] });
    await addJob(s, free, 6);
    const t = tables(schema);
    const other = await client();
    // Another claimer's transaction holds the first three runs of `free`.
    await other.query('BEGIN');
    await other.query(`SELECT id FROM ${t.runs} WHERE job_id = $1 AND run_index < 3 FOR UPDATE`, [free.id]);
    try {
      const got = await s.claimRuns({ owner: 'w', limit: 2, leaseMs: 60_000 });
      expect(got.map((r) => r.runIndex)).toEqual([3, 4]);
    } finally {
      await other.query('ROLLBACK');
    }
    const rest = await s.claimRuns({ owner: 'w', limit: 10, leaseMs: 60_000 });
    expect(rest.map((r) => r.runIndex)).toEqual([0, 1, 2, 5]);
  });

  it('holds every limit and claims each run once under concurrent claimers', async () => {
    const { s, schema } = await store();
    const limited = [makeJob({ maxConcurrentRuns: 1 }), makeJob({ maxConcurrentRuns: 3 })];
    const free = makeJob();
    for (const job of limited) await addJob(s, job, 40);
    await addJob(s, free, 40);
    const claimers = await Promise.all([1, 2, 3].map(() => store(schema)));
    const seen = new Set<string>();
    let maxStarted = [0, 0];
    for (let round = 0; seen.size < 120 && round < 500; round++) {
      const got = (await Promise.all(claimers.map(({ s: c }, i) => c.claimRuns({ owner: `c${i}`, limit: 3, leaseMs: 60_000 })))).flat();
      for (const run of got) {
        expect(seen.has(run.id)).toBe(false);
        seen.add(run.id);
      }
      const counts = await Promise.all(limited.map(async (job) => (await s.getJob(job.id))!.counters.STARTED));
      maxStarted = maxStarted.map((m, i) => Math.max(m, counts[i]!));
      await Promise.all(got.map((run) => s.finishRun(run.id, { status: 'SUCCESS', owner: run.leaseOwner!, now: T0 })));
    }
    expect(seen.size).toBe(120);
    expect(maxStarted[0]).toBeLessThanOrEqual(1);
    expect(maxStarted[1]).toBeLessThanOrEqual(3);
  }, 60_000);

  it('migrating a version-2 schema replaces its claim function', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const t = tables(schema);
    const pool = new pg.Pool({ connectionString: url!, max: 1 });
    try {
      await migrate(pool, t, T0, 2);
      // Stands for the version-2 function (same signature): hands out nothing.
      const { rows } = await pool.query<{ def: string }>(`SELECT pg_get_functiondef('${t.claim}'::regproc) AS def`);
      const stub = rows[0]!.def.replace(/\$function\$[\s\S]*\$function\$/, "$function$ BEGIN RETURN; END $function$");
      await pool.query(stub);
    } finally {
      await pool.end();
    }
    const { s } = await store(schema);
    const job = makeJob();
    await addJob(s, job, 2);
    expect(await s.claimRuns({ owner: 'w', limit: 5, leaseMs: 60_000 })).toHaveLength(2);
  });
});
