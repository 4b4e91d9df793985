import { describe, expect, it } from 'vitest';
import type { Storage } from '../../storage/port.js';
import type { ContractContext } from './fixtures.js';
import { T0, makeJob, newRuns, rejection } from './fixtures.js';

const S = 1000;

/** Ends every PENDING run of a job (as a cancel of a PENDING run would). */
async function finishAll(storage: Storage, jobId: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) expect(await storage.finishRun(id, { status: 'SUCCESS', owner: null, now: T0 })).toBe(true);
  expect((await storage.getJob(jobId))!.counters.PENDING).toBe(0);
}

/** Bounded storage: claims kept without batch rows, batches going with their last run, ledger retention. */
export function retentionContract(ctx: () => ContractContext): void {
  describe('retention', () => {
    it('an occurrence whose batch was deleted cannot be claimed again, by any process', async () => {
      const { storage, all } = ctx();
      const job = makeJob({ scheduleCursor: T0 });
      await storage.insertJob(job);
      // No jobPatch: the claim itself moves the cursor (the watermark).
      const b = (await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 60 * S, runCount: 2, expectStatus: ['STARTED'], now: T0 }))!;
      expect((await storage.getJob(job.id))!.scheduleCursor).toBe(T0 + 60 * S);
      const runs = newRuns(2);
      await storage.insertRuns(job.id, b.batchIndex, runs, T0);
      await finishAll(storage, job.id, runs.map((r) => r.id));
      expect(await storage.deleteRuns(job.id, { keepLatest: 0 })).toHaveLength(2);
      expect(await storage.getBatch(job.id, b.batchIndex)).toBeUndefined();
      const again = await Promise.all(
        Array.from({ length: 6 }, (_, i) => all[i % all.length]!.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 60 * S, runCount: 2, expectStatus: ['STARTED'], now: T0 + i })),
      );
      expect(again.filter((x) => x !== undefined)).toHaveLength(0);
      // An earlier occurrence is behind the watermark too (claimed or skipped before it).
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 30 * S, runCount: 1, expectStatus: ['STARTED'], now: T0 })).toBeUndefined();
      expect(await storage.getJob(job.id)).toMatchObject({ batchCount: 1, runCount: 2 });
      // The next one, and manual batches, start as before.
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 120 * S, runCount: 1, expectStatus: ['STARTED'], now: T0 })).toMatchObject({ batchIndex: 1, firstRunIndex: 2 });
      expect(await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: ['STARTED'], now: T0 })).toMatchObject({ batchIndex: 2 });
      expect((await storage.getJob(job.id))!.scheduleCursor).toBe(T0 + 120 * S);
    });

    it("claims the queue policy's buffered occurrence (behind the cursor) exactly once, consuming it", async () => {
      const { storage, all } = ctx();
      const job = makeJob({ scheduleCursor: T0 + 120 * S, bufferedOccurrence: T0 + 60 * S });
      await storage.insertJob(job);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => all[i % all.length]!.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 60 * S, runCount: 0, expectStatus: ['STARTED'], now: T0 + i })),
      );
      expect(results.filter((x) => x !== undefined)).toHaveLength(1);
      expect(await storage.getJob(job.id)).toMatchObject({ bufferedOccurrence: null, scheduleCursor: T0 + 120 * S, batchCount: 1 });
      await storage.deleteRuns(job.id, { keepLatest: 0 });
      expect(await storage.getBatch(job.id, 0)).toBeUndefined();
      expect(await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 60 * S, runCount: 0, expectStatus: ['STARTED'], now: T0 })).toBeUndefined();
    });

    it('deletes a batch with its last run, never one with runs left or still being written', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const a = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 3, expectStatus: ['STARTED'], now: T0 }))!;
      const aRuns = newRuns(3);
      await storage.insertRuns(job.id, a.batchIndex, aRuns, T0);
      const b = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 4, expectStatus: ['STARTED'], now: T0 }))!;
      const bRuns = newRuns(2);
      await storage.insertRuns(job.id, b.batchIndex, bRuns, T0);
      const empty = (await storage.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 0, expectStatus: ['STARTED'], now: T0 }))!;
      for (const r of [aRuns[0]!, aRuns[1]!, ...bRuns]) await storage.finishRun(r.id, { status: 'SUCCESS', owner: null, now: T0 });
      await storage.deleteRuns(job.id, { keepLatest: 0 });
      expect(await storage.getBatch(job.id, a.batchIndex)).toMatchObject({ runCount: 3 });
      // Half written, no runs left: its writer resumes it, so it stays (and stays listed).
      expect(await storage.getBatch(job.id, b.batchIndex)).toMatchObject({ writtenRuns: 2, runCount: 4 });
      expect((await storage.listIncompleteBatches()).map((x) => x.batchIndex)).toEqual([b.batchIndex]);
      expect(await storage.getBatch(job.id, empty.batchIndex)).toBeUndefined();
      await storage.finishRun(aRuns[2]!.id, { status: 'FAILURE', owner: null, now: T0 });
      expect(await storage.deleteRuns(job.id, { runIds: [aRuns[2]!.id] })).toEqual([aRuns[2]!.id]);
      expect(await storage.getBatch(job.id, a.batchIndex)).toBeUndefined();
      expect(await storage.getJob(job.id)).toMatchObject({ batchCount: 3, runCount: 7 });
    });

    it('prunes the ledger to maxRecords on append, keeping positions and compressed skips', async () => {
      const { storage } = ctx();
      const job = makeJob({ scheduleCursor: T0 });
      await storage.insertJob(job);
      const keep = { maxRecords: 3 };
      for (let i = 1; i <= 5; i++) {
        await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + i * S, runCount: 0, expectStatus: ['STARTED'], ledgerRetention: keep, now: T0 + i * S });
      }
      expect((await storage.listOccurrences(job.id)).items.map((r) => r.at)).toEqual([3, 4, 5].map((i) => T0 + i * S));
      // 100 skips with one reason stay one record, however small the retention.
      for (let i = 6; i <= 105; i++) expect(await storage.recordSkips(job.id, [{ at: T0 + i * S, reason: 'overlap' }], undefined, { ...keep, now: T0 + i * S })).toBe(true);
      const ledger = (await storage.listOccurrences(job.id)).items;
      expect(ledger.map((r) => [r.action, r.at, r.count])).toEqual([
        ['started', T0 + 4 * S, 1],
        ['started', T0 + 5 * S, 1],
        ['skipped', T0 + 6 * S, 100],
      ]);
      expect(ledger[2]).toMatchObject({ lastAt: T0 + 105 * S });
      // A page cursor still continues at the right place after the records before it went.
      const p1 = await storage.listOccurrences(job.id, { limit: 1 });
      await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + 200 * S, runCount: 0, expectStatus: ['STARTED'], ledgerRetention: { maxRecords: 2 }, now: T0 + 200 * S });
      const p2 = await storage.listOccurrences(job.id, { cursor: p1.nextCursor });
      expect(p2.items.map((r) => [r.action, r.at])).toEqual([['skipped', T0 + 6 * S], ['started', T0 + 200 * S]]);
      // Without a retention nothing is pruned.
      await storage.recordSkips(job.id, [{ at: T0 + 201 * S, reason: 'missed' }]);
      expect((await storage.listOccurrences(job.id)).items).toHaveLength(3);
    });

    it('prunes ledger records older than maxAgeMs, keeping the newest', async () => {
      const { storage } = ctx();
      const job = makeJob({ scheduleCursor: T0 });
      await storage.insertJob(job);
      const keep = { maxAgeMs: 10 * S };
      for (let i = 1; i <= 20; i++) {
        await storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + i * S, runCount: 0, expectStatus: ['STARTED'], ledgerRetention: keep, now: T0 + i * S });
      }
      expect((await storage.listOccurrences(job.id)).items.map((r) => r.at)).toEqual(Array.from({ length: 11 }, (_, k) => T0 + (10 + k) * S));
      await storage.recordSkips(job.id, [{ at: T0 + 21 * S, reason: 'missed' }], undefined, { ...keep, now: T0 + 1000 * S });
      expect((await storage.listOccurrences(job.id)).items.map((r) => r.action)).toEqual(['skipped']);
    });

    it.each([
      [{ maxRecords: 0 }, 'ledgerRetention.maxRecords'],
      [{ maxRecords: 1.5 }, 'ledgerRetention.maxRecords'],
      [{ maxAgeMs: -1 }, 'ledgerRetention.maxAgeMs'],
      [{ maxAgeMs: Number.NaN }, 'ledgerRetention.maxAgeMs'],
    ])('refuses the ledger retention %o with STORAGE_INVALID_INPUT, changing nothing', async (bad, path) => {
      const { storage } = ctx();
      const job = makeJob({ scheduleCursor: T0 });
      await storage.insertJob(job);
      const err = await rejection(storage.createBatch({ jobId: job.id, trigger: 'schedule', occurrenceAt: T0 + S, runCount: 0, expectStatus: ['STARTED'], ledgerRetention: bad, now: T0 }));
      expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT', path });
      const skipErr = await rejection(storage.recordSkips(job.id, [{ at: T0 + S, reason: 'missed' }], { scheduleCursor: T0 + S, expectVersion: job.version, now: T0 }, { ...bad, now: T0 }));
      expect(skipErr).toMatchObject({ name: 'StorageError', code: 'STORAGE_INVALID_INPUT', path: path.replace('ledgerRetention', 'retention') });
      expect(await storage.getJob(job.id)).toEqual(job);
      expect((await storage.listOccurrences(job.id)).items).toEqual([]);
    });
  });
}
