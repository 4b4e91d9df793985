/**
 * PostgreSQL specifics of the counter deltas and the one-statement claim (schema version
 * 2): migrating a version-1 database, claims in flight while the job row is updated, and
 * the folding that keeps the delta table small.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { POSTGRES_SCHEMA_VERSION, PostgresStorage } from '../../src/storage/postgres/index.js';
import { tables } from '../../src/storage/postgres/pg.js';
import { migrate } from '../../src/storage/postgres/schema.js';
import { JOB_COLUMNS, jobValues } from '../../src/storage/sql/rows.js';
import { T0, countedFromRuns, jobWithRuns, makeJob, newRuns, waitFor } from '../../src/testing/storage-contract/fixtures.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

const url = await findTestDatabase();
const schemas: string[] = [];
const closers: Array<() => Promise<void>> = [];

async function store(schema: string): Promise<PostgresStorage> {
  const s = new PostgresStorage({ connectionString: url!, schema, poolSize: 4 });
  closers.push(() => s.close());
  await s.init();
  return s;
}

async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url! });
  await client.connect();
  closers.push(() => client.end());
  return client;
}

function schema(): string {
  const name = freshSchema();
  schemas.push(name);
  return name;
}

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  if (url) await dropSchemas(url, schemas);
});

describe.skipIf(!url)('PostgresStorage counters and claims', () => {
  it('migrates a version-1 database: counters, limits, claims and listings carry on', async () => {
    const name = schema();
    const t = tables(name);
    const pool = new pg.Pool({ connectionString: url!, max: 1 });
    await migrate(pool, t, T0, 1);
    await pool.end();
    const db = await admin();
    // What version 1 wrote: counters on the job row only; one run running, one done, three waiting.
    const job = makeJob({ maxConcurrentRuns: 2, counters: { PENDING: 3, STARTED: 1, SUCCESS: 1, FAILURE: 0, ABORTED: 0 }, batchCount: 1, runCount: 5 });
    const v1Columns = JOB_COLUMNS.filter((c) => c !== 'buffered_occurrence' && c !== 'job_key' && c !== 'spec_fingerprint'); // added by versions 3 and 5
    await db.query(`INSERT INTO ${t.jobs} (${v1Columns.join(', ')}) VALUES (${v1Columns.map((_, i) => `$${i + 1}`).join(', ')})`, jobValues(job).slice(0, v1Columns.length));
    await db.query(`INSERT INTO ${t.batches} VALUES ($1, 0, 'manual', NULL, 5, 5, 0, '{}', $2)`, [job.id, T0]);
    const states = ['SUCCESS', 'STARTED', 'PENDING', 'PENDING', 'PENDING'];
    for (const [i, status] of states.entries()) {
      await db.query(
        `INSERT INTO ${t.runs} (id, job_id, batch_index, grid_index, index_in_batch, run_index, status, parameters, created_at, started_at, finished_at,
           attempts, lease_owner, lease_expires_at, cancel_requested, seq)
         VALUES ($1, $2, 0, $3, $3, $3, $4, '{"pipeline":{},"steps":{}}', $5, $6, $7, $8, $9, $10, false, nextval('${t.seq}'))`,
        [`run-${i}`, job.id, i, status, T0, status === 'PENDING' ? null : T0, status === 'SUCCESS' ? T0 : null, status === 'PENDING' ? 0 : 1, status === 'STARTED' ? 'old' : null, status === 'STARTED' ? T0 + 3_600_000_000 : null],
      );
    }

    const s = await store(name);
    const versions = await db.query(`SELECT version FROM ${t.version} ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
    expect((await s.getJob(job.id))!.counters).toEqual({ PENDING: 3, STARTED: 1, SUCCESS: 1, FAILURE: 0, ABORTED: 0 });
    // The limit counts the run version 1 started: one more fits.
    expect((await s.claimRuns({ owner: 'new', limit: 10, leaseMs: 60_000 })).map((r) => r.id)).toEqual(['run-2']);
    expect(await s.claimRuns({ owner: 'new', limit: 10, leaseMs: 60_000 })).toEqual([]);
    expect(await s.finishRun('run-1', { status: 'SUCCESS', owner: 'old', now: T0 })).toBe(true);
    expect((await s.claimRuns({ owner: 'new', limit: 10, leaseMs: 60_000 })).map((r) => r.id)).toEqual(['run-3']);
    expect((await s.getJob(job.id))!.counters).toEqual({ PENDING: 1, STARTED: 2, SUCCESS: 2, FAILURE: 0, ABORTED: 0 });
    expect((await s.getJob(job.id))!.counters).toEqual(await countedFromRuns(s, job.id));
    const page = await s.listRuns(job.id, { limit: 2, cursor: '1' });
    expect(page.items.map((r) => r.id)).toEqual(['run-2', 'run-3']);
    expect((await s.listRuns(job.id, { cursor: page.nextCursor })).items.map((r) => r.id)).toEqual(['run-4']);
  });

  it('makes a claim in flight wait for an update of the job, then apply its new limit or status', async () => {
    const name = schema();
    const s = await store(name);
    const db = await admin();
    // Another session watches: inside a transaction, pg_stat_activity keeps showing one snapshot.
    const watcher = await admin();
    const t = tables(name);
    const limited = await jobWithRuns(s, 10);
    const stopped = await jobWithRuns(s, 10);
    for (const [jobId, change] of [
      [limited.job.id, 'max_concurrent_runs = 1'],
      [stopped.job.id, "status = 'ABORTED'"],
    ] as const) {
      await db.query('BEGIN');
      await db.query(`SELECT 1 FROM ${t.jobs} WHERE id = $1 FOR UPDATE`, [jobId]);
      const claim = s.claimRuns({ owner: 'w', limit: 10, leaseMs: 60_000, jobIds: [jobId] });
      await waitFor('the claim to wait for the job row', async () => {
        const { rows } = await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%${name}%claim_runs%`]);
        return rows.length > 0 ? true : undefined;
      });
      await db.query(`UPDATE ${t.jobs} SET ${change} WHERE id = $1`, [jobId]);
      await db.query('COMMIT');
      // Never past the new limit (without the lock it would have taken all 10). A claim that
      // raced a limit change may take none of the job's runs: the next one does.
      const claimed = await claim;
      const next = await s.claimRuns({ owner: 'w', limit: 10, leaseMs: 60_000, jobIds: [jobId] });
      expect(claimed.length).toBeLessThanOrEqual(jobId === limited.job.id ? 1 : 0);
      expect(claimed.length + next.length).toBe(jobId === limited.job.id ? 1 : 0);
      expect((await s.getJob(jobId))!.counters).toEqual(await countedFromRuns(s, jobId));
    }
  });

  it("holds a job's limit when the claim waited for a fold of the job's counters", async () => {
    const name = schema();
    const s = await store(name);
    const db = await admin();
    const watcher = await admin();
    const t = tables(name);
    const { job } = await jobWithRuns(s, 6, { maxConcurrentRuns: 2 });
    const [first] = await s.claimRuns({ owner: 'w', limit: 10, leaseMs: 60_000 });
    await s.claimRuns({ owner: 'w', limit: 10, leaseMs: 60_000 });
    // Fold (STARTED 2 now on the row), then a finish leaves a STARTED -1 delta: one slot free.
    await s.updateJob(job.id, { name: 'folded' }, { status: ['STARTED'] }, T0);
    expect(await s.finishRun(first!.id, { status: 'SUCCESS', owner: 'w', now: T0 })).toBe(true);
    // Another process folds that delta while a claim waits for the job row.
    await db.query('BEGIN');
    await db.query(`SELECT 1 FROM ${t.jobs} WHERE id = $1 FOR NO KEY UPDATE`, [job.id]);
    const claim = s.claimRuns({ owner: 'w', limit: 10, leaseMs: 60_000 });
    await waitFor('the claim to wait for the job row', async () => {
      const { rows } = await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%${name}%claim_runs%`]);
      return rows.length > 0 ? true : undefined;
    });
    const { rows } = await db.query(`DELETE FROM ${t.counts} WHERE job_id = $1 RETURNING started`, [job.id]);
    expect(rows.map((r) => Number(r.started))).toEqual([-1]);
    await db.query(`UPDATE ${t.jobs} SET n_started = n_started - 1, n_success = n_success + 1 WHERE id = $1`, [job.id]);
    await db.query('COMMIT');
    expect(await claim).toHaveLength(1);
    expect((await s.getJob(job.id))!.counters).toEqual({ PENDING: 3, STARTED: 2, SUCCESS: 1, FAILURE: 0, ABORTED: 0 });
    expect((await s.getJob(job.id))!.counters).toEqual(await countedFromRuns(s, job.id));
  });

  it('still claims a run whose insert took an earlier seq but committed after later runs were claimed', async () => {
    const name = schema();
    const s = await store(name);
    const db = await admin();
    const t = tables(name);
    const job = makeJob();
    await s.insertJob(job);
    await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 5, expectStatus: ['STARTED'], now: T0 });
    // A writer takes the lowest seq and is slow to commit...
    await db.query('BEGIN');
    await db.query(
      `INSERT INTO ${t.runs} (id, job_id, batch_index, grid_index, index_in_batch, run_index, status, parameters, created_at, attempts, cancel_requested, seq)
       VALUES ('late', $1, 0, 4, 4, 4, 'PENDING', '{"pipeline":{},"steps":{}}', $2, 0, false, nextval('${t.seq}'))`,
      [job.id, T0],
    );
    await db.query(`INSERT INTO ${t.counts} VALUES ($1, 1, 0, 0, 0, 0)`, [job.id]);
    // ...while later runs are written and claims move past its seq.
    await s.insertRuns(job.id, 0, newRuns(4), T0);
    const claimed = (await s.claimRuns({ owner: 'w', limit: 1, leaseMs: 60_000 })).map((r) => r.id);
    await db.query('COMMIT');
    for (let round = 0; round < 10; round++) claimed.push(...(await s.claimRuns({ owner: 'w', limit: 1, leaseMs: 60_000 })).map((r) => r.id));
    expect(claimed).toHaveLength(5);
    expect(claimed).toContain('late');
    expect((await s.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 5, SUCCESS: 0, FAILURE: 0, ABORTED: 0 });
  });

  it('folds the counter deltas of a busy job into its row, and exactly', async () => {
    const name = schema();
    const s = await store(name);
    const db = await admin();
    const t = tables(name);
    const { job } = await jobWithRuns(s, 300);
    const deltas = async (): Promise<number> => Number((await db.query(`SELECT count(*) AS n FROM ${t.counts} WHERE job_id = $1`, [job.id])).rows[0].n);
    let most = 0;
    for (let i = 0; i < 300; i++) {
      const [run] = await s.claimRuns({ owner: 'w', limit: 1, leaseMs: 60_000 });
      expect(await s.finishRun(run!.id, { status: i % 3 === 0 ? 'FAILURE' : 'SUCCESS', owner: 'w', now: T0 })).toBe(true);
      if (i % 50 === 49) most = Math.max(most, await deltas());
    }
    // 601 delta rows were written (the batch, 300 claims, 300 finishes); folds keep a few hundred at most.
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2 * 256);
    expect((await s.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 200, FAILURE: 100, ABORTED: 0 });
    // An update locks the row anyway and folds what is left.
    const updated = await s.updateJob(job.id, { status: 'SUCCESS', finishedAt: T0 }, { status: ['STARTED'] }, T0);
    expect(updated!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 200, FAILURE: 100, ABORTED: 0 });
    expect(await deltas()).toBe(0);
    expect((await s.getJob(job.id))!.counters).toEqual(updated!.counters);
  }, 120_000);
});
