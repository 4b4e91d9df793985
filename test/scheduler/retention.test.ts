import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { harness, makeProject, tempDir, type Harness } from './harness.js';

const everySecond = (projectDir: string, options: object = {}) => ({
  name: 'per-second job',
  projectDir,
  pipeline: 'main.orchest',
  schedule: { type: 'cron' as const, cron: '* * * * * *' },
  options: { maxRetainedRuns: 2, ...options },
});

/** Row counts of the tables that grew with every occurrence before retention covered them. */
function rows(file: string): { batches: number; ledger: number; runs: number; steps: number } {
  const db = new Database(file, { readonly: true });
  try {
    const n = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { batches: n('pj_batches'), ledger: n('pj_ledger'), runs: n('pj_runs'), steps: n('pj_steps') };
  } finally {
    db.close();
  }
}

/** Lets `seconds` per-second occurrences fire and their runs end, one at a time. */
async function tick(h: Harness, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    await h.clock.advance(1000);
    await h.scheduler.onIdle();
  }
}

describe('storage stays bounded under a per-second cron job', () => {
  it('keeps row counts flat: batches go with their last run, the ledger keeps its retention', async () => {
    const file = path.join(tempDir('pj-retention-'), 'jobs.sqlite');
    const storage = new SqliteStorage({ path: file });
    const h = await harness({ storage });
    const job = await h.scheduler.createJob(everySecond(makeProject(), { ledgerRetention: { maxRecords: 10 } }));
    await tick(h, 30);
    const first = rows(file);
    await tick(h, 60);
    const second = rows(file);
    const j = (await h.scheduler.getJob(job.id))!;
    expect(j.batchCount).toBeGreaterThanOrEqual(90);
    expect(j.counters.SUCCESS).toBe(j.batchCount);
    expect(second).toEqual(first);
    expect(second).toEqual({ batches: 2, ledger: 10, runs: 2, steps: 2 });
    // What is kept is the newest: the two retained runs' batches, the last ten occurrences.
    const batches = (await h.scheduler.listBatches(job.id)).items.map((b) => b.batchIndex);
    expect(batches).toEqual([j.batchCount - 1, j.batchCount - 2]);
    const ledger = (await h.scheduler.listOccurrences(job.id)).items;
    expect(ledger.map((r) => r.batchIndex)).toEqual(Array.from({ length: 10 }, (_, k) => j.batchCount - 10 + k));
  });

  it('keeps skipped occurrences compressed in one record under retention', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(everySecond(makeProject(), { ledgerRetention: { maxRecords: 2 } }));
    await h.scheduler.pauseJob(job.id);
    await tick(h, 50);
    await h.scheduler.resumeJob(job.id);
    await tick(h, 3);
    const ledger = (await h.scheduler.listOccurrences(job.id)).items;
    expect(ledger.map((r) => [r.action, r.count])).toEqual([
      ['started', 1],
      ['started', 1],
    ]);
    await h.scheduler.pauseJob(job.id);
    await tick(h, 50);
    const paused = (await h.scheduler.listOccurrences(job.id)).items;
    expect(paused.map((r) => r.action)).toEqual(['started', 'skipped']);
    expect(paused[1]!.count).toBeGreaterThanOrEqual(49);
  });

  it('applies the default ledger retention (1,000 records) and keeps every record with `null`', async () => {
    const h = await harness();
    const bounded = await h.scheduler.createJob(everySecond(makeProject()));
    const unbounded = await h.scheduler.createJob(everySecond(makeProject(), { ledgerRetention: null }));
    expect(bounded.options.ledgerRetention).toBeUndefined();
    expect(unbounded.options.ledgerRetention).toBeNull();
    const { ledgerRetentionOf } = await import('../../src/scheduler/purge.js');
    expect(ledgerRetentionOf((await h.storage.getJob(bounded.id))!)).toEqual({ maxRecords: 1000 });
    expect(ledgerRetentionOf((await h.storage.getJob(unbounded.id))!)).toBeUndefined();
  });

  it.each([
    [{ maxRecords: 0 }, 'options.ledgerRetention.maxRecords'],
    [{ maxRecords: 2.5 }, 'options.ledgerRetention.maxRecords'],
    [{ maxAgeMs: -1 }, 'options.ledgerRetention.maxAgeMs'],
    [{ maxAge: 5 }, 'options.ledgerRetention.maxAge'],
    [5, 'options.ledgerRetention'],
  ])('refuses ledgerRetention %o with JOB_OPTIONS_INVALID, creating nothing', async (bad, where) => {
    const h = await harness();
    const err = await h.scheduler.createJob(everySecond(makeProject(), { ledgerRetention: bad })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'JOB_OPTIONS_INVALID', path: where });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
  });
});
