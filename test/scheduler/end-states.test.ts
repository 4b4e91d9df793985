import { describe, expect, it } from 'vitest';
import { JobStatus } from '../../src/status.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { gate, harness, makeProject } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });

/** A storage whose `insertRuns` call number `holdAt` waits for the returned gate (a batch caught mid-write). */
function holdingStorage(inner: Storage, holdAt: number): { storage: Storage; reached: Promise<void>; release: () => void } {
  const held = gate();
  const reached = gate();
  let calls = 0;
  const storage = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'insertRuns') {
        return async (...args: Parameters<Storage['insertRuns']>) => {
          if (++calls === holdAt) {
            reached.open();
            await held.promise;
          }
          return target.insertRuns(...args);
        };
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { storage, reached: reached.promise, release: held.open };
}

describe('end states are final under races', () => {
  it('cancelJob while a batch is being written: no run of the ABORTED job stays PENDING', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const hold = holdingStorage(new MemoryStorage({ clock }), 3);
    const never = gate();
    const h = await harness({
      storage: hold.storage,
      scheduler: { batchChunkSize: 10, concurrency: 1 },
      functions: { a: async ({ signal }) => { await Promise.race([never.promise, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))]); } },
    });
    const values = Array.from({ length: 100 }, (_, i) => i);
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: JSON.stringify({ pipeline_parameters: { x: values } }) });
    const created = h.scheduler.createJob(spec(projectDir));
    await hold.reached;
    const job = (await h.storage.listJobs()).items[0]!;
    await h.scheduler.cancelJob(job.id);
    hold.release();
    await created;
    await h.scheduler.stop({ mode: 'cancel' });
    const after = (await h.storage.getJob(job.id))!;
    expect(after.status).toBe(JobStatus.ABORTED);
    expect(after.counters.PENDING).toBe(0);
    expect(after.counters.STARTED).toBe(0);
    const runs = (await h.storage.listRuns(job.id, { limit: 1000 })).items;
    expect(runs.filter((r) => r.status === 'PENDING' || r.status === 'STARTED')).toEqual([]);
    expect(await h.storage.listIncompleteBatches()).toEqual([]);
    never.open();
  });

  it('a restarted scheduler never resumes the half-written batch of an ended job', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const inner = new MemoryStorage({ clock });
    const h = await harness({ storage: inner, start: '2026-03-01T00:00:00Z', scheduler: { batchChunkSize: 10 } });
    const projectDir = makeProject();
    const job = await h.scheduler.createJob(spec(projectDir, { draft: true }));
    // A batch a dead process reserved and never wrote, then the job was cancelled.
    await inner.updateJob(job.id, { status: JobStatus.STARTED }, { status: [JobStatus.DRAFT] }, clock.now());
    await inner.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: [JobStatus.STARTED], now: clock.now() });
    await inner.updateJob(job.id, { status: JobStatus.ABORTED, finishedAt: clock.now() }, { status: [JobStatus.STARTED] }, clock.now());
    const again = await h.restart();
    await again.onIdle();
    expect((await inner.listRuns(job.id)).items).toEqual([]);
    expect((await inner.getJob(job.id))!.counters.PENDING).toBe(0);
  });
});

describe('a batch runs what it recorded', () => {
  it('a batch resumed after a parameter edit writes exactly the runs it reserved, from its own grid', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const inner = new MemoryStorage({ clock });
    const h = await harness({ storage: inner, scheduler: { batchChunkSize: 2 } });
    const projectDir = makeProject({ pipelineParameters: { x: 0 }, parametersFile: JSON.stringify({ pipeline_parameters: { x: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } }) });
    const job = await h.scheduler.createJob(spec(projectDir, { schedule: { type: 'cron', cron: '0 0 1 1 *' } }));
    // A process reserved a batch of 10 and died before writing its runs.
    const batch = (await inner.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 10, expectStatus: [JobStatus.STARTED], now: clock.now() }))!;
    await h.scheduler.updateJob(job.id, { parameters: { from: 'spec', spec: '{"pipeline_parameters": {"x": [70, 80, 90]}}' } });
    const again = await h.restart();
    await again.onIdle();
    expect(await inner.getBatch(job.id, batch.batchIndex)).toMatchObject({ runCount: 10, writtenRuns: 10 });
    const runs = (await inner.listRuns(job.id, { batchIndex: batch.batchIndex })).items;
    expect(runs.map((r) => r.parameters.pipeline.x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await inner.listIncompleteBatches()).toEqual([]);
  });
});
