import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { resolveJob, resolveRun, resolveStep } from '../../src/cli/resolve.js';
import { harness, makeProject } from '../scheduler/harness.js';

/** Names and ids as a user types them: exact ids, unique prefixes, names; ambiguity refused. */
describe('CLI references', () => {
  it('resolves jobs by id, unique id prefix or name, and refuses ambiguity', async () => {
    const h = await harness();
    const project = makeProject({ steps: { extract: [], load: ['extract'] } });
    const a = await h.scheduler.createJob({ name: 'alpha', projectDir: project, pipeline: 'main.orchest', draft: true });
    const b = await h.scheduler.createJob({ name: 'beta', projectDir: project, pipeline: 'main.orchest', draft: true });
    await h.scheduler.createJob({ name: 'beta', projectDir: project, pipeline: 'main.orchest', draft: true });
    expect((await resolveJob(h.scheduler, a.id)).id).toBe(a.id);
    expect((await resolveJob(h.scheduler, 'alpha')).id).toBe(a.id);
    // The shortest prefix of b's id that no other job's id starts with.
    const ids = (await h.scheduler.listJobs()).items.map((j) => j.id).filter((id) => id !== b.id);
    let n = 1;
    while (ids.some((id) => id.startsWith(b.id.slice(0, n)))) n += 1;
    expect((await resolveJob(h.scheduler, b.id.slice(0, n))).id).toBe(b.id);
    await expect(resolveJob(h.scheduler, 'beta')).rejects.toThrow(/matches 2 jobs/);
    await expect(resolveJob(h.scheduler, '')).rejects.toThrow(/matches 3 jobs/);
    await expect(resolveJob(h.scheduler, 'gamma')).rejects.toBeInstanceOf(UsageError);
  });

  it('resolves runs by unique id prefix across jobs, and steps by title or uuid', async () => {
    const h = await harness({ functions: { extract: () => undefined, load: () => undefined } });
    const job = await h.scheduler.createJob({ name: 'j', projectDir: makeProject({ steps: { extract: [], load: ['extract'] } }), pipeline: 'main.orchest' });
    await h.scheduler.waitForJob(job.id);
    const run = (await h.scheduler.listRuns(job.id)).items[0]!;
    expect((await resolveRun(h.scheduler, run.id.slice(0, 6))).id).toBe(run.id);
    expect((await resolveRun(h.scheduler, run.id)).steps).toHaveLength(2);
    await expect(resolveRun(h.scheduler, 'zz')).rejects.toThrow(/No run "zz"/);
    expect(resolveStep(job.pipeline, 'load').uuid).toBe('load');
    expect(resolveStep(job.pipeline, 'ext').uuid).toBe('extract');
    expect(() => resolveStep(job.pipeline, 'nope')).toThrow(/steps: extract, load/);
  });
});
