import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { T0, makeJob, newRuns } from '../../src/testing/storage-contract/fixtures.js';

describe('MemoryStorage hands out frozen records, not copies', () => {
  it('a read costs no copy: the same frozen object until the record changes', async () => {
    const storage = new MemoryStorage({ clock: new FakeClock(T0) });
    const job = makeJob();
    await storage.insertJob(job);
    const a = (await storage.getJob(job.id))!;
    expect(await storage.getJob(job.id)).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.grid) && Object.isFrozen(a.pipeline.steps[0])).toBe(true);
    expect(() => ((a as { name: string }).name = 'x')).toThrow(TypeError);
    expect(() => ((a.envVars as Record<string, string>).X = 'x')).toThrow(TypeError);
    // The caller's object is not frozen by inserting it.
    expect(Object.isFrozen(job)).toBe(false);
    const b = (await storage.updateJob(job.id, { name: 'renamed' }, { status: ['STARTED'] }, T0 + 1))!;
    expect(b).not.toBe(a);
    expect(a.name).toBe(job.name); // what was read before stays as it was
    expect(b.grid).toBe(a.grid); // unchanged parts are shared, not copied
    expect(await storage.getJob(job.id)).toBe(b);
  });

  it('a batch shares its job\'s grid; runs and step states read back frozen', async () => {
    const storage = new MemoryStorage({ clock: new FakeClock(T0) });
    const job = makeJob();
    await storage.insertJob(job);
    const batch = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 2, expectStatus: ['STARTED'], now: T0 }))!;
    expect(batch.grid).toBe((await storage.getJob(job.id))!.grid);
    expect(await storage.getBatch(job.id, batch.batchIndex)).toBe(batch);
    await storage.insertRuns(job.id, batch.batchIndex, newRuns(2), T0);
    const [run] = await storage.claimRuns({ owner: 'me', limit: 1, leaseMs: 1000 });
    expect(Object.isFrozen(run) && Object.isFrozen(run!.parameters)).toBe(true);
    expect(await storage.getRun(run!.id)).toBe(run);
  });
});
