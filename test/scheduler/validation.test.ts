import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineJobsError } from '../../src/errors.js';
import { harness, makeProject } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });

describe('what would make every run fail is refused at createJob / updateJob, leaving nothing behind', () => {
  const cases: Array<[string, object, string, string]> = [
    ['reserved ORCHEST_ name in job env', { env: { job: { ORCHEST_PROJECT_UUID: 'x' } } }, 'RUN_RESERVED_ENV', 'env.job.ORCHEST_PROJECT_UUID'],
    ['reserved PIPELINE_JOBS_ name in project env', { env: { project: { PIPELINE_JOBS_RUN_ID: 'x' } } }, 'RUN_RESERVED_ENV', 'env.project.PIPELINE_JOBS_RUN_ID'],
    ['reserved name in pipeline env', { env: { pipeline: { ORCHEST_STEP_UUID: 'x' } } }, 'RUN_RESERVED_ENV', 'env.pipeline.ORCHEST_STEP_UUID'],
    ['output glob with ..', { options: { outputs: ['../secrets/*'] } }, 'OPTIONS_INVALID', 'options.outputs[0]'],
    ['absolute output glob', { options: { outputs: ['/etc/*'] } }, 'OPTIONS_INVALID', 'options.outputs[0]'],
    ['maxParallelism 0', { options: { maxParallelism: 0 } }, 'OPTIONS_INVALID', 'options.maxParallelism'],
  ];
  it.each(cases)('%s', async (_name, extra, code, at) => {
    const h = await harness();
    const err = await h.scheduler.createJob(spec(makeProject(), extra)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineJobsError);
    expect(err).toMatchObject({ code, path: at });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
    expect(await h.snapshots.list()).toEqual([]);
  });

  it('a step whose file is not in the snapshot', async () => {
    const h = await harness();
    const projectDir = makeProject({ steps: { a: [], b: ['a'] } });
    const doc = JSON.parse((await import('node:fs')).readFileSync(path.join(projectDir, 'main.orchest'), 'utf8'));
    doc.steps.b.file_path = 'missing.py';
    writeFileSync(path.join(projectDir, 'main.orchest'), JSON.stringify(doc));
    await expect(h.scheduler.createJob(spec(projectDir))).rejects.toMatchObject({ code: 'JOB_STEP_FILE_NOT_FOUND', path: 'steps.b.file_path' });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
    expect(await h.snapshots.list()).toEqual([]);
  });

  it('updateJob refuses a reserved env name and changes nothing', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(spec(makeProject(), { draft: true, env: { job: { A: '1' } } }));
    const before = await h.storage.getJob(job.id);
    await expect(h.scheduler.updateJob(job.id, { env: { PIPELINE_JOBS_STEP_ID: 'x' } })).rejects.toMatchObject({ code: 'RUN_RESERVED_ENV' });
    expect(await h.storage.getJob(job.id)).toEqual(before);
  });
});
