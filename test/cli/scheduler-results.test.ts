import { describe, expect, it } from 'vitest';
import { NotFoundError, OptionsError } from '../../src/errors.js';
import { gate, harness, makeProject, until } from '../scheduler/harness.js';

/** The scheduler as the one door for reading results: logs and batches (what the CLI and dashboard read). */
describe('JobScheduler results: readLog / followLog / listBatches / getBatch', () => {
  it('follows a step log live and ends when the step ends', async () => {
    const release = gate();
    const printed = gate();
    const h = await harness({
      functions: {
        a: async (ctx) => {
          ctx.log('first');
          printed.open();
          await release.promise;
          ctx.log('second');
        },
      },
    });
    const job = await h.scheduler.createJob({ name: 'j', projectDir: makeProject(), pipeline: 'main.orchest' });
    await printed.promise;
    const run = (await h.scheduler.listRuns(job.id)).items[0]!;
    const seen: string[] = [];
    const followed = (async () => {
      for await (const chunk of h.scheduler.followLog(run.id, 'a')) {
        seen.push(chunk);
        if (chunk.includes('first')) release.open();
      }
    })();
    await followed;
    expect(seen.join('')).toContain('first\n');
    expect(seen.join('')).toContain('second\n');
    expect(await h.scheduler.readLog(run.id, 'a')).toBe(seen.join(''));
  });

  it('stops following a step that never started once its run ended (cancelled while PENDING)', async () => {
    const h = await harness({ scheduler: { concurrency: 1 } });
    const job = await h.scheduler.createJob({ name: 'j', projectDir: makeProject(), pipeline: 'main.orchest', draft: true });
    await h.scheduler.stop();
    // Confirmed on a stopped scheduler: the runs stay PENDING, then the cancel aborts them.
    await h.scheduler.confirmJob(job.id);
    const run = (await h.scheduler.listRuns(job.id)).items[0]!;
    expect(run.status).toBe('PENDING');
    const chunks: string[] = [];
    let ended = false;
    const followed = (async () => {
      for await (const c of h.scheduler.followLog(run.id, 'a', { pollMs: 100 })) chunks.push(c);
      ended = true;
    })();
    await h.scheduler.cancelJob(job.id);
    await until(async () => {
      await h.clock.advance(100);
      return ended;
    }, 'followLog to end');
    await followed;
    expect(chunks).toEqual([]);
  });

  it('rejects bad arguments with typed errors', async () => {
    const h = await harness();
    await expect(h.scheduler.readLog('nope', 'a')).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.scheduler.readLog('', 'a')).rejects.toBeInstanceOf(OptionsError);
    const iterate = async (): Promise<void> => {
      for await (const _ of h.scheduler.followLog('nope', 'a')) void _;
    };
    await expect(iterate()).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.scheduler.listBatches('nope')).rejects.toBeInstanceOf(NotFoundError);
    const job = await h.scheduler.createJob({ name: 'j', projectDir: makeProject(), pipeline: 'main.orchest', draft: true });
    await expect(h.scheduler.getBatch(job.id, -1)).rejects.toMatchObject({ code: 'OPTIONS_INVALID', path: 'batchIndex' });
    await expect(h.scheduler.listBatches(job.id, { limit: 0 })).rejects.toMatchObject({ path: 'page.limit' });
    await expect(h.scheduler.listBatches(job.id, { cursor: 'x' })).rejects.toMatchObject({ path: 'page.cursor' });
  });

  it('lists batches newest first, page by page', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob({ name: 'j', projectDir: makeProject(), pipeline: 'main.orchest', schedule: { type: 'cron', cron: '0 0 1 1 *' } });
    await h.scheduler.triggerJob(job.id);
    await h.scheduler.triggerJob(job.id);
    await h.scheduler.triggerJob(job.id);
    const first = await h.scheduler.listBatches(job.id, { limit: 2 });
    expect(first.items.map((b) => b.batchIndex)).toEqual([2, 1]);
    expect(first.items[0]).toMatchObject({ jobId: job.id, trigger: 'manual', runCount: 1 });
    const second = await h.scheduler.listBatches(job.id, { limit: 2, cursor: first.nextCursor });
    expect(second.items.map((b) => b.batchIndex)).toEqual([0]);
    expect(second.nextCursor).toBeNull();
    expect((await h.scheduler.getBatch(job.id, 1))?.batchIndex).toBe(1);
    expect(await h.scheduler.getBatch(job.id, 7)).toBeUndefined();
  });
});
