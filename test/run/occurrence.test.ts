import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLogStore, ProcessStepExecutor, RunExecutor, RunStatus, type RunOccurrence } from '../../src/run/index.js';
import { defaults, fnRequest, fnSetup, makeProject, pipeline, tempDir } from './helpers.js';

const OCCURRENCE: RunOccurrence = { scheduledAt: Date.parse('2026-03-29T00:30:00Z'), timezone: 'Europe/Berlin', trigger: 'catch-up', batchIndex: 3, runIndex: 17 };

describe('what a step knows of its occurrence', () => {
  it('a process step sees the scheduled instant (ISO 8601 UTC), zone, trigger, batch and run index as variables', async () => {
    const project = await makeProject({ 'show.mjs': "console.log('SEEN ' + JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PIPELINE_JOBS_') && !k.includes('PARAM') && !k.includes('TOKEN')))));\n" });
    const p = pipeline({ steps: [{ uuid: 's', file_path: 'show.mjs' }] });
    const logStore = new MemoryLogStore();
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore, workRoot: await tempDir() });
    const result = await executor.execute({ runId: 'r', jobId: 'j', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project }, occurrence: OCCURRENCE });
    expect(result.status).toBe(RunStatus.SUCCESS);
    const line = (await logStore.read({ runId: 'r', stepId: 's' }))!.split('\n').find((l) => l.startsWith('SEEN '))!;
    expect(JSON.parse(line.slice(5))).toEqual({
      PIPELINE_JOBS_JOB_ID: 'j',
      PIPELINE_JOBS_RUN_ID: 'r',
      PIPELINE_JOBS_RUN_ATTEMPT: '1',
      PIPELINE_JOBS_STEP_ID: 's',
      PIPELINE_JOBS_SCHEDULED_AT: '2026-03-29T00:30:00.000Z',
      PIPELINE_JOBS_SCHEDULE_TZ: 'Europe/Berlin',
      PIPELINE_JOBS_TRIGGER: 'catch-up',
      PIPELINE_JOBS_BATCH_INDEX: '3',
      PIPELINE_JOBS_RUN_INDEX: '17',
    });
  });

  it('a function step gets it in its context; a run without one sets none of the variables', async () => {
    const seen: unknown[] = [];
    const { executor, project } = await fnSetup({ a: (c) => void seen.push([c.occurrence, c.env.PIPELINE_JOBS_TRIGGER]) });
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    await executor.execute(fnRequest(p, project, { occurrence: OCCURRENCE }));
    await executor.execute(fnRequest(p, project, { runId: 'run-2' }));
    expect(seen).toEqual([[OCCURRENCE, 'catch-up'], [undefined, undefined]]);
  });

  it.each<[string, Partial<RunOccurrence>, string]>([
    ['a trigger that is not one', { trigger: 'cron' as never }, 'occurrence.trigger'],
    ['a negative run index', { runIndex: -1 }, 'occurrence.runIndex'],
    ['an instant that is not ms', { scheduledAt: 1.5 }, 'occurrence.scheduledAt'],
    ['an empty zone', { timezone: '' }, 'occurrence.timezone'],
  ])('refuses %s with RUN_INVALID_REQUEST before anything is created', async (_, bad, at) => {
    const { executor, project, workRoot } = await fnSetup({ a: () => undefined });
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    const err = await executor.execute(fnRequest(p, project, { occurrence: { ...OCCURRENCE, ...bad } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ExecutionError', code: 'RUN_INVALID_REQUEST', path: at });
    expect(existsSync(path.join(workRoot, 'work'))).toBe(false);
  });
});

describe('a run without a source', () => {
  it('makes no working copy; a step naming a file fails with STEP_NO_WORKING_COPY, function steps run', async () => {
    const { executor, workRoot } = await fnSetup({ fn: () => undefined, file: () => undefined });
    const p = pipeline({ steps: [{ uuid: 'fn' }, { uuid: 'file', file_path: 'x.py' }] });
    const { source: _, ...request } = fnRequest(p, '/nonexistent', { options: { failurePolicy: 'continue' } });
    const result = await executor.execute(request);
    expect(result.steps.fn!.status).toBe('SUCCESS');
    expect(result.steps.file).toMatchObject({ status: 'FAILURE', error: { code: 'STEP_NO_WORKING_COPY', path: 'steps.file.file_path' } });
    expect(result.workingCopy).toBeUndefined();
    expect(existsSync(workRoot) ? (await import('node:fs')).readdirSync(workRoot) : []).toEqual([]);
  });
});
