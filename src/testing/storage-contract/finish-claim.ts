import { describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import type { FinishAndClaimResult, RunEnd } from '../../storage/port.js';
import type { StepStateRecord } from '../../storage/records.js';
import type { ContractContext } from './fixtures.js';
import { T0, countedFromRuns, jobWithRuns, pick } from './fixtures.js';

const ended = (runId: string, owner: string | null, status: RunEnd['end']['status'] = 'SUCCESS', now = T0 + 5): RunEnd => ({ runId, end: { status, owner, now } });

/** `finishAndClaim` (optional): ends, then a claim that sees them, in one transaction. */
export function finishClaimContract(ctx: () => ContractContext): void {
  describe('ending runs and claiming in one call', () => {
    it('writes each end as finishRun does, answers each in order, then claims as claimRuns does', async () => {
      const { storage } = ctx();
      if (!storage.finishAndClaim) return;
      const { job, runs } = await jobWithRuns(storage, 6);
      const held = await storage.claimRuns({ owner: 'w1', limit: 3, leaseMs: 30_000 });
      const theirs = await storage.claimRuns({ owner: 'w2', limit: 1, leaseMs: 30_000 });
      const ends = [
        ended(held[0]!.id, 'w1'),
        ended(theirs[0]!.id, 'w1'), // not held by w1: refused, as finishRun refuses it
        ended(held[1]!.id, 'w1', 'FAILURE'),
        ended('no-such-run', 'w1'),
        ended(runs[5]!.id, null, 'ABORTED'), // a PENDING run ended without an owner
      ];
      const result: FinishAndClaimResult = await storage.finishAndClaim(ends, { owner: 'w1', limit: 5, leaseMs: 30_000 });
      expect(result.finished).toEqual([true, false, true, false, true]);
      expect(result.claimed.map((r) => r.id)).toEqual([runs[4]!.id]);
      expect(result.claimed[0]).toMatchObject({ status: 'STARTED', leaseOwner: 'w1', attempts: 1 });
      expect(await storage.getRun(result.claimed[0]!.id)).toEqual(result.claimed[0]);
      expect(await storage.getRun(held[0]!.id)).toMatchObject({ status: 'SUCCESS', finishedAt: T0 + 5, leaseOwner: null, leaseExpiresAt: null });
      expect(await storage.getRun(held[1]!.id)).toMatchObject({ status: 'FAILURE' });
      expect(await storage.getRun(theirs[0]!.id)).toMatchObject({ status: 'STARTED', leaseOwner: 'w2' });
      expect(await storage.getRun(runs[5]!.id)).toMatchObject({ status: 'ABORTED' });
      const counters = (await storage.getJob(job.id))!.counters;
      expect(counters).toEqual(await countedFromRuns(storage, job.id));
      expect(counters).toEqual({ PENDING: 0, STARTED: 3, SUCCESS: 1, FAILURE: 1, ABORTED: 1 });
      // An end already written is refused the second time.
      expect((await storage.finishAndClaim([ended(held[0]!.id, 'w1')], { owner: 'w1', limit: 1, leaseMs: 30_000 })).finished).toEqual([false]);
    });

    it("sees its own ends: a run of a job at its maxConcurrentRuns that ends makes room for the claim", async () => {
      const { storage } = ctx();
      if (!storage.finishAndClaim) return;
      const { job, runs } = await jobWithRuns(storage, 4, { maxConcurrentRuns: 1 });
      const [first] = await storage.claimRuns({ owner: 'w1', limit: 10, leaseMs: 30_000 });
      expect(first!.id).toBe(runs[0]!.id);
      expect(await storage.claimRuns({ owner: 'w1', limit: 10, leaseMs: 30_000 })).toEqual([]);
      const turn = await storage.finishAndClaim([ended(first!.id, 'w1')], { owner: 'w1', limit: 10, leaseMs: 30_000 });
      expect(turn.finished).toEqual([true]);
      expect(turn.claimed.map((r) => r.id)).toEqual([runs[1]!.id]);
      expect((await storage.getJob(job.id))!.counters).toMatchObject({ PENDING: 2, STARTED: 1, SUCCESS: 1 });
    });

    it('claims nothing with limit 0 or an empty jobIds, and only ends with no ends to write', async () => {
      const { storage } = ctx();
      if (!storage.finishAndClaim) return;
      const { runs } = await jobWithRuns(storage, 3);
      const [a] = await storage.claimRuns({ owner: 'w1', limit: 1, leaseMs: 30_000 });
      expect(await storage.finishAndClaim([ended(a!.id, 'w1')], { owner: 'w1', limit: 0, leaseMs: 30_000 })).toEqual({ finished: [true], claimed: [] });
      expect((await storage.finishAndClaim([], { owner: 'w1', limit: 5, leaseMs: 30_000, jobIds: [] })).claimed).toEqual([]);
      const only = await storage.finishAndClaim([], { owner: 'w1', limit: 1, leaseMs: 30_000 });
      expect(only).toEqual({ finished: [], claimed: [expect.objectContaining({ id: runs[1]!.id, status: 'STARTED' })] });
    });

    it('hands each PENDING run to one caller when two stores end and claim at once', async () => {
      const c = ctx();
      if (!c.storage.finishAndClaim) return;
      const { job } = await jobWithRuns(c.storage, 40);
      const owners = ['w1', 'w2'];
      const held = new Map<string, string[]>();
      for (const w of owners) held.set(w, (await pick(c, owners.indexOf(w)).claimRuns({ owner: w, limit: 2, leaseMs: 30_000 })).map((r) => r.id));
      const seen: string[] = [...held.get('w1')!, ...held.get('w2')!];
      const turn = async (w: string, i: number): Promise<void> => {
        const store = pick(c, i);
        for (;;) {
          const mine = held.get(w)!;
          const { finished, claimed } = await store.finishAndClaim!(mine.map((id) => ended(id, w)), { owner: w, limit: 2, leaseMs: 30_000 });
          expect(finished.every(Boolean)).toBe(true);
          held.set(w, claimed.map((r) => r.id));
          seen.push(...claimed.map((r) => r.id));
          if (claimed.length === 0) return;
        }
      };
      await Promise.all(owners.map((w, i) => turn(w, i)));
      expect(new Set(seen).size).toBe(40);
      expect(seen).toHaveLength(40);
      expect((await c.storage.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 40, FAILURE: 0, ABORTED: 0 });
    });

    it('stores the step states given with an end that is written, as putStepStates does, and not those of an end refused', async () => {
      const { storage } = ctx();
      if (!storage.finishAndClaim) return;
      await jobWithRuns(storage, 3);
      const held = await storage.claimRuns({ owner: 'w1', limit: 2, leaseMs: 30_000 });
      const [theirs] = await storage.claimRuns({ owner: 'w2', limit: 1, leaseMs: 30_000 });
      const state = (runId: string, stepId: string, status: StepStateRecord['status']): StepStateRecord => ({
        runId, stepId, status, startedAt: T0 + 1, finishedAt: T0 + 2, attempts: 1, exitCode: status === 'SUCCESS' ? 0 : 1, error: status === 'SUCCESS' ? null : { code: 'STEP_FAILED', message: 'exit 1' },
      });
      // Earlier states of the first run (more of them than its end brings): replaced whole.
      await storage.putStepStates(held[0]!.id, [state(held[0]!.id, 's1', 'STARTED'), state(held[0]!.id, 's2', 'PENDING'), state(held[0]!.id, 's3', 'PENDING')]);
      await storage.putStepStates(theirs!.id, [state(theirs!.id, 's1', 'STARTED')]);
      const firstSteps = [state(held[0]!.id, 's1', 'SUCCESS'), state(held[0]!.id, 's2', 'FAILURE')];
      const result = await storage.finishAndClaim(
        [
          { ...ended(held[0]!.id, 'w1', 'FAILURE'), steps: firstSteps },
          ended(held[1]!.id, 'w1'), // no states given: none stored
          { ...ended(theirs!.id, 'w1'), steps: [state(theirs!.id, 's1', 'SUCCESS')] }, // refused: w2 holds it
        ],
        { owner: 'w1', limit: 0, leaseMs: 30_000 },
      );
      expect(result.finished).toEqual([true, true, false]);
      expect(await storage.getStepStates(held[0]!.id)).toEqual(firstSteps);
      expect(await storage.getStepStates(held[1]!.id)).toEqual([]);
      expect(await storage.getStepStates(theirs!.id)).toEqual([state(theirs!.id, 's1', 'STARTED')]);
    });

    it('refuses bad input with a typed error and writes nothing, neither the ends nor the claim', async () => {
      const { storage } = ctx();
      if (!storage.finishAndClaim) return;
      const { job } = await jobWithRuns(storage, 3);
      const [a] = await storage.claimRuns({ owner: 'w1', limit: 1, leaseMs: 30_000 });
      const bad: Array<[unknown, unknown, string]> = [
        [[ended(a!.id, 'w1')], { owner: 'w1', limit: -1, leaseMs: 30_000 }, 'limit'],
        [[ended(a!.id, 'w1')], { owner: 'w1', limit: 1, leaseMs: Number.NaN }, 'leaseMs'],
        [[ended(a!.id, 'w1'), ended(a!.id, 'w1')], { owner: 'w1', limit: 1, leaseMs: 30_000 }, 'ends[1].runId'],
        [[{ runId: 7, end: {} }], { owner: 'w1', limit: 1, leaseMs: 30_000 }, 'ends[0]'],
        ['x', { owner: 'w1', limit: 1, leaseMs: 30_000 }, 'ends'],
        [[{ ...ended(a!.id, 'w1'), steps: 'all' }], { owner: 'w1', limit: 1, leaseMs: 30_000 }, 'ends[0].steps'],
      ];
      for (const [ends, claim, path] of bad) {
        const error = await storage.finishAndClaim(ends as never, claim as never).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({ code: 'STORAGE_INVALID_INPUT', path });
      }
      expect(await storage.getRun(a!.id)).toMatchObject({ status: 'STARTED', leaseOwner: 'w1' });
      expect((await storage.getJob(job.id))!.counters).toMatchObject({ PENDING: 2, STARTED: 1, SUCCESS: 0 });
    });
  });
}
