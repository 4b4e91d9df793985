import { describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import type { ContractContext } from './fixtures.js';
import { countedFromRuns, jobWithRuns } from './fixtures.js';

/** `releaseRuns` (optional): runs a process claimed but never started go back to PENDING. */
export function releaseContract(ctx: () => ContractContext): void {
  describe('releasing claimed runs', () => {
    it("gives back the owner's STARTED runs not in `keep` as PENDING, undoing the claim, and leaves the rest alone", async () => {
      const { storage } = ctx();
      if (!storage.releaseRuns) return;
      const { job, runs } = await jobWithRuns(storage, 4);
      const mine = await storage.claimRuns({ owner: 'w1', limit: 3, leaseMs: 30_000 });
      const theirs = await storage.claimRuns({ owner: 'w2', limit: 1, leaseMs: 30_000 });
      expect(theirs.map((r) => r.id)).toEqual([runs[3]!.id]);
      const released = await storage.releaseRuns('w1', [mine[0]!.id]);
      expect(released.sort()).toEqual([mine[1]!.id, mine[2]!.id].sort());
      for (const id of released) {
        expect(await storage.getRun(id)).toMatchObject({ status: 'PENDING', leaseOwner: null, leaseExpiresAt: null, startedAt: null, attempts: 0 });
      }
      expect(await storage.getRun(mine[0]!.id)).toMatchObject({ status: 'STARTED', leaseOwner: 'w1', attempts: 1 });
      expect(await storage.getRun(runs[3]!.id)).toMatchObject({ status: 'STARTED', leaseOwner: 'w2' });
      expect((await storage.getJob(job.id))!.counters).toEqual(await countedFromRuns(storage, job.id));
      expect((await storage.getJob(job.id))!.counters).toMatchObject({ PENDING: 2, STARTED: 2 });
      // Claimable again, by anyone; a second release finds nothing.
      const again = await storage.claimRuns({ owner: 'w3', limit: 10, leaseMs: 30_000 });
      expect(again.map((r) => r.id).sort()).toEqual([...released].sort());
      expect(again.every((r) => r.attempts === 1)).toBe(true);
      expect(await storage.releaseRuns('w1', [mine[0]!.id])).toEqual([]);
    });

    it('refuses a bad owner or keep list with a typed error and changes nothing', async () => {
      const { storage } = ctx();
      if (!storage.releaseRuns) return;
      const { job } = await jobWithRuns(storage, 1);
      await storage.claimRuns({ owner: 'w1', limit: 1, leaseMs: 30_000 });
      for (const [owner, keep] of [['', []], [7, []], ['w1', 'x'], ['w1', [1]]] as const) {
        const error = await storage.releaseRuns(owner as never, keep as never).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).code).toBe('STORAGE_INVALID_INPUT');
      }
      expect((await storage.getJob(job.id))!.counters).toMatchObject({ PENDING: 0, STARTED: 1 });
    });
  });
}
