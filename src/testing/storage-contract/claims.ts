import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../storage/records.js';
import type { ContractContext } from './fixtures.js';
import { T0, addBatch, countedFromRuns, jobWithRuns, pick } from './fixtures.js';

/** Claiming pending runs, per-job limits, finishing and cancelling runs. */
export function claimsContract(ctx: () => ContractContext): void {
  describe('claims', () => {
    it('claims PENDING runs in seq order, up to the limit, with a lease from the store clock', async () => {
      const { storage } = ctx();
      const a = await jobWithRuns(storage, 3);
      const b = await jobWithRuns(storage, 3);
      const a2 = await addBatch(storage, a.job.id, 2);
      const order = [...a.runs, ...b.runs, ...a2].map((r) => r.id);
      const first = await storage.claimRuns({ owner: 'w1', limit: 4, leaseMs: 30_000 });
      expect(first.map((r) => r.id)).toEqual(order.slice(0, 4));
      const rest = await storage.claimRuns({ owner: 'w2', limit: 100, leaseMs: 30_000 });
      expect(rest.map((r) => r.id)).toEqual(order.slice(4));
      const seqs = [...first, ...rest].map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
      for (const r of first) {
        expect(r).toMatchObject({ status: 'STARTED', attempts: 1, leaseOwner: 'w1', cancelRequested: false });
        expect(r.startedAt).toEqual(expect.any(Number));
        expect(r.leaseExpiresAt! - r.startedAt!).toBeGreaterThanOrEqual(30_000);
        expect(r.leaseExpiresAt! - r.startedAt!).toBeLessThan(31_000);
        expect(await storage.getRun(r.id)).toEqual(r);
      }
      expect(await storage.claimRuns({ owner: 'w3', limit: 10, leaseMs: 30_000 })).toEqual([]);
      expect((await storage.getJob(a.job.id))!.counters).toEqual({ PENDING: 0, STARTED: 5, SUCCESS: 0, FAILURE: 0, ABORTED: 0 });
      expect((await storage.getJob(b.job.id))!.counters).toEqual(await countedFromRuns(storage, b.job.id));
    });

    it('claims only runs of jobs in the given statuses (default STARTED, PAUSED) and of the given jobs', async () => {
      const { storage } = ctx();
      const started = await jobWithRuns(storage, 2, { status: 'STARTED' });
      const paused = await jobWithRuns(storage, 1, { status: 'PAUSED' });
      const pending = await jobWithRuns(storage, 1, { status: 'PENDING' });
      const onlyPaused = await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000, jobIds: [paused.job.id] });
      expect(onlyPaused.map((r) => r.id)).toEqual([paused.runs[0]!.id]);
      const byDefault = await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000 });
      expect(byDefault.map((r) => r.id).sort()).toEqual(started.runs.map((r) => r.id).sort());
      expect(await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000, jobIds: [] })).toEqual([]);
      const explicit = await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000, jobStatuses: ['PENDING'] });
      expect(explicit.map((r) => r.id)).toEqual([pending.runs[0]!.id]);
    });

    it("never lets more than a job's maxConcurrentRuns be STARTED", async () => {
      const { storage } = ctx();
      const { job, runs } = await jobWithRuns(storage, 6, { maxConcurrentRuns: 2 });
      const free = await jobWithRuns(storage, 2);
      const first = await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000 });
      expect(first.map((r) => r.id)).toEqual([runs[0]!.id, runs[1]!.id, ...free.runs.map((r) => r.id)]);
      expect(await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000 })).toEqual([]);
      expect(await storage.finishRun(runs[0]!.id, { status: 'SUCCESS', owner: 'w', now: T0 })).toBe(true);
      expect((await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000 })).map((r) => r.id)).toEqual([runs[2]!.id]);
      await storage.updateJob(job.id, { maxConcurrentRuns: 0 }, { status: ['STARTED'] }, T0);
      expect((await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000 })).map((r) => r.id)).toEqual(runs.slice(3).map((r) => r.id));
    });

    it("holds a job's limit across concurrent claimers", async () => {
      const c = ctx();
      const { job } = await jobWithRuns(c.storage, 30, { maxConcurrentRuns: 3 });
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => pick(c, i).claimRuns({ owner: `w${i}`, limit: 2, leaseMs: 30_000 })));
      const ids = claims.flat().map((r) => r.id);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      expect((await c.storage.getJob(job.id))!.counters).toMatchObject({ PENDING: 27, STARTED: 3 });
      expect(await countedFromRuns(c.storage, job.id)).toMatchObject({ PENDING: 27, STARTED: 3 });
    });

    it('hands each PENDING run to exactly one of many concurrent claimers', async () => {
      const c = ctx();
      const jobs = [await jobWithRuns(c.storage, 50), await jobWithRuns(c.storage, 50), await jobWithRuns(c.storage, 50)];
      const got: RunRecord[] = [];
      for (let round = 0; round < 10; round++) {
        const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => pick(c, i).claimRuns({ owner: `w${i}`, limit: 7, leaseMs: 30_000 })));
        got.push(...claims.flat());
        if (claims.every((x) => x.length === 0)) break;
      }
      expect(got).toHaveLength(150);
      expect(new Set(got.map((r) => r.id)).size).toBe(150);
      for (const { job } of jobs) {
        expect((await c.storage.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 50, SUCCESS: 0, FAILURE: 0, ABORTED: 0 });
      }
    });

    it('finishes a run as compare-and-set: end states are final and a second finish changes nothing', async () => {
      const c = ctx();
      const { storage } = c;
      const { job, runs } = await jobWithRuns(storage, 3);
      const [r0] = await storage.claimRuns({ owner: 'w', limit: 1, leaseMs: 30_000 });
      expect(await storage.finishRun(r0!.id, { status: 'SUCCESS', owner: 'other', now: T0 })).toBe(false);
      expect(await storage.finishRun(r0!.id, { status: 'SUCCESS', owner: null, now: T0 })).toBe(false);
      expect(await storage.finishRun(runs[1]!.id, { status: 'SUCCESS', owner: 'w', now: T0 })).toBe(false);
      expect(await storage.finishRun('no-such-run', { status: 'SUCCESS', owner: 'w', now: T0 })).toBe(false);
      expect(await storage.getRun(r0!.id)).toEqual(r0);
      const error = { code: 'STEP_FAILED', message: 'step "s1" exited 3' };
      expect(await storage.finishRun(r0!.id, { status: 'FAILURE', owner: 'w', reason: 'failed', error, now: T0 + 5 })).toBe(true);
      const ended = await storage.getRun(r0!.id);
      expect(ended).toEqual({ ...r0, status: 'FAILURE', reason: 'failed', error, finishedAt: T0 + 5, leaseOwner: null, leaseExpiresAt: null });
      expect(await storage.finishRun(r0!.id, { status: 'SUCCESS', owner: 'w', now: T0 + 6 })).toBe(false);
      expect(await storage.finishRun(r0!.id, { status: 'ABORTED', owner: null, now: T0 + 6 })).toBe(false);
      expect(await storage.getRun(r0!.id)).toEqual(ended);
      expect(await storage.finishRun(runs[1]!.id, { status: 'ABORTED', owner: null, reason: 'cancelled', now: T0 + 7 })).toBe(true);
      expect(await storage.getRun(runs[1]!.id)).toMatchObject({ status: 'ABORTED', reason: 'cancelled', finishedAt: T0 + 7, attempts: 0 });
      const [r2] = await storage.claimRuns({ owner: 'w', limit: 1, leaseMs: 30_000 });
      const racing = await Promise.all((['SUCCESS', 'FAILURE', 'ABORTED', 'SUCCESS'] as const).map((status, i) => pick(c, i).finishRun(r2!.id, { status, owner: 'w', now: T0 + 8 })));
      expect(racing.filter(Boolean)).toHaveLength(1);
      expect((await storage.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: racing[0] || racing[3] ? 1 : 0, FAILURE: racing[1] ? 2 : 1, ABORTED: racing[2] ? 2 : 1 });
      expect((await storage.getJob(job.id))!.counters).toEqual(await countedFromRuns(storage, job.id));
    });

    it('cancels runs: PENDING ones become ABORTED at once, STARTED ones are flagged for their owner', async () => {
      const { storage } = ctx();
      const { job, runs } = await jobWithRuns(storage, 5);
      const claimed = await storage.claimRuns({ owner: 'w', limit: 2, leaseMs: 30_000 });
      await storage.finishRun(claimed[0]!.id, { status: 'SUCCESS', owner: 'w', now: T0 });
      const other = await jobWithRuns(storage, 2);
      const result = await storage.cancelRuns({ jobId: job.id }, T0 + 9);
      expect([...result.aborted].sort()).toEqual(runs.slice(2).map((r) => r.id).sort());
      expect(result.flagged).toEqual([runs[1]!.id]);
      expect(await storage.getRun(runs[2]!.id)).toMatchObject({ status: 'ABORTED', reason: 'cancelled', finishedAt: T0 + 9 });
      expect(await storage.getRun(runs[1]!.id)).toMatchObject({ status: 'STARTED', cancelRequested: true, leaseOwner: 'w' });
      expect(await storage.getRun(runs[0]!.id)).toMatchObject({ status: 'SUCCESS', cancelRequested: false });
      expect((await storage.getJob(job.id))!.counters).toEqual({ PENDING: 0, STARTED: 1, SUCCESS: 1, FAILURE: 0, ABORTED: 3 });
      expect(await storage.claimRuns({ owner: 'w', limit: 10, leaseMs: 30_000, jobIds: [job.id] })).toEqual([]);
      const byIds = await storage.cancelRuns({ runIds: [other.runs[0]!.id, runs[0]!.id, 'no-such-run'] }, T0 + 10);
      expect(byIds).toEqual({ aborted: [other.runs[0]!.id], flagged: [] });
      expect((await storage.getJob(other.job.id))!.counters).toMatchObject({ PENDING: 1, ABORTED: 1 });
      expect(await storage.finishRun(runs[1]!.id, { status: 'ABORTED', owner: 'w', reason: 'cancelled', now: T0 + 11 })).toBe(true);
      expect((await storage.getJob(job.id))!.counters).toEqual(await countedFromRuns(storage, job.id));
    });

    it('heartbeats extend leases and report cancel requests and lost leases', async () => {
      const { storage } = ctx();
      const { runs } = await jobWithRuns(storage, 4);
      const claimed = await storage.claimRuns({ owner: 'w', limit: 3, leaseMs: 1_000 });
      await storage.cancelRuns({ runIds: [claimed[1]!.id] }, T0);
      await storage.finishRun(claimed[2]!.id, { status: 'SUCCESS', owner: 'w', now: T0 });
      const beat = await storage.heartbeat('w', [claimed[0]!.id, claimed[1]!.id, claimed[2]!.id, runs[3]!.id, 'no-such-run'], 600_000);
      expect(beat.cancelRequested).toEqual([claimed[1]!.id]);
      expect([...beat.lost].sort()).toEqual([claimed[2]!.id, runs[3]!.id, 'no-such-run'].sort());
      const after = await storage.getRun(claimed[0]!.id);
      expect(after!.leaseExpiresAt!).toBeGreaterThanOrEqual(claimed[0]!.leaseExpiresAt! + 500_000);
      expect(await storage.heartbeat('intruder', [claimed[0]!.id], 1)).toEqual({ cancelRequested: [], lost: [claimed[0]!.id] });
      expect(await storage.getRun(claimed[0]!.id)).toEqual(after);
      expect(await storage.heartbeat('w', [], 1_000)).toEqual({ cancelRequested: [], lost: [] });
    });

    it('records process info only for the lease owner', async () => {
      const { storage } = ctx();
      await jobWithRuns(storage, 1);
      const [run] = await storage.claimRuns({ owner: 'w', limit: 1, leaseMs: 30_000 });
      await storage.setProcessInfo(run!.id, 'w', { pgid: 1234, host: 'h', steps: [{ pid: 1 }] });
      await storage.setProcessInfo(run!.id, 'intruder', { pgid: 1 });
      expect((await storage.getRun(run!.id))!.processInfo).toEqual({ pgid: 1234, host: 'h', steps: [{ pid: 1 }] });
    });
  });
}
