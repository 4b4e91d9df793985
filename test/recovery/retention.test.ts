/**
 * Retention and deletes remove a run's files with the run: artifacts (declared outputs,
 * executed notebooks), kept working copies, and logs unless kept.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/errors.js';
import type { JobOptions, JobSpec } from '../../src/scheduler/types.js';
import { gate, harness, makeProject, until } from '../scheduler/harness.js';
import type { Harness } from '../scheduler/harness.js';

/** Five runs that keep an output and their working copy. `options` may be bad input on purpose. */
const spec = (projectDir: string, options: object): JobSpec => ({
  name: 'job', projectDir, pipeline: 'main.orchest',
  parameters: { from: 'spec', spec: '{"pipeline_parameters": {"x": [1, 2, 3, 4, 5]}}' },
  options: { outputs: ['data/out.txt'], keepWorkingCopy: 'always', ...options } as JobOptions,
});

/** Writes a declared output and a log line, as a notebook step would keep its executed copy. */
const writeOutput = { a: ({ workDir, log }: { workDir: string; log: (s: string) => void }) => {
  writeFileSync(path.join(workDir, 'data', 'out.txt'), 'out');
  log('hello');
} };

/** Where the harness's executor keeps working copies and artifacts (learnt from its events). */
const roots = new WeakMap<Harness, { work?: string; artifacts?: string }>();
function watchRoots(h: Harness): Harness {
  const r: { work?: string; artifacts?: string } = {};
  roots.set(h, r);
  h.executor.on('run:started', (e) => (r.work = path.dirname(e.workingCopy)));
  h.executor.on('run:finished', (e) => (r.artifacts = path.dirname(e.result.artifactsDir)));
  return h;
}

function folders(h: Harness, kind: 'work' | 'artifacts'): string[] {
  const root = roots.get(h)?.[kind];
  if (root === undefined) throw new Error(`no run told where its ${kind} folder is`);
  return existsSync(root) ? readdirSync(root).sort() : [];
}

async function logOf(h: Harness, runId: string): Promise<string | undefined> {
  return h.logs.read({ runId, stepId: 'a' }).catch(() => undefined);
}

describe('retention and deletes remove a run\'s files with it', () => {
  it('maxRetainedRuns: older runs lose their artifacts, kept working copies and logs', async () => {
    const h = watchRoots(await harness({ scheduler: { concurrency: 1 }, functions: writeOutput as never }));
    const job = await h.scheduler.createJob(spec(makeProject({ pipelineParameters: { x: 0 } }), { maxRetainedRuns: 1 }));
    await h.scheduler.waitForJob(job.id);
    await h.scheduler.onIdle();
    const runs = (await h.scheduler.listRuns(job.id)).items;
    expect(runs).toHaveLength(1);
    const kept = encodeURIComponent(runs[0]!.id);
    expect(folders(h, 'artifacts')).toEqual([kept]);
    expect(folders(h, 'work')).toEqual([kept]);
    expect(await logOf(h, runs[0]!.id)).toContain('hello');
    expect(new Set(h.logs.keys().map((k) => k.runId))).toEqual(new Set([runs[0]!.id]));
  });

  it('keepLogs: retention keeps the logs of the runs it deletes, not their files', async () => {
    const h = watchRoots(await harness({ scheduler: { concurrency: 1 }, functions: writeOutput as never }));
    const seen: string[] = [];
    h.scheduler.on('run:finished', (e) => seen.push(e.runId));
    const job = await h.scheduler.createJob(spec(makeProject({ pipelineParameters: { x: 0 } }), { maxRetainedRuns: 1, keepLogs: true }));
    await h.scheduler.waitForJob(job.id);
    await h.scheduler.onIdle();
    expect(seen).toHaveLength(5);
    for (const id of seen) expect(await logOf(h, id)).toContain('hello');
    expect(folders(h, 'artifacts')).toHaveLength(1);
    expect(folders(h, 'work')).toHaveLength(1);
  });

  it('deleteRun and deleteJob remove artifacts, working copies and logs (logs optionally kept)', async () => {
    const h = watchRoots(await harness({ scheduler: { concurrency: 1 }, functions: writeOutput as never }));
    const job = await h.scheduler.createJob(spec(makeProject({ pipelineParameters: { x: 0 } }), {}));
    await h.scheduler.waitForJob(job.id);
    await h.scheduler.onIdle();
    const [first, second, ...rest] = (await h.scheduler.listRuns(job.id)).items;
    expect(folders(h, 'artifacts')).toHaveLength(5);
    await h.scheduler.deleteRun(first!.id);
    await h.scheduler.deleteRun(second!.id, { keepLogs: true });
    expect(folders(h, 'artifacts')).toHaveLength(3);
    expect(folders(h, 'work')).toHaveLength(3);
    expect(await logOf(h, first!.id)).toBeUndefined();
    expect(await logOf(h, second!.id)).toContain('hello');
    await h.scheduler.deleteJob(job.id);
    expect(folders(h, 'artifacts')).toEqual([]);
    expect(folders(h, 'work')).toEqual([]);
    for (const r of rest) expect(await logOf(h, r.id)).toBeUndefined();
  });

  it('a job whose run is still stopping cannot be deleted yet; once it stopped, the delete leaves nothing that comes back', async () => {
    const hold = gate();
    const h = watchRoots(await harness({
      functions: {
        a: async ({ signal, log }: { signal: AbortSignal; log: (s: string) => void }) => {
          log('started');
          await hold.promise;
          // Ignores the cancel for a moment, as a step cleaning up would, then writes more.
          log(`still writing, aborted=${signal.aborted}`);
        },
      } as never,
    }));
    const job = await h.scheduler.createJob({ name: 'job', projectDir: makeProject(), pipeline: 'main.orchest', options: { keepWorkingCopy: 'always' } });
    const [run] = (await h.scheduler.listRuns(job.id)).items;
    await until(async () => (await logOf(h, run!.id))?.includes('started') === true, 'the step runs');
    await h.scheduler.cancelJob(job.id);
    await expect(h.scheduler.deleteJob(job.id)).rejects.toMatchObject({ code: 'JOB_RUNS_STOPPING' });
    hold.open();
    await h.scheduler.waitForRun(run!.id);
    await h.scheduler.deleteJob(job.id);
    await h.scheduler.onIdle();
    expect(await logOf(h, run!.id)).toBeUndefined();
    expect(folders(h, 'work')).toEqual([]);
    expect(folders(h, 'artifacts')).toEqual([]);
  });

  it('refuses a keepLogs that is not a boolean', async () => {
    const h = watchRoots(await harness());
    const err = await h.scheduler.createJob(spec(makeProject({ pipelineParameters: { x: 0 } }), { keepLogs: 'yes' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect(err).toMatchObject({ code: 'JOB_OPTIONS_INVALID', path: 'options.keepLogs', value: 'yes' });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
  });
});
