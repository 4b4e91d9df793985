import { describe, expect, it } from 'vitest';
import type { RecoveredRun } from '../../storage/port.js';
import type { JobRecord } from '../../storage/records.js';
import type { ContractContext } from './fixtures.js';
import { T0, countedFromRuns, jobWithRuns, pick, waitFor } from './fixtures.js';

const wantsRequeue = (job: JobRecord): boolean => job.options.onInterrupted === 'rerun';

/** Expired leases: found by the store's clock, failed or requeued, each once. */
export function recoveryContract(ctx: () => ContractContext): void {
  describe('recovery of expired leases', () => {
    it('fails or requeues runs whose lease expired, leaves live leases alone, and handles each once', async () => {
      const { storage } = ctx();
      const failing = await jobWithRuns(storage, 2);
      const requeueing = await jobWithRuns(storage, 2, { options: { onInterrupted: 'rerun' } });
      const [live] = await storage.claimRuns({ owner: 'alive', limit: 1, leaseMs: 600_000, jobIds: [failing.job.id] });
      const [dead] = await storage.claimRuns({ owner: 'dead', limit: 1, leaseMs: 150, jobIds: [failing.job.id] });
      const [again, cancelled] = await storage.claimRuns({ owner: 'dead', limit: 2, leaseMs: 150, jobIds: [requeueing.job.id] });
      await storage.setProcessInfo(again!.id, 'dead', { pgid: 4321 });
      await storage.cancelRuns({ runIds: [cancelled!.id] }, T0);
      const seen: RecoveredRun[] = [];
      const jobsSeen: string[] = [];
      await waitFor('three expired leases to be recovered', async () => {
        seen.push(...(await storage.recoverExpiredRuns((job) => (jobsSeen.push(job.id), wantsRequeue(job)), T0 + 100)));
        return seen.length >= 3 ? true : undefined;
      });
      expect(seen).toHaveLength(3);
      const byId = new Map(seen.map((r) => [r.run.id, r]));
      expect(byId.get(dead!.id)).toMatchObject({ outcome: 'failed', run: { status: 'FAILURE', reason: 'interrupted', finishedAt: T0 + 100, leaseOwner: null } });
      // A run whose cancel was asked for ends ABORTED, never runs again.
      expect(byId.get(cancelled!.id)).toMatchObject({ outcome: 'failed', run: { status: 'ABORTED', reason: 'cancelled', finishedAt: T0 + 100 } });
      const requeued = byId.get(again!.id)!;
      expect(requeued).toMatchObject({ outcome: 'requeued', run: { status: 'PENDING', leaseOwner: null, leaseExpiresAt: null, attempts: 1, processInfo: { pgid: 4321 } } });
      expect(requeued.run.seq).toBeGreaterThan(again!.seq);
      expect(jobsSeen).toContain(requeueing.job.id);
      expect(await storage.getRun(live!.id)).toEqual(live);
      expect(await storage.recoverExpiredRuns(wantsRequeue, T0 + 200)).toEqual([]);
      expect(await storage.finishRun(dead!.id, { status: 'SUCCESS', owner: 'dead', now: T0 })).toBe(false);
      expect(await storage.heartbeat('dead', [dead!.id, again!.id], 1_000)).toEqual({ cancelRequested: [], lost: [dead!.id, again!.id] });
      // The requeued run can be claimed again, counting a second attempt.
      const reclaimed = await storage.claimRuns({ owner: 'next', limit: 5, leaseMs: 600_000, jobIds: [requeueing.job.id] });
      expect(reclaimed.map((r) => r.id)).toEqual([again!.id]);
      expect(reclaimed[0]).toMatchObject({ attempts: 2, leaseOwner: 'next' });
      for (const { job } of [failing, requeueing]) expect((await storage.getJob(job.id))!.counters).toEqual(await countedFromRuns(storage, job.id));
      expect((await storage.getJob(failing.job.id))!.counters).toEqual({ PENDING: 0, STARTED: 1, SUCCESS: 0, FAILURE: 1, ABORTED: 0 });
    });

    it('gives each expired run to one of two concurrent recoverers', async () => {
      const c = ctx();
      const { job } = await jobWithRuns(c.storage, 12);
      const claimed = await c.storage.claimRuns({ owner: 'dead', limit: 12, leaseMs: 100 });
      const recovered: RecoveredRun[] = [];
      await waitFor('the leases to expire', async () => {
        const round = await Promise.all([0, 1, 2, 3].map((i) => pick(c, i).recoverExpiredRuns(() => false, T0)));
        recovered.push(...round.flat());
        return recovered.length >= claimed.length ? true : undefined;
      });
      expect(recovered.map((r) => r.run.id).sort()).toEqual(claimed.map((r) => r.id).sort());
      expect((await c.storage.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 12, ABORTED: 0 });
    });
  });
}
