import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/storage/memory/memory-storage.js';
import type { JobRecord } from '../../src/storage/records.js';
import { T0, jobWithRuns, makeJob } from '../../src/testing/storage-contract/fixtures.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

/** Whether `value` and everything reachable from it is frozen. */
function deeplyFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen);
}

async function store(): Promise<MemoryStorage> {
  const storage = new MemoryStorage({ clock: new FakeClock(T0) });
  await storage.init();
  return storage;
}

/** A grid of one parameter with `n` values, as the job record stores it. */
function wideJob(n: number): JobRecord {
  const base = makeJob();
  return makeJob({ grid: { ...base.grid, dimensions: [{ scope: 'pipeline', key: 'zeta', values: Array.from({ length: n }, (_, i) => i) }] } });
}

describe('MemoryStorage hands out frozen records, not copies', () => {
  it('a read returns the stored record itself, deeply frozen: a change throws and the store stays as it was', async () => {
    const storage = await store();
    const job = makeJob();
    await storage.insertJob(job);
    const got = (await storage.getJob(job.id))!;
    expect(deeplyFrozen(got)).toBe(true);
    // No copy per read: the same record twice, whatever its size.
    expect(await storage.getJob(job.id)).toBe(got);
    expect(() => {
      (got as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (got.envVars as Record<string, string>).A = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (got.pipeline.steps as unknown as unknown[]).push({});
    }).toThrow(TypeError);
    expect(await storage.getJob(job.id)).toEqual(job);
  });

  it('a change stores a new record: one a caller holds never changes', async () => {
    const storage = await store();
    const { job, runs } = await jobWithRuns(storage, 2);
    const before = (await storage.getJob(job.id))!;
    const countersBefore = structuredClone(before.counters);
    const claimed = await storage.claimRuns({ owner: 'w', limit: 1, leaseMs: 60_000 });
    expect(claimed.map((r) => r.id)).toEqual([runs[0]!.id]);
    expect(deeplyFrozen(claimed[0])).toBe(true);
    expect(before.counters).toEqual(countersBefore);
    const after = (await storage.getJob(job.id))!;
    expect(after).not.toBe(before);
    expect(after.counters.STARTED).toBe(countersBefore.STARTED + 1);
    const updated = (await storage.updateJob(job.id, { name: 'renamed' }, { status: [job.status] }, T0 + 1))!;
    expect(deeplyFrozen(updated)).toBe(true);
    expect(after.name).toBe(job.name);
    expect(updated.name).toBe('renamed');
    // The parts the update did not touch are shared, not copied.
    expect(updated.grid).toBe(after.grid);
  });

  it("what a caller gives is copied in and never frozen in the caller's hands", async () => {
    const storage = await store();
    const { job, runs } = await jobWithRuns(storage, 1);
    const [run] = await storage.claimRuns({ owner: 'w', limit: 1, leaseMs: 60_000 });
    const error = { code: 'BOOM', message: 'went wrong' };
    expect(await storage.finishRun(run!.id, { status: 'FAILURE', owner: 'w', reason: 'failed', error, now: T0 + 5 })).toBe(true);
    expect(Object.isFrozen(error)).toBe(false);
    error.message = 'changed by the caller';
    expect((await storage.getRun(run!.id))!.error).toEqual({ code: 'BOOM', message: 'went wrong' });
    const patchEnv = { B: 'b' };
    await storage.updateJob(job.id, { envVars: patchEnv }, { status: [job.status] }, T0 + 6);
    expect(Object.isFrozen(patchEnv)).toBe(false);
    patchEnv.B = 'changed';
    expect((await storage.getJob(job.id))!.envVars).toEqual({ B: 'b' });
    expect(runs).toHaveLength(1);
  });

  it("arrays of results are the caller's: sorting a listing or step states changes nothing stored", async () => {
    const storage = await store();
    const { job, runs } = await jobWithRuns(storage, 3);
    const page = await storage.listRuns(job.id);
    page.items.reverse();
    expect((await storage.listRuns(job.id)).items.map((r) => r.id)).toEqual(runs.map((r) => r.id));
    const step = (uuid: string) => ({ runId: runs[0]!.id, stepId: uuid, status: 'PENDING' as const, startedAt: null, finishedAt: null, attempts: 0, exitCode: null, error: null });
    await storage.putStepStates(runs[0]!.id, [step('b'), step('a')]);
    const states = await storage.getStepStates(runs[0]!.id);
    states.sort((x, y) => x.stepId.localeCompare(y.stepId));
    expect((await storage.getStepStates(runs[0]!.id)).map((s) => s.stepId)).toEqual(['b', 'a']);
  });

  it("a batch shares the job's frozen grid: no per-batch or per-read copy of a large grid", async () => {
    const storage = await store();
    const job = wideJob(100_000);
    await storage.insertJob(job);
    const stored = (await storage.getJob(job.id))!;
    const batch = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: [job.status], now: T0 }))!;
    expect(batch.grid).toBe(stored.grid);
    expect(await storage.getBatch(job.id, batch.batchIndex)).toBe(batch);
    expect(deeplyFrozen(batch)).toBe(true);
    // A grid given with the batch (a resumed edit) is copied in, not taken.
    const own = structuredClone(job.grid);
    const second = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, grid: own, selection: null, expectStatus: [job.status], now: T0 }))!;
    expect(second.grid).not.toBe(own);
    expect(second.grid).toEqual(own);
    expect(Object.isFrozen(own)).toBe(false);
  });
});
