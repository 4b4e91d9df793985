import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { makeJob, newRuns } from '../../src/testing/storage-contract/fixtures.js';
import { PgServer, pgBinOrSkip } from './pg-server.js';

const bin = pgBinOrSkip();

/** Polls `check` every few ms (real time: the server is real) until it holds. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!bin)('PostgreSQL stopped while a transaction of the store is open', () => {
  let server: PgServer;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => {
    uncaught.push(error);
  };
  beforeAll(async () => {
    server = await PgServer.create(bin!);
    process.on('uncaughtException', onUncaught);
  });
  afterAll(() => {
    process.off('uncaughtException', onUncaught);
    server?.destroy();
  });

  it.each(['fast', 'immediate'] as const)('fails the operation with STORAGE_UNAVAILABLE and never crashes the host (stop -m %s)', async (mode) => {
    await server.start().catch(() => undefined);
    const schema = `pj_drop_${mode}`;
    const storage = new PostgresStorage({ connectionString: server.url(), schema, poolSize: 3 });
    await storage.init();
    const job = makeJob();
    await storage.insertJob(job);
    await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 3, expectStatus: ['STARTED'], now: 1 });
    // Another session holds the job row: the store's transaction waits on it, open.
    const holder = new pg.Client({ connectionString: server.url() });
    holder.on('error', () => {
      // The holder's own connection dies with the server too; that is the point.
    });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM "${schema}".batches WHERE job_id = $1 FOR UPDATE`, [job.id]);
    const waiting = storage.insertRuns(job.id, 0, newRuns(3), 2).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await until(async () => (await holder.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)).rows[0].n > 0, 'the insert to wait on the lock');
    await server.stop(mode);
    const error = await waiting;
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_UNAVAILABLE');
    // The store stays usable: once the server is back, the same call succeeds.
    await server.start();
    await storage.insertRuns(job.id, 0, newRuns(3), 2);
    expect((await storage.getBatch(job.id, 0))?.writtenRuns).toBe(3);
    await storage.close();
    await holder.end().catch(() => undefined);
    expect(uncaught).toEqual([]);
  });
});
