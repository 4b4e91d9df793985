import { describe, expect, it } from 'vitest';
import { JobStatus } from '../../src/status.js';
import { harness, makeProject } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });

describe('one-off jobs', () => {
  it('now: runs every combination of the grid once, in grid order, and ends SUCCESS', async () => {
    const seen: string[] = [];
    const h = await harness({ functions: { a: ({ pipelineParameters, parameters }) => void seen.push(`${pipelineParameters.x}/${parameters.y}`) } });
    const projectDir = makeProject({
      pipelineParameters: { x: 0 },
      stepParameters: { a: { y: 'd' } },
      parametersFile: '{"pipeline_parameters": {"x": [1, 2]}, "a": {"y": ["p", "q", "r"]}}',
    });
    const job = await h.scheduler.createJob(spec(projectDir));
    expect(job.gridSize).toBe(6);
    const done = await h.scheduler.waitForJob(job.id);
    expect(done.status).toBe(JobStatus.SUCCESS);
    expect(done.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 6, FAILURE: 0, ABORTED: 0 });
    expect(done.finishedAt).not.toBeNull();
    expect(seen.sort()).toEqual(['1/p', '1/q', '1/r', '2/p', '2/q', '2/r']);
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs.map((r) => [r.runIndex, r.gridIndex, r.indexInBatch, r.batchIndex])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, i, i, 0]));
    expect(runs[4]!.parameters).toEqual({ pipeline: { x: 2 }, steps: { a: { y: 'q' } } });
  });

  it('a selection runs only the chosen combinations, in grid order', async () => {
    const seen: number[] = [];
    const h = await harness({ functions: { a: ({ pipelineParameters }) => void seen.push(pipelineParameters.x as number) } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [10, 20, 30, 40]}}' });
    const job = await h.scheduler.createJob(spec(projectDir, { selection: { indices: [3, 1] } }));
    expect(job.selectedRuns).toBe(2);
    await h.scheduler.waitForJob(job.id);
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs.map((r) => r.gridIndex)).toEqual([1, 3]);
    expect(seen.sort()).toEqual([20, 40]);
  });

  it('at: PENDING until its time, then runs', async () => {
    let ran = 0;
    const h = await harness({ functions: { a: () => void ran++ } });
    const at = h.clock.now() + 3_600_000;
    const job = await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'at', at } }));
    expect(job.status).toBe(JobStatus.PENDING);
    await h.clock.advance(3_599_000);
    expect((await h.scheduler.getJob(job.id))!.status).toBe(JobStatus.PENDING);
    expect(ran).toBe(0);
    await h.clock.advance(1_000);
    expect((await h.scheduler.waitForJob(job.id)).status).toBe(JobStatus.SUCCESS);
    expect(ran).toBe(1);
    const [started] = (await h.scheduler.listOccurrences(job.id)).items;
    expect(started).toMatchObject({ action: 'started', at, batchIndex: 0 });
  });

  it('at in the past: runs at once', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'at', at: h.clock.now() - 86_400_000 } }));
    expect((await h.scheduler.waitForJob(job.id)).status).toBe(JobStatus.SUCCESS);
  });

  it('end status comes from the counters: FAILURE if any run failed, even after retention deleted it', async () => {
    const h = await harness({ functions: { a: ({ pipelineParameters }) => { if (pipelineParameters.x === 1) throw new Error('bad row'); } } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2, 3]}}' });
    const job = await h.scheduler.createJob(spec(projectDir, { options: { maxRetainedRuns: 0 } }));
    const done = await h.scheduler.waitForJob(job.id);
    expect(done.status).toBe(JobStatus.FAILURE);
    expect(done.counters.FAILURE).toBe(1);
    expect((await h.scheduler.listRuns(job.id)).items).toEqual([]); // retention 0 kept none
  });

  it('a draft runs nothing until confirmed; now means the moment of confirmation', async () => {
    let ran = 0;
    const h = await harness({ functions: { a: () => void ran++ } });
    const job = await h.scheduler.createJob(spec(makeProject(), { draft: true }));
    expect(job.status).toBe(JobStatus.DRAFT);
    await h.clock.advance(60_000);
    expect(ran).toBe(0);
    const confirmedAt = h.clock.now();
    await h.scheduler.confirmJob(job.id);
    expect((await h.scheduler.waitForJob(job.id)).status).toBe(JobStatus.SUCCESS);
    expect((await h.scheduler.listOccurrences(job.id)).items[0]!.at).toBe(confirmedAt);
  });

  it('trigger now on a PENDING job adds a batch and keeps the schedule', async () => {
    let ran = 0;
    const h = await harness({ functions: { a: () => void ran++ } });
    const at = h.clock.now() + 60_000;
    const job = await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'at', at } }));
    const extra = await h.scheduler.triggerJob(job.id);
    expect(extra).toEqual({ batchIndex: 0, runCount: 1 });
    await h.scheduler.onIdle();
    expect(ran).toBe(1);
    expect((await h.scheduler.getJob(job.id))!.status).toBe(JobStatus.PENDING);
    await h.clock.advance(60_000);
    const done = await h.scheduler.waitForJob(job.id);
    expect(done.status).toBe(JobStatus.SUCCESS);
    expect(done.batchCount).toBe(2);
    expect(ran).toBe(2);
  });
});
