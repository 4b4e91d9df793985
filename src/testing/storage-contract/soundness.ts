import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../storage/records.js';
import type { ContractContext } from './fixtures.js';
import { T0, countedFromRuns, makeJob, newRuns, rejection } from './fixtures.js';

/** What keeps end states final: no runs into an ended job, no resumed batch of one, bad counts refused. */
export function soundnessContract(ctx: () => ContractContext): void {
  describe('soundness', () => {
    it('insertRuns is compare-and-set on the job status: an ended job gets no new runs and its batch is closed', async () => {
      const { storage } = ctx();
      const job = makeJob({ status: 'STARTED' });
      await storage.insertJob(job);
      const batch = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 6, expectStatus: ['STARTED'], now: T0 }))!;
      const runs = newRuns(6);
      expect(await storage.insertRuns(job.id, batch.batchIndex, runs.slice(0, 2), T0)).toBe(true);
      await storage.updateJob(job.id, { status: 'ABORTED', finishedAt: T0 + 1 }, { status: ['STARTED'] }, T0 + 1);
      expect(await storage.insertRuns(job.id, batch.batchIndex, runs.slice(2, 4), T0 + 2)).toBe(false);
      expect((await storage.listRuns(job.id)).items.map((r) => r.id)).toEqual(runs.slice(0, 2).map((r) => r.id));
      expect((await storage.getJob(job.id))!.counters).toEqual(await countedFromRuns(storage, job.id));
      // Closed: it holds what was written and is not listed for resumption again.
      expect(await storage.getBatch(job.id, batch.batchIndex)).toMatchObject({ runCount: 2, writtenRuns: 2 });
      expect((await storage.listIncompleteBatches()).filter((b) => b.jobId === job.id)).toEqual([]);
      expect(await storage.insertRuns(job.id, batch.batchIndex, runs.slice(4), T0 + 3)).toBe(false);
      expect((await storage.listRuns(job.id)).items).toHaveLength(2);
    });

    it('batches of ended jobs are never listed as incomplete; PAUSED and PENDING jobs still get their runs', async () => {
      const { storage } = ctx();
      const ended = makeJob({ status: 'STARTED' });
      await storage.insertJob(ended);
      await storage.createBatch({ jobId: ended.id, trigger: 'manual', occurrenceAt: null, runCount: 3, expectStatus: ['STARTED'], now: T0 });
      await storage.updateJob(ended.id, { status: 'FAILURE', finishedAt: T0 }, { status: ['STARTED'] }, T0);
      expect((await storage.listIncompleteBatches()).filter((b) => b.jobId === ended.id)).toEqual([]);
      for (const status of ['PAUSED', 'PENDING'] as const) {
        const job = makeJob({ status });
        await storage.insertJob(job);
        const b = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 2, expectStatus: [status], now: T0 }))!;
        expect((await storage.listIncompleteBatches()).filter((x) => x.jobId === job.id)).toHaveLength(1);
        expect(await storage.insertRuns(job.id, b.batchIndex, newRuns(2), T0)).toBe(true);
        expect((await storage.getJob(job.id))!.counters.PENDING).toBe(2);
      }
    });

    it('insertRuns racing a cancel: every run of the job ends up ABORTED once the cancel is through', async () => {
      const { storage, all } = ctx();
      const job = makeJob({ status: 'STARTED' });
      await storage.insertJob(job);
      const batch = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 200, expectStatus: ['STARTED'], now: T0 }))!;
      const runs = newRuns(200);
      const writer = (async () => {
        for (let i = 0; i < 200; i += 10) {
          if (!(await all[(i / 10) % all.length]!.insertRuns(job.id, batch.batchIndex, runs.slice(i, i + 10), T0))) return;
        }
      })();
      const canceller = (async () => {
        await storage.updateJob(job.id, { status: 'ABORTED', finishedAt: T0 }, { status: ['STARTED'] }, T0);
        await storage.cancelRuns({ jobId: job.id }, T0);
      })();
      await Promise.all([writer, canceller]);
      const counters = (await storage.getJob(job.id))!.counters;
      expect(counters).toEqual(await countedFromRuns(storage, job.id));
      expect(counters.PENDING).toBe(0);
      expect((await storage.listIncompleteBatches()).filter((b) => b.jobId === job.id)).toEqual([]);
    });

    it('a batch records the grid and selection it runs; a later edit of the job does not change what it resumes with', async () => {
      const { storage, all } = ctx();
      const job = makeJob({ selection: { ranges: [[1, 4]] } });
      await storage.insertJob(job);
      const given = { ...job.grid, dimensions: [{ scope: 'pipeline' as const, key: 'zeta', values: [7, 8, 9, 10] }] };
      const explicit = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 2, grid: given, selection: { ranges: [[0, 2]] }, expectStatus: ['STARTED'], now: T0 }))!;
      expect(explicit).toMatchObject({ grid: given, selection: { ranges: [[0, 2]] } });
      const implicit = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 3, expectStatus: ['STARTED'], now: T0 }))!;
      expect(implicit).toMatchObject({ grid: job.grid, selection: { ranges: [[1, 4]] } });
      await storage.updateJob(job.id, { grid: { ...job.grid, dimensions: [] }, selection: null }, { status: ['STARTED'] }, T0 + 1);
      for (const s of all) {
        expect(await s.getBatch(job.id, implicit.batchIndex)).toMatchObject({ grid: job.grid, selection: { ranges: [[1, 4]] } });
        const listed = (await s.listIncompleteBatches()).filter((b) => b.jobId === job.id);
        expect(listed.map((b) => [b.batchIndex, b.grid, b.selection])).toEqual([
          [explicit.batchIndex, given, { ranges: [[0, 2]] }],
          [implicit.batchIndex, job.grid, { ranges: [[1, 4]] }],
        ]);
      }
    });

    it('a claim with a job at its limit still hands out the other jobs\' runs in seq order, each job within its limit', async () => {
      const { storage } = ctx();
      const full = makeJob({ maxConcurrentRuns: 1 });
      const limited = makeJob({ maxConcurrentRuns: 2 });
      const free = makeJob();
      for (const j of [full, limited, free]) await storage.insertJob(j);
      const batches = new Map<string, number>();
      for (const j of [full, limited, free]) batches.set(j.id, (await storage.createBatch({ jobId: j.id, trigger: 'manual', occurrenceAt: null, runCount: 30, expectStatus: ['STARTED'], now: T0 }))!.batchIndex);
      const runs = new Map([full, limited, free].map((j) => [j.id, newRuns(30)]));
      // Interleaved chunks: seq order alternates between the jobs.
      for (let i = 0; i < 30; i += 5) for (const j of [full, limited, free]) await storage.insertRuns(j.id, batches.get(j.id)!, runs.get(j.id)!.slice(i, i + 5), T0);
      expect(await storage.claimRuns({ owner: 'o', limit: 1, leaseMs: 60_000, jobIds: [full.id] })).toHaveLength(1);
      // A claim may hand out fewer than its limit (the port allows it); a few claims fill it.
      const claimed: RunRecord[] = [];
      for (let i = 0; i < 8 && claimed.length < 8; i++) {
        const got = await storage.claimRuns({ owner: 'o', limit: 8 - claimed.length, leaseMs: 60_000 });
        const seqs = got.map((r) => r.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        claimed.push(...got);
      }
      expect(claimed.filter((r) => r.jobId === full.id)).toEqual([]);
      expect(claimed.filter((r) => r.jobId === limited.id).map((r) => r.id)).toEqual(runs.get(limited.id)!.slice(0, 2).map((r) => r.id));
      expect(claimed.filter((r) => r.jobId === free.id).map((r) => r.id)).toEqual(runs.get(free.id)!.slice(0, 6).map((r) => r.id));
      for (const j of [full, limited, free]) expect((await storage.getJob(j.id))!.counters).toEqual(await countedFromRuns(storage, j.id));
    });

    it.each([-5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('createBatch refuses runCount %s with STORAGE_INVALID_INPUT, changing nothing', async (runCount) => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const err = await rejection(storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount, expectStatus: ['STARTED'], now: T0 }));
      expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT', path: 'runCount' });
      expect(await storage.getJob(job.id)).toEqual(job);
    });

    it.each([-1, 2.5, Number.NaN])('claimRuns refuses limit %s with STORAGE_INVALID_INPUT', async (limit) => {
      const { storage } = ctx();
      expect(await rejection(storage.claimRuns({ owner: 'o', limit, leaseMs: 1000 }))).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT', path: 'limit' });
    });
  });
}
