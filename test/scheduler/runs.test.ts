import { describe, expect, it } from 'vitest';
import { JobStateError, NotFoundError, OptionsError, ParameterError, PipelineJobsError, ScheduleError } from '../../src/errors.js';
import { JobStatus } from '../../src/status.js';
import { gate, harness, makeProject, until } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });

describe('cancelling', () => {
  it('cancel during a run: running steps and the run become ABORTED, pending runs too, the job ABORTED', async () => {
    const hold = gate();
    const h = await harness({
      scheduler: { concurrency: 1 },
      functions: {
        a: async ({ signal }) => {
          await Promise.race([hold.promise, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))]);
        },
        b: () => undefined,
      },
    });
    const projectDir = makeProject({ steps: { a: [], b: ['a'] }, pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2, 3]}}' });
    const job = await h.scheduler.createJob(spec(projectDir));
    await until(async () => (await h.scheduler.getJob(job.id))!.counters.STARTED === 1, 'a run to start');
    await h.scheduler.cancelJob(job.id);
    const done = await h.scheduler.waitForJob(job.id);
    expect(done.status).toBe(JobStatus.ABORTED);
    expect(done.finishedAt).not.toBeNull();
    await h.scheduler.onIdle();
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs.map((r) => r.status)).toEqual(['ABORTED', 'ABORTED', 'ABORTED']);
    const first = (await h.scheduler.getRun(runs[0]!.id))!;
    expect(first.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['a', 'ABORTED'],
      ['b', 'ABORTED'],
    ]);
    expect((await h.scheduler.getJob(job.id))!.counters).toMatchObject({ ABORTED: 3, PENDING: 0, STARTED: 0 });
    hold.open();
  });

  it('a one-off job whose every run was cancelled ends ABORTED; with one success it ends SUCCESS', async () => {
    const hold = gate();
    const h = await harness({
      scheduler: { concurrency: 1 },
      functions: { a: async ({ pipelineParameters, signal }) => { if (pipelineParameters.x === 2) await Promise.race([hold.promise, new Promise((_, r) => signal.addEventListener('abort', () => r(signal.reason)))]); } },
    });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2]}}' });
    const job = await h.scheduler.createJob(spec(projectDir));
    await until(async () => (await h.scheduler.getJob(job.id))!.counters.SUCCESS === 1 && (await h.scheduler.getJob(job.id))!.counters.STARTED === 1, 'run 0 done, run 1 going');
    const [, second] = (await h.scheduler.listRuns(job.id)).items;
    await h.scheduler.cancelRun(second!.id);
    expect((await h.scheduler.waitForRun(second!.id)).status).toBe('ABORTED');
    expect((await h.scheduler.waitForJob(job.id)).status).toBe(JobStatus.SUCCESS);
    hold.open();
  });

  it('end states never change under concurrent actions', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'cron', cron: '* * * * *' } }));
    const results = await Promise.allSettled([
      h.scheduler.cancelJob(job.id),
      h.scheduler.cancelJob(job.id),
      h.scheduler.pauseJob(job.id),
      h.scheduler.resumeJob(job.id),
      h.scheduler.updateJob(job.id, { name: 'x' }),
      h.scheduler.triggerJob(job.id),
    ]);
    const final = (await h.scheduler.getJob(job.id))!;
    expect(final.status).toBe(JobStatus.ABORTED);
    expect(results.filter((r) => r.status === 'fulfilled' && (r.value as { status?: string }).status === 'ABORTED').length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(JobStateError);
    await h.clock.advance(5 * 60_000);
    await h.scheduler.onIdle();
    expect((await h.scheduler.getJob(job.id))!.status).toBe(JobStatus.ABORTED);
  });
});

describe('retention', () => {
  it.each([
    [0, 0],
    [1, 1],
    [3, 3],
  ])('maxRetainedRuns %i keeps the %i most recent finished runs and deletes their logs', async (keep, left) => {
    const h = await harness({ scheduler: { concurrency: 1 }, functions: { a: ({ log }) => log('hello') } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2, 3, 4, 5]}}' });
    const job = await h.scheduler.createJob(spec(projectDir, { options: { maxRetainedRuns: keep } }));
    const done = await h.scheduler.waitForJob(job.id);
    await h.scheduler.onIdle();
    expect(done.counters.SUCCESS).toBe(5);
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs).toHaveLength(left);
    expect(runs.map((r) => r.gridIndex)).toEqual([0, 1, 2, 3, 4].slice(5 - left));
    for (const r of runs) expect(await h.logs.read({ runId: r.id, stepId: 'a' })).toContain('hello');
  });

  it('a retention change on a running job applies at once and never deletes unfinished runs', async () => {
    const hold = gate();
    const h = await harness({ scheduler: { concurrency: 1 }, functions: { a: async ({ pipelineParameters }) => { if (pipelineParameters.x === 4) await hold.promise; } } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2, 3, 4, 5]}}' });
    const job = await h.scheduler.createJob(spec(projectDir));
    await until(async () => (await h.scheduler.getJob(job.id))!.counters.SUCCESS === 3, 'three runs done');
    await h.scheduler.updateJob(job.id, { maxRetainedRuns: 1 });
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs.map((r) => [r.gridIndex, r.status])).toEqual([
      [2, 'SUCCESS'],
      [3, 'STARTED'],
      [4, 'PENDING'],
    ]);
    hold.open();
    await h.scheduler.waitForJob(job.id);
  });
});

describe('bad input gets a typed error and changes nothing', () => {
  const cases: Array<[string, (dir: string) => object, new (...a: never[]) => PipelineJobsError, string, string]> = [
    ['bad cron', (d) => spec(d, { schedule: { type: 'cron', cron: '61 * * * *' } }), ScheduleError, 'schedule.cron', ''],
    ['4 cron fields', (d) => spec(d, { schedule: { type: 'cron', cron: '* * * *' } }), ScheduleError, 'schedule.cron', ''],
    ['unknown time zone', (d) => spec(d, { schedule: { type: 'cron', cron: '* * * * *', timezone: 'Mars/Olympus' } }), ScheduleError, 'schedule.timezone', ''],
    ['end before start', (d) => spec(d, { schedule: { type: 'cron', cron: '* * * * *', startAt: '2027-01-02T00:00:00Z', endAt: '2027-01-01T00:00:00Z' } }), ScheduleError, 'schedule.endAt', ''],
    ['missing pipeline file', (d) => spec(d, { pipeline: 'nope.orchest' }), OptionsError, 'pipeline', 'JOB_PIPELINE_NOT_FOUND'],
    ['unknown parameter', (d) => spec(d, { parameters: { from: 'spec', spec: '{"pipeline_parameters": {"zzz": [1]}}' } }), ParameterError, '', ''],
    ['selection beyond the grid', (d) => spec(d, { selection: { indices: [5] } }), ParameterError, '', ''],
    ['bad option', (d) => spec(d, { options: { maxRetainedRuns: -1 } }), OptionsError, 'options.maxRetainedRuns', 'JOB_OPTIONS_INVALID'],
    ['no name', (d) => spec(d, { name: '' }), OptionsError, 'name', 'JOB_SPEC_INVALID'],
  ];

  it.each(cases)('%s', async (_, make, type, path, code) => {
    const h = await harness();
    const err = await h.scheduler.createJob(make(makeProject()) as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    if (path) expect((err as PipelineJobsError).path).toBe(path);
    if (code) expect((err as PipelineJobsError).code).toBe(code);
    expect((err as PipelineJobsError).message.length).toBeGreaterThan(10);
    expect((await h.scheduler.listJobs()).items).toEqual([]);
    expect(await h.snapshots.list()).toEqual([]); // the snapshot taken for it is gone again
  });

  it('unknown job and run ids', async () => {
    const h = await harness();
    for (const act of [() => h.scheduler.cancelJob('nope'), () => h.scheduler.updateJob('nope', {}), () => h.scheduler.cancelRun('nope'), () => h.scheduler.deleteRun('nope')]) {
      await expect(act()).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(await h.scheduler.getJob('nope')).toBeUndefined();
  });

  it('an update the table forbids in this state changes nothing', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'at', at: h.clock.now() + 60_000 } }));
    const before = await h.storage.getJob(job.id);
    await expect(h.scheduler.updateJob(job.id, { selection: 'all', name: 'x' })).rejects.toMatchObject({ code: 'JOB_FIELD_NOT_UPDATABLE', path: 'selection' });
    expect(await h.storage.getJob(job.id)).toEqual(before);
  });
});

describe('listing', () => {
  it('lists jobs of a project by status, with run counts', async () => {
    const h = await harness();
    const a = await h.scheduler.createJob(spec(makeProject(), { projectId: 'p1' }));
    await h.scheduler.createJob(spec(makeProject(), { projectId: 'p2' }));
    await h.scheduler.createJob(spec(makeProject(), { projectId: 'p1', draft: true }));
    await h.scheduler.waitForJob(a.id);
    const p1 = (await h.scheduler.listJobs({ projectId: 'p1' })).items;
    expect(p1).toHaveLength(2);
    const done = (await h.scheduler.listJobs({ projectId: 'p1', status: [JobStatus.SUCCESS] })).items;
    expect(done.map((j) => [j.id, j.counters.SUCCESS])).toEqual([[a.id, 1]]);
  });

  it('pages runs with a cursor, filtered by status and batch', async () => {
    const h = await harness();
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: `{"pipeline_parameters": {"x": [${Array.from({ length: 25 }, (_, i) => i).join(',')}]}}` });
    const job = await h.scheduler.createJob(spec(projectDir));
    await h.scheduler.waitForJob(job.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await h.scheduler.listRuns(job.id, { limit: 10, cursor, status: ['SUCCESS'], batchIndex: 0 });
      seen.push(...page.items.map((r) => r.runIndex));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});
