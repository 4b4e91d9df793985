import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobStateError, NotFoundError } from '../../src/errors.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { dropSchemas, findTestDatabase, freshSchema } from '../storage/pg-helpers.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { gate, harness, makeProject, tempDir, until } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });
const hang = (signal: AbortSignal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

describe('every end emits run:finished once, and waits resolve from storage', () => {
  it('a PENDING run cancelled by cancelRun: run:finished once, waitForRun resolves ABORTED', async () => {
    const h = await harness({ scheduler: { concurrency: 1 }, functions: { a: async ({ signal }) => { await hang(signal); } } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2]}}' });
    const finished: string[] = [];
    h.scheduler.on('run:finished', (p) => finished.push(`${p.runId}:${p.status}`));
    const job = await h.scheduler.createJob(spec(projectDir));
    await until(async () => (await h.scheduler.getJob(job.id))!.counters.STARTED === 1, 'the first run to start');
    const pending = (await h.scheduler.listRuns(job.id, { status: ['PENDING'] })).items[0]!;
    const waited = h.scheduler.waitForRun(pending.id);
    await h.scheduler.cancelRun(pending.id);
    expect((await waited).status).toBe('ABORTED');
    expect(finished).toEqual([`${pending.id}:ABORTED`]);
  });

  it('cancelJob: every PENDING run it aborts emits run:finished exactly once', async () => {
    const h = await harness({ scheduler: { concurrency: 1 }, functions: { a: async ({ signal }) => { await hang(signal); } } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2, 3, 4]}}' });
    const finished: string[] = [];
    h.scheduler.on('run:finished', (p) => finished.push(p.runId));
    const job = await h.scheduler.createJob(spec(projectDir));
    await until(async () => (await h.scheduler.getJob(job.id))!.counters.STARTED === 1, 'the first run to start');
    await h.scheduler.cancelJob(job.id);
    await h.scheduler.onIdle();
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs.every((r) => r.status === 'ABORTED')).toBe(true);
    expect([...finished].sort()).toEqual(runs.map((r) => r.id).sort());
  });

  it('waitForJob rejects with NotFoundError when the job is deleted meanwhile; waitForRun of an unknown run too', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'at', at: '2027-01-01T00:00:00Z' } }));
    const waited = h.scheduler.waitForJob(job.id).then(() => 'resolved', (e: unknown) => e);
    await h.scheduler.deleteJob(job.id);
    const err = await waited;
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(h.scheduler.waitForRun('no-such-run')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('waitForJob / waitForRun on a scheduler never started, or stopped, fail with a typed error; pending waits reject on stop', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const root = tempDir();
    const storage = new MemoryStorage({ clock });
    const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs'), clock });
    const scheduler = new JobScheduler({ storage, snapshots: new SnapshotStore({ root: path.join(root, 'snaps'), clock }), executor, clock });
    await storage.init();
    const job = await scheduler.createJob(spec(makeProject(), { schedule: { type: 'at', at: '2027-01-01T00:00:00Z' } }));
    await expect(scheduler.waitForJob(job.id)).rejects.toBeInstanceOf(JobStateError);
    await expect(scheduler.waitForJob(job.id)).rejects.toMatchObject({ code: 'SCHEDULER_NOT_STARTED' });
    await expect(scheduler.waitForRun('x')).rejects.toMatchObject({ code: 'SCHEDULER_NOT_STARTED' });
    await scheduler.start();
    const waited = scheduler.waitForJob(job.id).then(() => 'resolved', (e: unknown) => e);
    await scheduler.stop();
    expect(await waited).toMatchObject({ code: 'SCHEDULER_STOPPED' });
    await expect(scheduler.waitForJob(job.id)).rejects.toMatchObject({ code: 'SCHEDULER_STOPPED' });
  });
});

describe('waiting across processes (two schedulers on one SQLite file)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a scheduler that did not run the job sees its run and the job end', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pj-wait-'));
    const hold = gate();
    let started = 0;
    const storage = new SqliteStorage({ path: path.join(dir, 'jobs.sqlite') });
    const h = await harness({ storage, scheduler: { concurrency: 1 }, functions: { a: async () => { started++; await hold.promise; } } });
    const job = await h.scheduler.createJob(spec(makeProject()));
    await until(() => started === 1, 'the run to start in the first scheduler');
    const other = new SqliteStorage({ path: path.join(dir, 'jobs.sqlite') });
    const second = await h.restart({ storage: other });
    const [run] = (await second.listRuns(job.id)).items;
    const events: string[] = [];
    second.on('run:finished', () => events.push('run:finished'));
    const runDone = second.waitForRun(run!.id);
    const jobDone = second.waitForJob(job.id);
    hold.open();
    await h.scheduler.onIdle();
    await until(async () => (await h.scheduler.getJob(job.id))!.status === 'SUCCESS', 'the job to end in the first scheduler');
    await h.clock.advance(5_000); // the second scheduler's poll
    expect((await runDone).status).toBe('SUCCESS');
    expect((await jobDone).status).toBe('SUCCESS');
    expect(events).toEqual([]); // events stay where the end happened
    expect(started).toBe(1);
    await second.stop();
    await other.close();
  });
});

const url = await findTestDatabase();
const schemas: string[] = [];
afterAll(async () => {
  if (url) await dropSchemas(url, schemas);
});

describe.skipIf(!url)('waiting across processes (two schedulers on one PostgreSQL schema)', () => {
  it('a scheduler that did not run the job sees its run and the job end (notification, no clock advance)', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const hold = gate();
    let started = 0;
    const storage = new PostgresStorage({ connectionString: url!, schema, poolSize: 2 });
    const h = await harness({ storage, scheduler: { concurrency: 1 }, functions: { a: async () => { started++; await hold.promise; } } });
    const job = await h.scheduler.createJob(spec(makeProject()));
    await until(() => started === 1, 'the run to start in the first scheduler');
    const other = new PostgresStorage({ connectionString: url!, schema, poolSize: 2 });
    const second = await h.restart({ storage: other });
    const [run] = (await second.listRuns(job.id)).items;
    const runDone = second.waitForRun(run!.id);
    const jobDone = second.waitForJob(job.id);
    hold.open();
    expect((await runDone).status).toBe('SUCCESS');
    expect((await jobDone).status).toBe('SUCCESS');
    expect(started).toBe(1);
    await second.stop();
    await h.scheduler.stop();
    await other.close();
    await storage.close();
  });
});
