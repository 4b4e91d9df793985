import { describe, expect, it } from 'vitest';
import type { ContractContext } from './fixtures.js';
import { T0, countedFromRuns, makeJob, newRuns, rejection } from './fixtures.js';

/** Batches: occurrence claims, run-index reservation, chunked idempotent run inserts. */
export function batchesContract(ctx: () => ContractContext): void {
  describe('batches', () => {
    it('starts batches with the next batch index and reserved run indices, patching the job', async () => {
      const { storage } = ctx();
      const job = makeJob({ status: 'PENDING' });
      await storage.insertJob(job);
      const b0 = await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 5, expectStatus: ['PENDING'], jobPatch: { status: 'STARTED' }, now: T0 + 10 });
      expect(b0).toEqual({ jobId: job.id, batchIndex: 0, trigger: 'manual', triggerKind: 'manual', occurrenceAt: null, runCount: 5, writtenRuns: 0, firstRunIndex: 0, envVars: job.envVars, grid: job.grid, selection: job.selection, createdAt: T0 + 10 });
      const afterFirst = await storage.getJob(job.id);
      expect(afterFirst).toMatchObject({ status: 'STARTED', batchCount: 1, runCount: 5, version: job.version + 1, updatedAt: T0 + 10 });
      await storage.updateJob(job.id, { envVars: { NEW: 'yes' } }, { status: ['STARTED'] }, T0 + 11);
      const b1 = await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 60_000, runCount: 3, expectStatus: ['STARTED'], jobPatch: { scheduleCursor: T0 + 60_000 }, now: T0 + 12 });
      expect(b1).toMatchObject({ batchIndex: 1, firstRunIndex: 5, runCount: 3, occurrenceAt: T0 + 60_000, envVars: { NEW: 'yes' } });
      expect(await storage.getBatch(job.id, 0)).toEqual(b0);
      expect(await storage.getBatch(job.id, 1)).toEqual(b1);
      expect(await storage.getBatch(job.id, 2)).toBeUndefined();
      expect(await storage.getJob(job.id)).toMatchObject({ batchCount: 2, runCount: 8, scheduleCursor: T0 + 60_000 });
    });

    it('refuses a batch when the job is not in an expected status, changing nothing', async () => {
      const { storage } = ctx();
      const job = makeJob({ status: 'PAUSED' });
      await storage.insertJob(job);
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0, runCount: 2, expectStatus: ['STARTED'], now: T0 })).toBeUndefined();
      expect(await storage.createBatch({ jobId: 'no-such-job', trigger: 'manual', occurrenceAt: null, runCount: 2, expectStatus: ['STARTED'], now: T0 })).toBeUndefined();
      expect(await storage.getJob(job.id)).toEqual(job);
      // The refused occurrence was not claimed: it can still start once the status matches.
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0, runCount: 2, expectStatus: ['PAUSED'], now: T0 })).toBeDefined();
    });

    it('refuses a schedule batch without an occurrence time with STORAGE_INVALID_INPUT', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const err = await rejection(storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: null, runCount: 1, expectStatus: ['STARTED'], now: T0 }));
      expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT' });
      expect(await storage.getJob(job.id)).toEqual(job);
    });

    it('records the trigger in detail (default: the trigger), and refuses a kind that does not go with the trigger', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const late = await storage.createBatch({ jobId: job.id, trigger: 'schedule', triggerKind: 'catch-up', occurrenceAt: T0, runCount: 1, expectStatus: ['STARTED'], now: T0 + 5 });
      const plain = await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 1, runCount: 1, expectStatus: ['STARTED'], now: T0 + 5 });
      expect(late).toMatchObject({ trigger: 'schedule', triggerKind: 'catch-up' });
      expect(await storage.getBatch(job.id, late!.batchIndex)).toMatchObject({ triggerKind: 'catch-up' });
      expect(await storage.getBatch(job.id, plain!.batchIndex)).toMatchObject({ triggerKind: 'schedule' });
      const before = await storage.getJob(job.id);
      const err = await rejection(storage.createBatch({ jobId: job.id, trigger: 'manual', triggerKind: 'now', occurrenceAt: null, runCount: 1, expectStatus: ['STARTED'], now: T0 }));
      expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT', path: 'triggerKind', value: 'now' });
      expect(await storage.getJob(job.id)).toEqual(before);
    });

    it('claims an occurrence exactly once, however many callers race for it', async () => {
      const { storage, all } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const at = T0 + 3_600_000;
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => all[i % all.length]!.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: at, runCount: 4, expectStatus: ['STARTED'], jobPatch: { scheduleCursor: at }, now: T0 + i })),
      );
      expect(results.filter((b) => b !== undefined)).toHaveLength(1);
      expect(await storage.getJob(job.id)).toMatchObject({ batchCount: 1, runCount: 4 });
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: at, runCount: 4, expectStatus: ['STARTED'], now: T0 })).toBeUndefined();
      // Manual batches and other occurrences are not affected.
      const manual = await Promise.all([0, 1, 2].map((i) => all[i % all.length]!.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: ['STARTED'], now: T0 })));
      expect(manual.map((b) => b?.batchIndex).sort()).toEqual([1, 2, 3]);
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: at + 1, runCount: 1, expectStatus: ['STARTED'], now: T0 })).toMatchObject({ batchIndex: 4, firstRunIndex: 7 });
      const started = (await storage.listOccurrences(job.id)).items;
      expect(started).toEqual([
        { jobId: job.id, action: 'started', reason: null, at, lastAt: at, count: 1, batchIndex: 0 },
        { jobId: job.id, action: 'started', reason: null, at: at + 1, lastAt: at + 1, count: 1, batchIndex: 4 },
      ]);
    });

    it('writes runs in chunks, idempotently, resuming from writtenRuns', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 2, expectStatus: ['STARTED'], now: T0 });
      const batch = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 25, expectStatus: ['STARTED'], now: T0 }))!;
      const runs = newRuns(25);
      await storage.insertRuns(job.id, batch.batchIndex, runs.slice(0, 10), T0 + 1);
      expect(await storage.getBatch(job.id, batch.batchIndex)).toMatchObject({ writtenRuns: 10 });
      expect((await storage.listIncompleteBatches()).filter((b) => b.jobId === job.id).map((b) => b.batchIndex).sort()).toEqual([0, 1]);
      await storage.insertRuns(job.id, batch.batchIndex, runs.slice(0, 10), T0 + 2); // a retry of the same chunk
      await storage.insertRuns(job.id, batch.batchIndex, newRuns(15, 5), T0 + 3); // overlaps 5..9 with other ids
      await storage.insertRuns(job.id, batch.batchIndex, runs.slice(20), T0 + 4);
      const stored = (await storage.listRuns(job.id, { limit: 100 })).items;
      expect(stored).toHaveLength(25);
      expect(stored.map((r) => r.indexInBatch)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(stored.map((r) => r.runIndex)).toEqual(Array.from({ length: 25 }, (_, i) => 2 + i));
      expect(stored[0]).toMatchObject({ id: runs[0]!.id, jobId: job.id, batchIndex: 1, gridIndex: 1, status: 'PENDING', parameters: runs[0]!.parameters, createdAt: T0 + 1, startedAt: null, finishedAt: null, reason: null, error: null, attempts: 0, leaseOwner: null, leaseExpiresAt: null, cancelRequested: false, processInfo: null });
      expect(stored.slice(0, 10).map((r) => r.id)).toEqual(runs.slice(0, 10).map((r) => r.id));
      expect(stored[24]!.id).toBe(runs[24]!.id);
      expect(await storage.getBatch(job.id, batch.batchIndex)).toMatchObject({ writtenRuns: 25 });
      expect((await storage.listIncompleteBatches()).filter((b) => b.jobId === job.id).map((b) => b.batchIndex)).toEqual([0]);
      expect((await storage.getJob(job.id))!.counters).toEqual(await countedFromRuns(storage, job.id));
      expect((await storage.getJob(job.id))!.counters.PENDING).toBe(25);
    });

    it('refuses a bad chunk as a whole: index beyond the batch, duplicate run id, unknown batch', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const batch = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 4, expectStatus: ['STARTED'], now: T0 }))!;
      const first = newRuns(2);
      await storage.insertRuns(job.id, batch.batchIndex, first, T0);
      const before = await storage.getJob(job.id);
      const beyond = newRuns(3, 2); // indices 2, 3, 4: 4 is beyond a batch of 4
      expect(await rejection(storage.insertRuns(job.id, batch.batchIndex, beyond, T0))).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT' });
      const dup = newRuns(2, 2);
      const dupChunk = [dup[0]!, { ...dup[1]!, id: first[0]!.id }];
      expect(await rejection(storage.insertRuns(job.id, batch.batchIndex, dupChunk, T0))).toMatchObject({ name: 'StorageError', code: 'STORAGE_DUPLICATE_ID' });
      expect(await rejection(storage.insertRuns(job.id, 99, newRuns(1), T0))).toMatchObject({ name: 'StorageError', code: 'STORAGE_NOT_FOUND' });
      expect(await storage.getJob(job.id)).toEqual(before);
      expect(await storage.getBatch(job.id, batch.batchIndex)).toMatchObject({ writtenRuns: 2 });
      expect((await storage.listRuns(job.id)).items.map((r) => r.id)).toEqual(first.map((r) => r.id));
      await storage.insertRuns(job.id, batch.batchIndex, newRuns(2, 2), T0);
      expect(await storage.getBatch(job.id, batch.batchIndex)).toMatchObject({ writtenRuns: 4 });
    });

    it('never moves scheduleCursor backwards when a batch patches it', async () => {
      const { storage } = ctx();
      const job = makeJob({ scheduleCursor: T0 + 10 * 60_000 });
      await storage.insertJob(job);
      await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0, runCount: 0, expectStatus: ['STARTED'], jobPatch: { scheduleCursor: T0 }, now: T0 });
      expect((await storage.getJob(job.id))!.scheduleCursor).toBe(T0 + 10 * 60_000);
      await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 11 * 60_000, runCount: 0, expectStatus: ['STARTED'], jobPatch: { scheduleCursor: T0 + 11 * 60_000 }, now: T0 });
      expect((await storage.getJob(job.id))!.scheduleCursor).toBe(T0 + 11 * 60_000);
    });

    it('records grouped skips, and with `advance` only once per job version, moving the cursor forward', async () => {
      const c = ctx();
      const { storage } = c;
      const job = makeJob({ scheduleCursor: T0 });
      await storage.insertJob(job);
      const m = 60_000;
      expect(await storage.recordSkips(job.id, [{ at: T0 + m, lastAt: T0 + 5 * m, count: 5, reason: 'missed' }])).toBe(true);
      expect(await storage.recordSkips(job.id, [{ at: T0 + 6 * m, reason: 'missed' }])).toBe(true);
      expect((await storage.getJob(job.id))!.version).toBe(job.version);
      // Two processes planned the same skips from the same version: one records them.
      const planned = [{ at: T0 + 7 * m, lastAt: T0 + 9 * m, count: 3, reason: 'paused' as const }];
      const results = await Promise.all([0, 1, 2, 3].map((i) => c.all[i % c.all.length]!.recordSkips(job.id, planned, { scheduleCursor: T0 + 9 * m, expectVersion: job.version, now: T0 + 1 })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await storage.getJob(job.id)).toMatchObject({ scheduleCursor: T0 + 9 * m, version: job.version + 1, updatedAt: T0 + 1 });
      expect(await storage.recordSkips(job.id, [{ at: T0 + 10 * m, reason: 'paused' }], { scheduleCursor: T0 + 2 * m, expectVersion: job.version + 1, now: T0 + 2 })).toBe(true);
      expect(await storage.getJob(job.id)).toMatchObject({ scheduleCursor: T0 + 9 * m, version: job.version + 2 });
      expect((await storage.listOccurrences(job.id)).items).toEqual([
        { jobId: job.id, action: 'skipped', reason: 'missed', at: T0 + m, lastAt: T0 + 6 * m, count: 6, batchIndex: null },
        { jobId: job.id, action: 'skipped', reason: 'paused', at: T0 + 7 * m, lastAt: T0 + 10 * m, count: 4, batchIndex: null },
      ]);
    });

    it('merges consecutive skips with one reason into one ledger record with a count and a range', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const m = 60_000;
      await storage.recordSkips(job.id, [{ at: T0, reason: 'paused' }, { at: T0 + m, reason: 'paused' }]);
      await storage.recordSkips(job.id, [{ at: T0 + 2 * m, reason: 'paused' }, { at: T0 + 3 * m, reason: 'missed' }, { at: T0 + 4 * m, reason: 'missed' }]);
      await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 5 * m, runCount: 0, expectStatus: ['STARTED'], now: T0 });
      await storage.recordSkips(job.id, [{ at: T0 + 6 * m, reason: 'missed' }]);
      await storage.recordSkips(job.id, []);
      const ledger = (await storage.listOccurrences(job.id)).items;
      expect(ledger).toEqual([
        { jobId: job.id, action: 'skipped', reason: 'paused', at: T0, lastAt: T0 + 2 * m, count: 3, batchIndex: null },
        { jobId: job.id, action: 'skipped', reason: 'missed', at: T0 + 3 * m, lastAt: T0 + 4 * m, count: 2, batchIndex: null },
        { jobId: job.id, action: 'started', reason: null, at: T0 + 5 * m, lastAt: T0 + 5 * m, count: 1, batchIndex: 0 },
        { jobId: job.id, action: 'skipped', reason: 'missed', at: T0 + 6 * m, lastAt: T0 + 6 * m, count: 1, batchIndex: null },
      ]);
      const p1 = await storage.listOccurrences(job.id, { limit: 3 });
      expect(p1.items).toEqual(ledger.slice(0, 3));
      const p2 = await storage.listOccurrences(job.id, { limit: 3, cursor: p1.nextCursor });
      expect(p2).toEqual({ items: ledger.slice(3), nextCursor: null });
      expect(await rejection(storage.recordSkips('no-such-job', [{ at: T0, reason: 'missed' }]))).toMatchObject({ name: 'StorageError', code: 'STORAGE_NOT_FOUND' });
      expect((await storage.listOccurrences('no-such-job')).items).toEqual([]);
    });
  });
}
