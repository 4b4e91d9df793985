/**
 * Round trips of the PostgreSQL adapter's per-run writes (issue 12): the scheduler writes a
 * run's step states once per run, so that write is one statement (it was a five-round-trip
 * transaction), the writes of runs ending together share it (group commit), and it keeps
 * what the transaction guaranteed: a missing run gets nothing, a new list replaces the old
 * one whole, concurrent writes of one run never mix, a failed statement writes nothing.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import type { StepStateRecord } from '../../src/storage/records.js';
import { jobWithRuns } from '../../src/testing/storage-contract/fixtures.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

const url = await findTestDatabase();
const schemas: string[] = [];
const closers: Array<() => Promise<void>> = [];

/** A pool whose clients count the statements they send (a transaction's BEGIN and COMMIT included). */
function countingPool(): { pool: pg.Pool; sent: string[] } {
  const sent: string[] = [];
  class Counting extends pg.Client {
    override query(...args: unknown[]): never {
      const q = args[0] as string | { text: string };
      sent.push(typeof q === 'string' ? q : q.text);
      return (super.query as (...a: unknown[]) => never)(...args);
    }
  }
  return { pool: new pg.Pool({ connectionString: url!, max: 4, Client: Counting }), sent };
}

async function store(): Promise<{ storage: PostgresStorage; sent: string[] }> {
  const schema = freshSchema();
  schemas.push(schema);
  const { pool, sent } = countingPool();
  const storage = new PostgresStorage({ pool, schema });
  closers.push(async () => {
    await storage.close();
    await pool.end();
  });
  await storage.init();
  return { storage, sent };
}

function steps(runId: string, n: number, status: StepStateRecord['status'], tag = ''): StepStateRecord[] {
  return Array.from({ length: n }, (_, i) => ({ runId, stepId: `s${i}${tag}`, status, startedAt: 10 + i, finishedAt: null, attempts: i, exitCode: null, error: i === 0 ? { code: 'X', message: 'm' } : null }));
}

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  if (url) await dropSchemas(url, schemas);
});

describe.skipIf(!url)('PostgresStorage per-run writes in one round trip', () => {
  it('writes a run\'s step states with one statement', async () => {
    const { storage, sent } = await store();
    const { runs } = await jobWithRuns(storage, 1);
    const id = runs[0]!.id;
    sent.length = 0;
    await storage.putStepStates(id, steps(id, 3, 'SUCCESS'));
    expect(sent).toHaveLength(1);
    expect(await storage.getStepStates(id)).toEqual(steps(id, 3, 'SUCCESS'));
  });

  it('replaces the list whole: shorter, longer, empty', async () => {
    const { storage } = await store();
    const { runs } = await jobWithRuns(storage, 2);
    const [id, other] = [runs[0]!.id, runs[1]!.id];
    await storage.putStepStates(other, steps(other, 2, 'STARTED'));
    await storage.putStepStates(id, steps(id, 3, 'SUCCESS'));
    await storage.putStepStates(id, steps(id, 1, 'FAILURE', 'b'));
    expect(await storage.getStepStates(id)).toEqual(steps(id, 1, 'FAILURE', 'b'));
    await storage.putStepStates(id, steps(id, 4, 'ABORTED', 'c'));
    expect(await storage.getStepStates(id)).toEqual(steps(id, 4, 'ABORTED', 'c'));
    await storage.putStepStates(id, []);
    expect(await storage.getStepStates(id)).toEqual([]);
    expect(await storage.getStepStates(other)).toEqual(steps(other, 2, 'STARTED'));
  });

  it('writes nothing for a run that does not exist', async () => {
    const { storage } = await store();
    await storage.putStepStates('no-such-run', steps('no-such-run', 2, 'SUCCESS'));
    expect(await storage.getStepStates('no-such-run')).toEqual([]);
  });

  it('concurrent writes of one run leave one of the lists, never a mix', async () => {
    const { storage } = await store();
    const { runs } = await jobWithRuns(storage, 1);
    const id = runs[0]!.id;
    const lists = Array.from({ length: 12 }, (_, k) => steps(id, 1 + (k % 4), 'SUCCESS', `v${k}`));
    await Promise.all(lists.map((l) => storage.putStepStates(id, l)));
    const got = await storage.getStepStates(id);
    expect(lists).toContainEqual(got);
  });

  it('writes the step states of runs ending together in one statement, each call answered', async () => {
    const { storage, sent } = await store();
    const { runs } = await jobWithRuns(storage, 6);
    const ids = runs.map((r) => r.id);
    sent.length = 0;
    await Promise.all(ids.map((id, k) => storage.putStepStates(id, steps(id, 1 + (k % 3), 'SUCCESS'))));
    expect(sent).toHaveLength(1);
    for (const [k, id] of ids.entries()) expect(await storage.getStepStates(id)).toEqual(steps(id, 1 + (k % 3), 'SUCCESS'));
  });

  it('two writes of one run in one burst go in order: the later list stays', async () => {
    const { storage, sent } = await store();
    const { runs } = await jobWithRuns(storage, 2);
    const [id, other] = [runs[0]!.id, runs[1]!.id];
    sent.length = 0;
    await Promise.all([storage.putStepStates(id, steps(id, 3, 'STARTED')), storage.putStepStates(other, steps(other, 1, 'SUCCESS')), storage.putStepStates(id, steps(id, 2, 'SUCCESS', 'z'))]);
    expect(sent).toHaveLength(2);
    expect(await storage.getStepStates(id)).toEqual(steps(id, 2, 'SUCCESS', 'z'));
    expect(await storage.getStepStates(other)).toEqual(steps(other, 1, 'SUCCESS'));
  });

  it('a statement that fails fails each call in it with a typed error and writes none of them', async () => {
    const { storage } = await store();
    const { runs } = await jobWithRuns(storage, 2);
    const [id, other] = [runs[0]!.id, runs[1]!.id];
    const broken = [{ ...steps(id, 1, 'SUCCESS')[0]!, attempts: 1.5 }];
    const results = await Promise.allSettled([storage.putStepStates(id, broken), storage.putStepStates(other, steps(other, 2, 'SUCCESS'))]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'StorageError', code: 'STORAGE_FAILED' });
    }
    expect(await storage.getStepStates(id)).toEqual([]);
    expect(await storage.getStepStates(other)).toEqual([]);
    await storage.putStepStates(other, steps(other, 2, 'SUCCESS'));
    expect(await storage.getStepStates(other)).toEqual(steps(other, 2, 'SUCCESS'));
  });

  it('close waits for step states still queued, then ends the pool it made', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const owning = new PostgresStorage({ connectionString: url!, schema, poolSize: 2 });
    await owning.init();
    const { runs } = await jobWithRuns(owning, 3);
    const writes = runs.map((r) => owning.putStepStates(r.id, steps(r.id, 2, 'SUCCESS')));
    await owning.close();
    await Promise.all(writes);
    const reader = new PostgresStorage({ connectionString: url!, schema, poolSize: 1 });
    closers.push(() => reader.close());
    await reader.init();
    for (const r of runs) expect(await reader.getStepStates(r.id)).toEqual(steps(r.id, 2, 'SUCCESS'));
  });
});
