import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { tables } from '../../src/storage/postgres/pg.js';
import { migrate as migratePg } from '../../src/storage/postgres/schema.js';
import { JOB_COLUMNS, jobValues } from '../../src/storage/sql/rows.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { migrate as migrateSqlite } from '../../src/storage/sqlite/schema.js';
import { T0, makeJob } from '../../src/testing/storage-contract/fixtures.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

/** A job as the previous release stored it: the queue policy's buffered occurrence inside `options`. */
function oldJob() {
  const job = makeJob({ options: { maxRetainedRuns: 3, onInterrupted: 'fail' } });
  const columns = JOB_COLUMNS.filter((c) => c !== 'buffered_occurrence' && c !== 'job_key' && c !== 'spec_fingerprint');
  const values = jobValues(job).slice(0, columns.length);
  values[JOB_COLUMNS.indexOf('options')] = JSON.stringify({ maxRetainedRuns: 3, onInterrupted: 'fail', bufferedOccurrence: T0 + 60_000 });
  return { job, columns, values };
}

describe('SQLite schema 1 -> 2', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pj-migrate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves the buffered occurrence out of the options and gives old batches their job grid and selection', async () => {
    const file = path.join(dir, 'jobs.sqlite');
    const raw = new Database(file);
    migrateSqlite(raw, T0, 1);
    const { job, columns, values } = oldJob();
    raw.prepare(`INSERT INTO pj_jobs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...values);
    raw.prepare("INSERT INTO pj_batches (job_id, batch_index, trigger, occurrence_at, run_count, written_runs, first_run_index, env_vars, created_at) VALUES (?, 0, 'manual', NULL, 6, 2, 0, '{}', ?)").run(job.id, T0);
    raw.close();
    const storage = new SqliteStorage({ path: file });
    await storage.init();
    const migrated = (await storage.getJob(job.id))!;
    expect(migrated.options).toEqual({ maxRetainedRuns: 3, onInterrupted: 'fail' });
    expect(migrated.bufferedOccurrence).toBe(T0 + 60_000);
    // Schema 5: the JSON parts moved to pj_job_parts, whole.
    expect(migrated).toMatchObject({ pipeline: job.pipeline, grid: job.grid, selection: job.selection, schedule: job.schedule, envVars: job.envVars, environments: job.environments });
    expect(await storage.getBatch(job.id, 0)).toMatchObject({ runCount: 6, writtenRuns: 2, grid: job.grid, selection: null, triggerKind: 'manual' });
    // The typed field now updates on its own, and user options update without it.
    const next = await storage.updateJob(job.id, { options: { maxRetainedRuns: 1 } }, { status: ['STARTED'] }, T0 + 1);
    expect(next).toMatchObject({ options: { maxRetainedRuns: 1 }, bufferedOccurrence: T0 + 60_000 });
    // Schema 4: an old job has no key; keys hold on the migrated file.
    expect(migrated).toMatchObject({ key: null, specFingerprint: null });
    const keyed = makeJob({ key: 'k', specFingerprint: 'f' });
    expect((await storage.insertJob(keyed)).id).toBe(keyed.id);
    expect((await storage.insertJob(makeJob({ key: 'k', specFingerprint: 'g' }))).id).toBe(keyed.id);
    await storage.close();
  });
});

const url = await findTestDatabase();
const schemas: string[] = [];
afterAll(async () => {
  if (url) await dropSchemas(url, schemas);
});

describe.skipIf(!url)('PostgreSQL schema 2 -> 3', () => {
  it('moves the buffered occurrence out of the options and gives old batches their job grid and selection', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const t = tables(schema);
    const pool = new pg.Pool({ connectionString: url!, max: 2 });
    try {
      await migratePg(pool, t, T0, 2);
      const { job, columns, values } = oldJob();
      await pool.query(`INSERT INTO ${t.jobs} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
      await pool.query(`INSERT INTO ${t.batches} (job_id, batch_index, trigger, occurrence_at, run_count, written_runs, first_run_index, env_vars, created_at) VALUES ($1, 0, 'manual', NULL, 6, 2, 0, '{}', $2)`, [job.id, T0]);
      const storage = new PostgresStorage({ connectionString: url!, schema, poolSize: 2 });
      await storage.init();
      try {
        const migrated = (await storage.getJob(job.id))!;
        expect(migrated.options).toEqual({ maxRetainedRuns: 3, onInterrupted: 'fail' });
        expect(migrated.bufferedOccurrence).toBe(T0 + 60_000);
        expect(await storage.getBatch(job.id, 0)).toMatchObject({ runCount: 6, writtenRuns: 2, grid: job.grid, selection: null, triggerKind: 'manual' });
        // Schema 5: an old job has no key; keys hold on the migrated schema.
        expect(migrated).toMatchObject({ key: null, specFingerprint: null });
        const keyed = makeJob({ key: 'k', specFingerprint: 'f' });
        expect((await storage.insertJob(keyed)).id).toBe(keyed.id);
        expect((await storage.insertJob(makeJob({ key: 'k', specFingerprint: 'g' }))).id).toBe(keyed.id);
      } finally {
        await storage.close();
      }
    } finally {
      await pool.end();
    }
  });
});
