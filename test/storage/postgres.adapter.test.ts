import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { StorageEvent } from '../../src/storage/port.js';
import { POSTGRES_SCHEMA_VERSION, PostgresStorage } from '../../src/storage/postgres/index.js';
import { T0, makeJob, newRuns, rejection, waitFor } from '../../src/testing/storage-contract/fixtures.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

const url = await findTestDatabase();
const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const schemas: string[] = [];
const stores: PostgresStorage[] = [];

async function store(schema: string, options: { notify?: boolean } = {}): Promise<PostgresStorage> {
  const s = new PostgresStorage({ connectionString: url!, schema, poolSize: 4, ...options });
  stores.push(s);
  await s.init();
  return s;
}

function schema(): string {
  const name = freshSchema();
  schemas.push(name);
  return name;
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  if (url) await dropSchemas(url, schemas);
});

describe.skipIf(!url)('PostgresStorage', () => {
  it('migrates once when several processes initialise a new schema at once, and records the version', async () => {
    const name = schema();
    await Promise.all(Array.from({ length: 5 }, () => store(name)));
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    const { rows } = await admin.query(`SELECT version FROM "${name}".schema_version`);
    await admin.end();
    // Each migration once, in order, up to the current version.
    expect(rows).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
  });

  it('refuses a schema written by a newer version with STORAGE_SCHEMA_TOO_NEW, changing nothing', async () => {
    const name = schema();
    const s = await store(name);
    const job = makeJob();
    await s.insertJob(job);
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    await admin.query(`INSERT INTO "${name}".schema_version (version, applied_at) VALUES ($1, 0)`, [POSTGRES_SCHEMA_VERSION + 1]);
    const newer = new PostgresStorage({ connectionString: url!, schema: name });
    stores.push(newer);
    expect(await rejection(newer.init())).toMatchObject({ name: 'StorageError', code: 'STORAGE_SCHEMA_TOO_NEW', value: POSTGRES_SCHEMA_VERSION + 1 });
    const { rows } = await admin.query(`SELECT version FROM "${name}".schema_version ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION + 1 }, (_, i) => i + 1));
    await admin.end();
    expect(await s.getJob(job.id)).toEqual(job);
  });

  it('takes lease times from the database clock', async () => {
    const s = await store(schema());
    const job = makeJob();
    await s.insertJob(job);
    await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: ['STARTED'], now: T0 });
    await s.insertRuns(job.id, 0, newRuns(1), T0);
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    const dbNow = async (): Promise<number> => Number((await admin.query('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS t')).rows[0].t);
    const before = await dbNow();
    const [claimed] = await s.claimRuns({ owner: 'w', limit: 1, leaseMs: 12_345 });
    const after = await dbNow();
    await admin.end();
    expect(claimed!.startedAt!).toBeGreaterThanOrEqual(before - 1);
    expect(claimed!.startedAt!).toBeLessThanOrEqual(after + 1);
    expect(claimed!.leaseExpiresAt! - claimed!.startedAt!).toBe(12_345);
  });

  it('tells subscribers in other processes about cancels, job changes and pending runs', async () => {
    const name = schema();
    const a = await store(name);
    const b = await store(name);
    const other = await store(schema());
    const events: StorageEvent[] = [];
    const strays: StorageEvent[] = [];
    const unsubscribe = await a.subscribe((e) => events.push(e));
    await other.subscribe((e) => strays.push(e));
    const job = makeJob();
    await b.insertJob(job);
    await b.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 3, expectStatus: ['STARTED'], now: T0 });
    await b.insertRuns(job.id, 0, newRuns(3), T0);
    const claimed = await b.claimRuns({ owner: 'w', limit: 2, leaseMs: 60_000 });
    await b.cancelRuns({ jobId: job.id }, T0);
    await b.updateJob(job.id, { status: 'ABORTED', finishedAt: T0 }, { status: ['STARTED'] }, T0);
    const cancel = await waitFor('the cancel event', async () => events.find((e) => e.type === 'cancel'));
    expect(cancel).toEqual({ type: 'cancel', jobId: job.id, runIds: claimed.map((r) => r.id) });
    await waitFor('the job-changed event', async () => events.find((e) => e.type === 'job-changed' && e.jobId === job.id));
    expect(events.some((e) => e.type === 'runs-pending' && e.jobId === job.id)).toBe(true);
    expect(strays).toEqual([]);
    await unsubscribe();
  });

  it('contains a throwing listener: the others still get the event', async () => {
    const name = schema();
    const a = await store(name);
    const b = await store(name);
    const got: StorageEvent[] = [];
    await a.subscribe(() => {
      throw new Error('listener bug');
    });
    await a.subscribe((e) => got.push(e));
    const job = makeJob();
    await b.insertJob(job);
    await b.updateJob(job.id, { name: 'x' }, { status: ['STARTED'] }, T0);
    expect(await waitFor('the event', async () => got[0])).toEqual({ type: 'job-changed', jobId: job.id });
  });

  it('writes the finishes already asked for before close() ends the pool', async () => {
    const name = schema();
    const s = new PostgresStorage({ connectionString: url!, schema: name, poolSize: 2 });
    await s.init();
    const job = makeJob();
    await s.insertJob(job);
    await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 3, expectStatus: ['STARTED'], now: T0 });
    await s.insertRuns(job.id, 0, newRuns(3), T0);
    const claimed = await s.claimRuns({ owner: 'w', limit: 3, leaseMs: 60_000 });
    const finishes = claimed.map((r) => s.finishRun(r.id, { status: 'SUCCESS', owner: 'w', now: T0 }));
    await s.close();
    expect(await Promise.all(finishes)).toEqual([true, true, true]);
    const other = await store(name);
    expect((await other.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 3, FAILURE: 0, ABORTED: 0 });
  });

  it('leaves a pool given by the host open on close', async () => {
    const pool = new pg.Pool({ connectionString: url!, max: 2 });
    const s = new PostgresStorage({ pool, schema: schema() });
    await s.init();
    await s.close();
    expect(await rejection(s.getJob('x'))).toMatchObject({ code: 'STORAGE_CLOSED' });
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it('refuses bad options with OPTIONS_INVALID and an unreachable server with STORAGE_UNAVAILABLE', async () => {
    expect(() => new PostgresStorage({})).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'pool' }));
    expect(() => new PostgresStorage({ connectionString: url!, pool: new pg.Pool() })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID' }));
    expect(() => new PostgresStorage({ connectionString: url!, schema: 'Bad-Name; DROP' })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'schema' }));
    expect(() => new PostgresStorage({ connectionString: url!, poolSize: 0 })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'poolSize' }));
    expect(() => new PostgresStorage({ connectionString: url!, synchronousCommit: 'maybe' as 'on' })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'synchronousCommit' }));
    expect(() => new PostgresStorage({ pool: new pg.Pool(), synchronousCommit: 'off' })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'synchronousCommit' }));
    const down = new PostgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: schema() });
    expect(await rejection(down.init())).toMatchObject({ name: 'StorageError', code: 'STORAGE_UNAVAILABLE' });
    await down.close();
  });

  it('shares one database between processes: each run claimed once, the per-job limit held', async () => {
    const name = schema();
    const s = await store(name);
    const limited = makeJob({ maxConcurrentRuns: 2 });
    const free = makeJob();
    for (const job of [limited, free]) {
      await s.insertJob(job);
      await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 150, expectStatus: ['STARTED'], now: T0 });
      await s.insertRuns(job.id, 0, newRuns(150), T0);
    }
    let watching = true;
    let maxSeen = 0;
    const watch = (async () => {
      while (watching) {
        maxSeen = Math.max(maxSeen, (await s.getJob(limited.id))!.counters.STARTED);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const child = (owner: string) =>
      run(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'claimer.ts'), 'postgres', url!, '3', owner, name], { cwd: path.resolve(here, '../..') });
    const outs = await Promise.all([1, 2, 3].map((i) => child(`p${i}-${randomUUID()}`)));
    watching = false;
    await watch;
    const results = outs.map((r) => JSON.parse(r.stdout.trim()) as { claimed: string[]; maxStarted: number });
    const all = results.flatMap((r) => r.claimed);
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    expect(Math.max(maxSeen, ...results.map((r) => r.maxStarted))).toBeLessThanOrEqual(2);
    expect((await s.getJob(limited.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 150, FAILURE: 0, ABORTED: 0 });
  }, 120_000);
});
