import { describe, expect, it } from 'vitest';
import type { StepStateRecord } from '../../storage/records.js';
import type { ContractContext } from './fixtures.js';
import { T0, addBatch, countedFromRuns, jobWithRuns, rejection, tryToChange } from './fixtures.js';

function step(runId: string, stepUuid: string, over: Partial<StepStateRecord> = {}): StepStateRecord {
  return { runId, stepUuid, status: 'PENDING', startedAt: null, finishedAt: null, attempts: 0, exitCode: null, error: null, ...over };
}

/** Listing runs, step states, retention deletes, closing. */
export function runsContract(ctx: () => ContractContext): void {
  describe('runs', () => {
    it('lists runs in runIndex order, filtered by status and batch, page by page', async () => {
      const { storage } = ctx();
      const { job, runs } = await jobWithRuns(storage, 6);
      const second = await addBatch(storage, job.id, 4);
      const claimed = await storage.claimRuns({ owner: 'w', limit: 2, leaseMs: 30_000 });
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await storage.listRuns(job.id, { limit: 4, cursor });
        ids.push(...page.items.map((r) => r.id));
        cursor = page.next;
      } while (cursor !== null);
      expect(ids).toEqual([...runs, ...second].map((r) => r.id));
      const started = await storage.listRuns(job.id, { status: ['STARTED'] });
      expect(started.items.map((r) => r.id)).toEqual(claimed.map((r) => r.id));
      const batch1 = await storage.listRuns(job.id, { batchIndex: 1, status: ['PENDING'], limit: 3 });
      expect(batch1.items.map((r) => r.runIndex)).toEqual([6, 7, 8]);
      const batch1rest = await storage.listRuns(job.id, { batchIndex: 1, status: ['PENDING'], limit: 3, cursor: batch1.next });
      expect(batch1rest).toMatchObject({ items: [{ runIndex: 9 }], next: null });
      expect((await storage.listRuns('no-such-job')).items).toEqual([]);
      expect(await rejection(storage.listRuns(job.id, { cursor: 'not-a-cursor' }))).toMatchObject({ code: 'STORAGE_INVALID_CURSOR' });
    });

    it('continues a run listing after the cursor run was deleted', async () => {
      const { storage } = ctx();
      const { job, runs } = await jobWithRuns(storage, 5);
      const first = await storage.listRuns(job.id, { limit: 2 });
      await storage.finishRun(runs[1]!.id, { status: 'ABORTED', owner: null, now: T0 });
      expect(await storage.deleteRuns(job.id, { runIds: [runs[1]!.id] })).toEqual([runs[1]!.id]);
      const next = await storage.listRuns(job.id, { limit: 2, cursor: first.next });
      expect(next.items.map((r) => r.id)).toEqual([runs[2]!.id, runs[3]!.id]);
    });

    it('replaces step states as a whole, in the order given', async () => {
      const { storage } = ctx();
      const { runs } = await jobWithRuns(storage, 2);
      const id = runs[0]!.id;
      const states = [
        step(id, 's2', { status: 'FAILURE', startedAt: T0, finishedAt: T0 + 5, attempts: 2, exitCode: 3, error: { code: 'STEP_EXIT', message: 'exit 3' } }),
        step(id, 's1', { status: 'SUCCESS', startedAt: T0, finishedAt: T0 + 1, attempts: 1, exitCode: 0 }),
      ];
      await storage.putStepStates(id, states);
      const got = await storage.getStepStates(id);
      expect(got).toEqual(states);
      tryToChange(() => ((got[0] as { status: string }).status = 'SUCCESS'));
      expect(await storage.getStepStates(id)).toEqual(states);
      await storage.putStepStates(id, [step(id, 's1', { status: 'ABORTED' })]);
      expect(await storage.getStepStates(id)).toEqual([step(id, 's1', { status: 'ABORTED' })]);
      expect(await storage.getStepStates(runs[1]!.id)).toEqual([]);
      expect(await storage.getStepStates('no-such-run')).toEqual([]);
    });

    it('deletes only finished runs, the latest kept, without touching the counters', async () => {
      const { storage } = ctx();
      const { job, runs } = await jobWithRuns(storage, 7);
      const claimed = await storage.claimRuns({ owner: 'w', limit: 5, leaseMs: 30_000 });
      // Finish order differs from run order: run 3 first, then 0, 2, 1.
      const finishOrder = [3, 0, 2, 1];
      for (const [k, i] of finishOrder.entries()) {
        expect(await storage.finishRun(claimed[i]!.id, { status: k % 2 === 0 ? 'SUCCESS' : 'FAILURE', owner: 'w', now: T0 + 100 * (k + 1) })).toBe(true);
      }
      await storage.putStepStates(runs[3]!.id, [step(runs[3]!.id, 's1', { status: 'SUCCESS' })]);
      const countersBefore = (await storage.getJob(job.id))!.counters;
      const deleted = await storage.deleteRuns(job.id, { keepLatest: 2 });
      expect([...deleted].sort()).toEqual([runs[3]!.id, runs[0]!.id].sort());
      expect(await storage.getStepStates(runs[3]!.id)).toEqual([]);
      expect(await storage.getRun(runs[3]!.id)).toBeUndefined();
      expect((await storage.getJob(job.id))!.counters).toEqual(countersBefore);
      const byIds = await storage.deleteRuns(job.id, { runIds: [runs[4]!.id, runs[5]!.id, runs[2]!.id, 'no-such-run'] });
      expect(byIds).toEqual([runs[2]!.id]);
      expect([...(await storage.deleteRuns(job.id, { keepLatest: 0 }))]).toEqual([runs[1]!.id]);
      expect((await storage.listRuns(job.id)).items.map((r) => r.id)).toEqual([runs[4]!.id, runs[5]!.id, runs[6]!.id]);
      expect(await storage.deleteRuns(job.id, { keepLatest: 0 })).toEqual([]);
      expect((await storage.getJob(job.id))!.counters).toEqual(countersBefore);
    });

    it('keeps counters equal to the runs through a long mix of operations', async () => {
      const { storage } = ctx();
      const { job } = await jobWithRuns(storage, 20, { maxConcurrentRuns: 5 });
      let state = 7;
      const rand = (n: number): number => ((state = (state * 1103515245 + 12345) % 2147483648), state % n);
      for (let step = 0; step < 60; step++) {
        const op = rand(6);
        const running = (await storage.listRuns(job.id, { status: ['STARTED'], limit: 1000 })).items;
        const target = running[rand(Math.max(1, running.length))];
        if (op === 0) await addBatch(storage, job.id, 1 + rand(4));
        else if (op === 1 || op === 2) await storage.claimRuns({ owner: 'w', limit: 1 + rand(3), leaseMs: 60_000 });
        else if (op === 3 && target) await storage.finishRun(target.id, { status: (['SUCCESS', 'FAILURE', 'ABORTED'] as const)[rand(3)]!, owner: 'w', now: T0 + step });
        else if (op === 4 && target) await storage.cancelRuns({ runIds: [target.id] }, T0 + step);
        else if (op === 5) await storage.cancelRuns({ runIds: (await storage.listRuns(job.id, { status: ['PENDING'], limit: 2 })).items.map((r) => r.id) }, T0 + step);
        const counters = (await storage.getJob(job.id))!.counters;
        expect(counters).toEqual(await countedFromRuns(storage, job.id));
        expect(counters.STARTED).toBeLessThanOrEqual(5);
      }
    });

    it('closes: idempotently, and later calls fail with STORAGE_CLOSED', async () => {
      const { storage } = ctx();
      const { job } = await jobWithRuns(storage, 1);
      await storage.init(); // init is idempotent and keeps data
      expect(await storage.getJob(job.id)).toMatchObject({ id: job.id });
      await storage.close();
      await storage.close();
      expect(await rejection(storage.getJob(job.id))).toMatchObject({ name: 'StorageError', code: 'STORAGE_CLOSED' });
      expect(await rejection(storage.claimRuns({ owner: 'w', limit: 1, leaseMs: 1_000 }))).toMatchObject({ code: 'STORAGE_CLOSED' });
    });
  });
}
