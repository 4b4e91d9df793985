import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { gate, harness, makeProject, tempDir, until } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A storage whose `init` fails while `down` is set, and whose `createBatch` waits for `hold` when given. */
function flaky(inner: Storage): { storage: Storage; state: { down: boolean; hold?: Promise<void>; holding?: () => void } } {
  const state: { down: boolean; hold?: Promise<void>; holding?: () => void } = { down: true };
  const storage = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'init') return async () => { if (state.down) throw Object.assign(new Error('database down'), { code: 'STORAGE_UNAVAILABLE' }); return target.init(); };
      if (key === 'createBatch') return async (...a: Parameters<Storage['createBatch']>) => { if (state.hold) { state.holding?.(); await state.hold; } return target.createBatch(...a); };
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...x: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { storage, state };
}

describe('start() is all or nothing; stop() waits for background work', () => {
  it('a failed start leaves no keep-alive handle or timer behind and can be retried', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const root = tempDir();
    const { storage, state } = flaky(new MemoryStorage({ clock }));
    const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs'), clock });
    const scheduler = new JobScheduler({ storage, snapshots: new SnapshotStore({ root: path.join(root, 'snaps'), clock }), executor, clock, keepAlive: true });
    const before = timers();
    await expect(scheduler.start()).rejects.toThrow('database down');
    expect(timers()).toBeLessThanOrEqual(before); // no keep-alive interval left (other tests' timers may end meanwhile)
    expect(clock.pendingTimers).toBe(0);
    await expect(scheduler.waitForRun('x')).rejects.toMatchObject({ code: 'SCHEDULER_NOT_STARTED' });
    state.down = false;
    await scheduler.start();
    const job = await scheduler.createJob(spec(makeProject()));
    expect((await scheduler.waitForJob(job.id)).status).toBe('SUCCESS');
    await scheduler.stop();
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('stop() resolves only after timer-driven processing in flight has ended', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const { storage, state } = flaky(new MemoryStorage({ clock }));
    state.down = false;
    const h = await harness({ storage, start: '2026-03-01T00:00:00Z' });
    await h.scheduler.createJob(spec(makeProject(), { schedule: { type: 'cron', cron: '* * * * *' } }));
    const release = gate();
    const reached = gate();
    state.hold = release.promise;
    state.holding = reached.open;
    void h.clock.advance(60_000); // the occurrence's processing starts and waits in createBatch
    await reached.promise;
    let stopped = false;
    const stopping = h.scheduler.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    state.hold = undefined;
    release.open();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('deleteJob of a cancelled job whose run is still stopping is refused with a typed error, then works', async () => {
    const slow = gate();
    let started = 0;
    const h = await harness({ scheduler: { concurrency: 1 }, functions: { a: async () => { started++; await slow.promise; } } });
    const job = await h.scheduler.createJob(spec(makeProject()));
    await until(() => started === 1, 'the run to start');
    await h.scheduler.cancelJob(job.id);
    await expect(h.scheduler.deleteJob(job.id)).rejects.toMatchObject({ name: 'JobStateError', code: 'JOB_RUNS_STOPPING' });
    expect(await h.scheduler.getJob(job.id)).toBeDefined();
    slow.open();
    const [run] = (await h.scheduler.listRuns(job.id)).items;
    await h.scheduler.waitForRun(run!.id);
    await h.scheduler.onIdle();
    await h.scheduler.deleteJob(job.id);
    expect(await h.scheduler.getJob(job.id)).toBeUndefined();
  });
});
