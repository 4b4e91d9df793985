import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelineError } from '../../src/errors.js';
import { definePipeline } from '../../src/pipeline/index.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor, type FunctionStepContext, type StepFunction } from '../../src/run/index.js';
import { JobScheduler, type JobSpec } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import type { Storage } from '../../src/storage/port.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { gate } from './harness.js';

const MIN = 60_000;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every file and folder under `dir`, relative (folders end in `/`). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        walk(path.join(d, e.name), r);
      } else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** A scheduler whose every store lives under one temporary root, so the test sees what touched the disk. */
async function setup(functions: Record<string, StepFunction>, options: { storage?: (clock: FakeClock) => Storage; start?: string } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'pj-codejobs-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const clock = new FakeClock(options.start ?? '2026-03-01T00:00:00Z');
  const logs = new MemoryLogStore();
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions }), logStore: logs, workRoot: path.join(root, 'runs'), clock });
  const snapshots = new SnapshotStore({ root: path.join(root, 'snapshots'), clock });
  const storage = options.storage?.(clock) ?? new MemoryStorage({ clock });
  const scheduler = new JobScheduler({ storage, snapshots, executor, clock, concurrency: 4 });
  await scheduler.start();
  cleanups.push(() => scheduler.stop({ mode: 'cancel' }));
  return { root, clock, logs, executor, snapshots, storage, scheduler };
}

const pipeline = definePipeline({
  name: 'etl',
  parameters: { day: 'today' },
  steps: [
    { uuid: 'extract', parameters: { rows: 10 } },
    { uuid: 'load', incoming_connections: ['extract'], parameters: { mode: 'append' } },
  ],
});

describe('jobs defined in code, without a project directory', () => {
  it('run function steps with no snapshot, no working copy and nothing written to disk', async () => {
    const seen: FunctionStepContext[] = [];
    const s = await setup({ extract: (c) => void seen.push(c), load: (c) => void seen.push(c) });
    const before = tree(s.root);
    const job = await s.scheduler.createJob({ name: 'in code', pipeline });
    expect(job.snapshotId).toBeNull();
    const done = await s.scheduler.waitForJob(job.id);
    expect(done.status).toBe('SUCCESS');
    expect(seen.map((c) => [c.step.uuid, c.parameters, c.pipelineParameters])).toEqual([
      ['extract', { rows: 10 }, { day: 'today' }],
      ['load', { mode: 'append' }, { day: 'today' }],
    ]);
    // No working copy: the step is told so, and no variable points at a pipeline file.
    expect(seen[0]).toMatchObject({ workDir: '', cwd: '' });
    expect(seen[0]!.env.ORCHEST_PIPELINE_PATH).toBeUndefined();
    expect(tree(s.root)).toEqual(before);
    expect(await s.snapshots.list()).toEqual([]);
  });

  it('accept the definition itself, and function steps beside a project directory', async () => {
    const s = await setup({ only: () => undefined });
    const job = await s.scheduler.createJob({ name: 'definition', pipeline: { name: 'tiny', steps: [{ uuid: 'only' }] } });
    expect((await s.scheduler.waitForJob(job.id)).status).toBe('SUCCESS');
    expect(job.pipeline).toMatchObject({ name: 'tiny', path: '', steps: [{ uuid: 'only', file_path: '' }] });
    // With a project: a snapshot is taken and each run gets a working copy, as for a file.
    const projectDir = path.join(s.root, 'project');
    mkdirSync(projectDir);
    const withProject = await s.scheduler.createJob({ name: 'with project', projectDir, pipeline: { name: 'tiny', steps: [{ uuid: 'only' }] } });
    expect(withProject.snapshotId).not.toBeNull();
    expect((await s.scheduler.waitForJob(withProject.id)).status).toBe('SUCCESS');
  });

  it('run a 2x2 grid over a function step, from the spec', async () => {
    const seen: unknown[] = [];
    const s = await setup({ extract: (c) => void seen.push(c.parameters), load: () => undefined });
    const job = await s.scheduler.createJob({
      name: 'grid',
      pipeline,
      parameters: { from: 'spec', spec: { extract: { rows: [1, 2] }, load: { mode: ['append', 'replace'] } } },
    });
    expect(job.gridSize).toBe(4);
    expect((await s.scheduler.waitForJob(job.id)).counters.SUCCESS).toBe(4);
    expect(seen).toHaveLength(4);
    expect(seen).toEqual(expect.arrayContaining([{ rows: 1 }, { rows: 2 }]));
    const runs = (await s.scheduler.listRuns(job.id)).items;
    expect(runs.map((r) => r.parameters.steps.load)).toEqual(expect.arrayContaining([{ mode: 'append' }, { mode: 'replace' }]));
    // A selection works the same.
    const some = await s.scheduler.createJob({ name: 'some', pipeline, parameters: { from: 'spec', spec: { extract: { rows: [1, 2] } } }, selection: { indices: [1] } });
    expect((await s.scheduler.waitForJob(some.id)).counters.SUCCESS).toBe(1);
  });

  it('fire on a cron schedule (FakeClock), keep only the retained runs, and duplicate', async () => {
    const s = await setup({ extract: () => undefined, load: () => undefined });
    const job = await s.scheduler.createJob({ name: 'cron', pipeline, schedule: { type: 'cron', cron: '*/10 * * * *' }, options: { maxRetainedRuns: 2 } });
    expect(job.status).toBe('STARTED');
    await s.clock.advance(40 * MIN);
    await s.scheduler.onIdle();
    const j = (await s.scheduler.getJob(job.id))!;
    expect(j.batchCount).toBe(4);
    expect(j.counters.SUCCESS).toBe(4);
    expect((await s.scheduler.listRuns(job.id)).items).toHaveLength(2);
    const copy = await s.scheduler.duplicateJob(job.id);
    expect(copy).toMatchObject({ status: 'DRAFT', snapshotId: null, pipeline: { name: 'etl', path: '' } });
  });

  it('cancel: a running function step is stopped and the job ends ABORTED', async () => {
    const started = gate();
    const s = await setup({
      extract: (c) => {
        started.open();
        return new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(c.signal.reason as Error), { once: true }));
      },
      load: () => undefined,
    });
    const job = await s.scheduler.createJob({ name: 'cancel me', pipeline });
    await started.promise;
    await s.scheduler.cancelJob(job.id);
    const done = await s.scheduler.waitForJob(job.id);
    expect(done.status).toBe('ABORTED');
    const run = await s.scheduler.waitForRun((await s.scheduler.listRuns(job.id)).items[0]!.id);
    expect(run).toMatchObject({ status: 'ABORTED', reason: 'cancelled' });
  });

  it.each<[string, (base: JobSpec) => JobSpec, string, string]>([
    ['a step naming a file', (b) => ({ ...b, pipeline: definePipeline({ name: 'p', steps: [{ uuid: 'f', file_path: 'f.py' }] }) }), 'JOB_NO_PROJECT', 'pipeline.steps.f.file_path'],
    ['a parameters file', (b) => ({ ...b, parameters: { from: 'file', path: 'p.json' } }), 'JOB_NO_PROJECT', 'parameters.path'],
    ['a pipeline file without a project', (b) => ({ ...b, pipeline: 'main.orchest' }), 'JOB_SPEC_INVALID', 'projectDir'],
    ['an empty projectDir', (b) => ({ ...b, projectDir: '' }), 'JOB_SPEC_INVALID', 'projectDir'],
    ['a pipeline that is neither', (b) => ({ ...b, pipeline: 42 as never }), 'JOB_SPEC_INVALID', 'pipeline'],
  ])('refuse %s with a typed error, changing nothing', async (_, make, code, at) => {
    const s = await setup({});
    const before = tree(s.root);
    const err = await s.scheduler.createJob(make({ name: 'bad', pipeline })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OptionsError', code, path: at });
    expect((await s.scheduler.listJobs()).items).toEqual([]);
    expect(tree(s.root)).toEqual(before);
  });

  it('refuse a bad definition with the PipelineError definePipeline gives', async () => {
    const s = await setup({});
    const err = await s.scheduler.createJob({ name: 'bad', pipeline: { name: 'p', steps: [{ uuid: 'a' }, { uuid: 'a' }] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toMatchObject({ code: 'PIPELINE_DUPLICATE_STEP' });
    expect((await s.scheduler.listJobs()).items).toEqual([]);
  });
});

describe('what a step knows', () => {
  /** What each step saw of its occurrence, in the context and in its variables. */
  function recorder() {
    const seen: Array<{ step: string; occurrence: FunctionStepContext['occurrence']; env: Record<string, string | undefined> }> = [];
    const fn: StepFunction = (c) => {
      const e = c.env;
      seen.push({
        step: c.step.uuid,
        occurrence: c.occurrence,
        env: {
          at: e.PIPELINE_JOBS_SCHEDULED_AT,
          tz: e.PIPELINE_JOBS_SCHEDULE_TZ,
          trigger: e.PIPELINE_JOBS_TRIGGER,
          batch: e.PIPELINE_JOBS_BATCH_INDEX,
          run: e.PIPELINE_JOBS_RUN_INDEX,
        },
      });
    };
    return { seen, fn };
  }
  const one = definePipeline({ name: 'one', steps: [{ uuid: 'only' }] });

  it('a cron occurrence: its scheduled instant (not the late start), the zone, schedule / catch-up, batch and run index', async () => {
    const r = recorder();
    const s = await setup({ only: r.fn });
    const job = await s.scheduler.createJob({
      name: 'nightly',
      pipeline: one,
      schedule: { type: 'cron', cron: '0 2 * * *', timezone: 'Europe/Berlin', lateness: 5 * MIN, missed: 'latest' },
    });
    // 02:00 Berlin is 01:00 UTC; the clock jumps past it by 3 minutes (late, within lateness).
    await s.clock.advance(64 * MIN);
    await s.scheduler.onIdle();
    // The process is away two days and half an hour: the missed occurrences are caught up
    // (the latest one, 34 minutes late).
    await s.scheduler.stop();
    await s.clock.advance(2 * 24 * 60 * MIN + 30 * MIN);
    const again = new JobScheduler({ storage: s.storage, snapshots: s.snapshots, executor: s.executor, clock: s.clock });
    cleanups.push(() => again.stop({ mode: 'cancel' }));
    await again.start();
    await again.onIdle();
    await again.triggerJob(job.id);
    const triggeredAt = s.clock.now();
    await again.onIdle();
    expect(r.seen).toEqual([
      {
        step: 'only',
        occurrence: { scheduledAt: Date.parse('2026-03-01T01:00:00Z'), timezone: 'Europe/Berlin', trigger: 'schedule', batchIndex: 0, runIndex: 0 },
        env: { at: '2026-03-01T01:00:00.000Z', tz: 'Europe/Berlin', trigger: 'schedule', batch: '0', run: '0' },
      },
      {
        step: 'only',
        occurrence: { scheduledAt: Date.parse('2026-03-03T01:00:00Z'), timezone: 'Europe/Berlin', trigger: 'catch-up', batchIndex: 1, runIndex: 1 },
        env: { at: '2026-03-03T01:00:00.000Z', tz: 'Europe/Berlin', trigger: 'catch-up', batch: '1', run: '1' },
      },
      {
        step: 'only',
        occurrence: { scheduledAt: triggeredAt, timezone: 'Europe/Berlin', trigger: 'manual', batchIndex: 2, runIndex: 2 },
        env: { at: new Date(triggeredAt).toISOString(), tz: 'Europe/Berlin', trigger: 'manual', batch: '2', run: '2' },
      },
    ]);
  });

  it('one-off schedules: now and at, in UTC; run indices count over the grid', async () => {
    const r = recorder();
    const s = await setup({ only: r.fn });
    const grid = { from: 'spec' as const, spec: { pipeline_parameters: { n: [1, 2] } } };
    const p = definePipeline({ name: 'one', parameters: { n: 0 }, steps: [{ uuid: 'only' }] });
    const now = await s.scheduler.createJob({ name: 'now', pipeline: p, parameters: grid });
    await s.scheduler.waitForJob(now.id);
    const at = await s.scheduler.createJob({ name: 'at', pipeline: p, schedule: { type: 'at', at: '2026-03-01T06:30:00Z' } });
    await s.clock.advance(7 * 60 * MIN);
    await s.scheduler.waitForJob(at.id);
    expect(r.seen.map((x) => x.env)).toEqual([
      { at: '2026-03-01T00:00:00.000Z', tz: 'UTC', trigger: 'now', batch: '0', run: expect.stringMatching(/^[01]$/) },
      { at: '2026-03-01T00:00:00.000Z', tz: 'UTC', trigger: 'now', batch: '0', run: expect.stringMatching(/^[01]$/) },
      { at: '2026-03-01T06:30:00.000Z', tz: 'UTC', trigger: 'at', batch: '0', run: '0' },
    ]);
    expect(new Set(r.seen.slice(0, 2).map((x) => x.env.run))).toEqual(new Set(['0', '1']));
  });
});

describe('a job defined in code, kept in SQLite', () => {
  it('survives a reload: its function steps are found by name in the FunctionStepExecutor of the process that runs them', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pj-codejobs-sqlite-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const file = path.join(root, 'jobs.sqlite');
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const processWith = async (functions: Record<string, StepFunction>) => {
      const storage = new SqliteStorage({ path: file, clock });
      const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs'), clock });
      const scheduler = new JobScheduler({ storage, snapshots: new SnapshotStore({ root: path.join(root, 'snapshots'), clock }), executor, clock });
      await scheduler.start();
      const close = async (): Promise<void> => {
        await scheduler.stop({ mode: 'cancel' });
        await storage.close();
      };
      cleanups.push(close);
      return { scheduler, close };
    };
    const first = await processWith({});
    const created = await first.scheduler.createJob({ name: 'kept', pipeline, draft: true, parameters: { from: 'spec', spec: { extract: { rows: [5] } } } });
    await first.close();

    // A process that lacks the functions: the steps fail with a clear typed error.
    const lacking = await processWith({});
    const reloaded = (await lacking.scheduler.getJob(created.id))!;
    expect(reloaded).toMatchObject({ snapshotId: null, gridSize: 1, pipeline: { name: 'etl', path: '', steps: [{ uuid: 'extract', file_path: '' }, { uuid: 'load' }] } });
    expect(reloaded.pipeline).toEqual(created.pipeline);
    await lacking.scheduler.confirmJob(created.id);
    expect((await lacking.scheduler.waitForJob(created.id)).status).toBe('FAILURE');
    const failed = (await lacking.scheduler.listRuns(created.id)).items[0]!;
    expect(failed.error).toMatchObject({ code: 'RUN_STEP_FAILED' });
    expect(failed.error!.message).toContain('STEP_FUNCTION_MISSING');
    await lacking.close();

    // One that has them runs the same record.
    const seen: unknown[] = [];
    const full = await processWith({ extract: (c) => void seen.push(c.parameters), load: () => undefined });
    const again = await full.scheduler.duplicateJob(created.id, { draft: false });
    expect((await full.scheduler.waitForJob(again.id)).status).toBe('SUCCESS');
    expect(seen).toEqual([{ rows: 5 }]);
  });
});

describe('a scheduler without a snapshot store', () => {
  it('runs jobs defined in code, and refuses a job with a project directory with a typed error, changing nothing', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pj-codejobs-nosnap-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { extract: () => undefined, load: () => undefined } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs'), clock });
    const scheduler = new JobScheduler({ storage: new MemoryStorage({ clock }), executor, clock });
    await scheduler.start();
    cleanups.push(() => scheduler.stop({ mode: 'cancel' }));
    const job = await scheduler.createJob({ name: 'in code', pipeline });
    expect((await scheduler.waitForJob(job.id)).status).toBe('SUCCESS');
    const err = await scheduler.createJob({ name: 'project', pipeline, projectDir: root }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OptionsError', code: 'OPTIONS_MISSING', path: 'snapshots' });
    expect((await scheduler.listJobs()).items.map((j) => j.id)).toEqual([job.id]);
    await scheduler.deleteJob(job.id);
    expect(tree(root)).toEqual([]);
  });
});
