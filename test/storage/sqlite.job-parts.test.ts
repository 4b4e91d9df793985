/**
 * SQLite schema 5 (issue 12): a job's JSON parts (pipeline, grid, options, ...) live in
 * `pj_job_parts`, apart from its small fields and counters in `pj_jobs`; a batch's grid,
 * selection and variables in `pj_batch_parts`. SQLite rewrites a
 * whole row on update, so the per-run writes (claims and finishes move counters) and the
 * per-batch ones (cursor, batch count) must never write the parts; only a change of a part
 * does, and only that part.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { T0, makeJob, newRuns } from '../../src/testing/storage-contract/fixtures.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pj-sqlite-parts-'));
  file = path.join(dir, 'jobs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Counts the writes of each part column, through a trigger the adapter does not know of. */
function watchParts(): { writes: () => Record<string, number>; close: () => void } {
  const raw = new Database(file);
  raw.exec(`
    CREATE TABLE IF NOT EXISTS test_part_writes (col TEXT NOT NULL);
    CREATE TRIGGER IF NOT EXISTS test_parts_updated AFTER UPDATE ON pj_job_parts BEGIN
      INSERT INTO test_part_writes SELECT 'grid' WHERE NEW.grid IS NOT OLD.grid;
      INSERT INTO test_part_writes SELECT 'options' WHERE NEW.options IS NOT OLD.options;
      INSERT INTO test_part_writes SELECT 'any' WHERE 1;
    END;
    CREATE TRIGGER IF NOT EXISTS test_batch_parts_updated AFTER UPDATE ON pj_batch_parts BEGIN
      INSERT INTO test_part_writes SELECT 'batch' WHERE 1;
    END;`);
  return {
    writes: () => Object.fromEntries((raw.prepare('SELECT col, count(*) AS n FROM test_part_writes GROUP BY col').all() as Array<{ col: string; n: number }>).map((r) => [r.col, r.n])),
    close: () => raw.close(),
  };
}

describe('SQLite job rows (schema 5)', () => {
  it('keeps the JSON parts out of pj_jobs and pj_batches', async () => {
    const s = new SqliteStorage({ path: file });
    await s.init();
    await s.close();
    const raw = new Database(file, { readonly: true });
    const columns = (table: string) => (raw.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
    expect(columns('pj_jobs')).not.toEqual(expect.arrayContaining(['grid']));
    expect(columns('pj_jobs')).toEqual(expect.arrayContaining(['n_pending', 'n_started', 'max_concurrent_runs', 'version']));
    expect(columns('pj_job_parts')).toEqual(['job_id', 'revision', 'pipeline', 'environments', 'grid', 'selection', 'schedule', 'env_vars', 'options']);
    expect(columns('pj_batches')).not.toEqual(expect.arrayContaining(['grid']));
    expect(columns('pj_batch_parts')).toEqual(['job_id', 'batch_index', 'env_vars', 'grid', 'selection']);
    raw.close();
  });

  it('claims, finishes, batches and cursor moves never write the parts; an edit writes only the part it changes', async () => {
    const s = new SqliteStorage({ path: file });
    await s.init();
    const watch = watchParts();
    try {
      const job = makeJob();
      await s.insertJob(job);
      const batch = await s.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0, runCount: 4, expectStatus: ['STARTED'], jobPatch: { scheduleCursor: T0 }, now: T0 });
      expect(batch).toBeDefined();
      await s.insertRuns(job.id, 0, newRuns(4), T0);
      const claimed = await s.claimRuns({ owner: 'w', limit: 4, leaseMs: 60_000 });
      expect(claimed).toHaveLength(4);
      for (const r of claimed) expect(await s.finishRun(r.id, { status: 'SUCCESS', owner: 'w', now: T0 + 1 })).toBe(true);
      const current = (await s.getJob(job.id))!;
      expect(await s.recordSkips(job.id, [{ at: T0 + 60_000, reason: 'missed' }], { scheduleCursor: T0 + 60_000, expectVersion: current.version, now: T0 + 2 })).toBe(true);
      expect(watch.writes()).toEqual({});
      expect(await s.getBatch(job.id, 0)).toMatchObject({ writtenRuns: 4, runCount: 4, grid: job.grid, selection: job.selection, envVars: job.envVars });

      const edited = await s.updateJob(job.id, { options: { maxRetainedRuns: 7 } }, { status: ['STARTED'] }, T0 + 3);
      expect(edited!.options).toEqual({ maxRetainedRuns: 7 });
      expect(watch.writes()).toEqual({ any: 1, options: 1 });

      // What was written reads back whole, from a fresh connection as well.
      const read = (await s.getJob(job.id))!;
      expect(read).toMatchObject({ counters: { PENDING: 0, STARTED: 0, SUCCESS: 4 }, scheduleCursor: T0 + 60_000, batchCount: 1, options: { maxRetainedRuns: 7 }, grid: job.grid, pipeline: job.pipeline });
      await s.close();
      const again = new SqliteStorage({ path: file });
      await again.init();
      expect(await again.getJob(job.id)).toEqual(read);
      expect((await again.listJobs()).items).toEqual([read]);
      expect(await again.deleteJob(job.id)).toHaveLength(4);
      await again.close();
      const raw = new Database(file, { readonly: true });
      expect(raw.prepare('SELECT count(*) AS n FROM pj_job_parts').get()).toEqual({ n: 0 });
      expect(raw.prepare('SELECT count(*) AS n FROM pj_batch_parts').get()).toEqual({ n: 0 });
      raw.close();
    } finally {
      watch.close();
    }
  });

  it('reuses parsed parts across versions that did not write them; a write of a part, or another process\'s, is seen', async () => {
    const s = new SqliteStorage({ path: file });
    await s.init();
    const other = new SqliteStorage({ path: file });
    await other.init();
    try {
      const job = makeJob();
      await s.insertJob(job);
      const first = (await s.getJob(job.id))!;
      await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: ['STARTED'], now: T0 });
      const afterBatch = (await s.getJob(job.id))!;
      expect(afterBatch.version).toBeGreaterThan(first.version);
      expect(afterBatch.grid).toBe(first.grid); // the same frozen object: not read or parsed again
      expect(Object.isFrozen(afterBatch.grid)).toBe(true);
      // Another connection (another process) edits the options: this one reads the new ones.
      await other.updateJob(job.id, { options: { maxRetainedRuns: 2 } }, { status: ['STARTED'] }, T0 + 1);
      const edited = (await s.getJob(job.id))!;
      expect(edited.options).toEqual({ maxRetainedRuns: 2 });
      expect(edited.grid).toEqual(first.grid);
    } finally {
      await other.close();
      await s.close();
    }
  });
});
