import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../storage/records.js';
import type { ContractContext } from './fixtures.js';
import { T0, addBatch, jobWithRuns, makeJob, rejection } from './fixtures.js';

/** Jobs: insert, get, list, compare-and-set updates, delete. */
export function jobsContract(ctx: () => ContractContext): void {
  describe('jobs', () => {
    it('stores a job exactly as given, key order of JSON fields included', async () => {
      const { storage } = ctx();
      const job = makeJob({ scheduleCursor: T0 - 5, maxConcurrentRuns: 4, finishedAt: null });
      await storage.insertJob(job);
      const got = await storage.getJob(job.id);
      expect(got).toEqual(job);
      expect(JSON.stringify(got!.pipeline)).toBe(JSON.stringify(job.pipeline));
      expect(Object.keys(got!.pipeline.source)).toEqual(['version', 'zeta_first', 'aaa_second', 'steps']);
      expect(await storage.getJob('no-such-job')).toBeUndefined();
    });

    it('refuses a duplicate id with STORAGE_DUPLICATE_ID and keeps the first job', async () => {
      const { storage } = ctx();
      const job = makeJob();
      await storage.insertJob(job);
      const err = await rejection(storage.insertJob({ ...job, name: 'other' }));
      expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_DUPLICATE_ID' });
      expect(await storage.getJob(job.id)).toEqual(job);
    });

    it('hands out copies or frozen records: changing a returned or given record changes nothing stored', async () => {
      const { storage } = ctx();
      const job = makeJob();
      const given = structuredClone(job) as { -readonly [K in keyof JobRecord]: JobRecord[K] };
      await storage.insertJob(given);
      given.name = 'changed after insert';
      (given.envVars as Record<string, string>).A = 'changed';
      // A store may hand out frozen records (no copy per read): a change then throws a TypeError.
      const change = (what: string, fn: () => void): void => {
        try {
          fn();
        } catch (error) {
          expect(error, `rule: ${what}: a frozen record refuses changes with a TypeError`).toBeInstanceOf(TypeError);
        }
      };
      const got = (await storage.getJob(job.id)) as { name: string; envVars: Record<string, string> };
      change('getJob', () => (got.name = 'changed'));
      change('getJob (nested)', () => (got.envVars.A = 'changed'));
      const listed = (await storage.listJobs()).items.find((j) => j.id === job.id) as { envVars: Record<string, string> };
      change('listJobs', () => (listed.envVars.B = 'changed'));
      expect(await storage.getJob(job.id), 'rule: the stored record is as inserted').toEqual(job);
    });

    it('lists jobs newest first, filtered by project and status, page by page', async () => {
      const { storage } = ctx();
      const jobs = Array.from({ length: 7 }, (_, i) =>
        makeJob({ createdAt: T0 + i * 1000, projectId: i % 2 === 0 ? 'p-even' : 'p-odd', status: i < 3 ? 'STARTED' : 'PAUSED' }),
      );
      for (const j of jobs) await storage.insertJob(j);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await storage.listJobs({ limit: 3, cursor });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((j) => j.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual([...jobs].reverse().map((j) => j.id));
      const even = await storage.listJobs({ projectId: 'p-even' });
      expect(even.items.map((j) => j.id)).toEqual([jobs[6]!, jobs[4]!, jobs[2]!, jobs[0]!].map((j) => j.id));
      const evenStarted = await storage.listJobs({ projectId: 'p-even', status: ['STARTED'] });
      expect(evenStarted.items.map((j) => j.id)).toEqual([jobs[2]!.id, jobs[0]!.id]);
      expect(evenStarted.nextCursor).toBeNull();
      expect((await storage.listJobs({ projectId: 'nobody' })).items).toEqual([]);
    });

    it('lists the jobs that run one snapshot', async () => {
      const { storage } = ctx();
      const shared = [makeJob({ createdAt: T0, snapshotId: 'snap-shared' }), makeJob({ createdAt: T0 + 1, snapshotId: 'snap-shared' })];
      const alone = makeJob({ createdAt: T0 + 2, snapshotId: 'snap-alone' });
      for (const j of [...shared, alone, makeJob({ createdAt: T0 + 3, snapshotId: null })]) await storage.insertJob(j);
      expect((await storage.listJobs({ snapshotId: 'snap-shared' })).items.map((j) => j.id), 'rule: listJobs({ snapshotId }) lists exactly the jobs of that snapshot').toEqual([shared[1]!.id, shared[0]!.id]);
      expect((await storage.listJobs({ snapshotId: 'snap-alone', limit: 1 })).items.map((j) => j.id)).toEqual([alone.id]);
      expect((await storage.listJobs({ snapshotId: 'snap-none' })).items, 'rule: listJobs({ snapshotId }) of an unused snapshot is empty').toEqual([]);
    });

    it('continues a job listing after the cursor job was deleted', async () => {
      const { storage } = ctx();
      const jobs = Array.from({ length: 5 }, (_, i) => makeJob({ createdAt: T0 + i, projectId: 'p-del' }));
      for (const j of jobs) await storage.insertJob(j);
      const first = await storage.listJobs({ projectId: 'p-del', limit: 2 });
      expect(first.items.map((j) => j.id)).toEqual([jobs[4]!.id, jobs[3]!.id]);
      await storage.deleteJob(jobs[3]!.id);
      const second = await storage.listJobs({ projectId: 'p-del', limit: 2, cursor: first.nextCursor });
      expect(second.items.map((j) => j.id)).toEqual([jobs[2]!.id, jobs[1]!.id]);
    });

    it('refuses a malformed cursor with STORAGE_INVALID_CURSOR', async () => {
      const { storage } = ctx();
      expect(await rejection(storage.listJobs({ cursor: '{not a cursor' }))).toMatchObject({ code: 'STORAGE_INVALID_CURSOR' });
    });

    it('lists job ids by status', async () => {
      const { storage } = ctx();
      const a = makeJob({ status: 'STARTED' });
      const b = makeJob({ status: 'PAUSED' });
      const c = makeJob({ status: 'SUCCESS' });
      for (const j of [a, b, c]) await storage.insertJob(j);
      expect((await storage.listJobIds(['STARTED', 'PAUSED'])).sort()).toEqual([a.id, b.id].sort());
      expect(await storage.listJobIds(['DRAFT'])).toEqual([]);
    });

    it('updates as compare-and-set on status and version, and bumps the version', async () => {
      const { storage } = ctx();
      const job = makeJob({ status: 'STARTED', version: 1 });
      await storage.insertJob(job);
      expect(await storage.updateJob(job.id, { name: 'x' }, { status: ['PAUSED'] }, T0 + 1)).toBeUndefined();
      expect(await storage.updateJob(job.id, { name: 'x' }, { status: ['STARTED'], version: 7 }, T0 + 1)).toBeUndefined();
      expect(await storage.updateJob('no-such-job', { name: 'x' }, { status: ['STARTED'] }, T0 + 1)).toBeUndefined();
      expect(await storage.getJob(job.id)).toEqual(job);
      const next = await storage.updateJob(job.id, { name: 'renamed', status: 'PAUSED', scheduleCursor: T0 + 60_000, options: { onInterrupted: 'rerun' }, envVars: { Z: 'z' }, bufferedOccurrence: T0 + 30_000 }, { status: ['STARTED', 'PENDING'], version: 1 }, T0 + 2);
      expect(next).toEqual({ ...job, name: 'renamed', status: 'PAUSED', scheduleCursor: T0 + 60_000, options: { onInterrupted: 'rerun' }, envVars: { Z: 'z' }, bufferedOccurrence: T0 + 30_000, version: 2, updatedAt: T0 + 2 });
      expect(await storage.getJob(job.id)).toEqual(next);
      const cleared = await storage.updateJob(job.id, { scheduleCursor: null, name: undefined }, { status: ['PAUSED'] }, T0 + 3);
      expect(cleared).toMatchObject({ scheduleCursor: null, name: 'renamed', version: 3 });
    });

    it('never leaves an end state, and one of several racing end-state updates wins', async () => {
      const { storage, all } = ctx();
      const job = makeJob({ status: 'STARTED' });
      await storage.insertJob(job);
      const ends = ['SUCCESS', 'FAILURE', 'ABORTED'] as const;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => all[i % all.length]!.updateJob(job.id, { status: ends[i % 3]!, finishedAt: T0 + i }, { status: ['STARTED'] }, T0 + i)),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      const final = await storage.getJob(job.id);
      expect(final).toEqual(winners[0]);
      expect(await storage.updateJob(job.id, { status: 'STARTED' }, { status: [final!.status] }, T0 + 50)).toBeUndefined();
      expect(await storage.getJob(job.id)).toEqual(final);
    });

    it('deletes a job with its batches, runs, step states and ledger, and nothing else', async () => {
      const { storage } = ctx();
      const { job, runs } = await jobWithRuns(storage, 4);
      const more = await addBatch(storage, job.id, 2);
      await storage.recordSkips(job.id, [{ at: T0, reason: 'paused' }]);
      await storage.putStepStates(runs[0]!.id, [{ runId: runs[0]!.id, stepId: 's1', status: 'PENDING', startedAt: null, finishedAt: null, attempts: 0, exitCode: null, error: null }]);
      const other = await jobWithRuns(storage, 2);
      const deleted = await storage.deleteJob(job.id);
      expect([...deleted].sort()).toEqual([...runs, ...more].map((r) => r.id).sort());
      expect(await storage.getJob(job.id)).toBeUndefined();
      expect(await storage.getRun(runs[0]!.id)).toBeUndefined();
      expect(await storage.getStepStates(runs[0]!.id)).toEqual([]);
      expect(await storage.getBatch(job.id, 0)).toBeUndefined();
      expect((await storage.listRuns(job.id)).items).toEqual([]);
      expect((await storage.listOccurrences(job.id)).items).toEqual([]);
      expect(await storage.deleteJob(job.id)).toEqual([]);
      expect((await storage.listRuns(other.job.id)).items).toHaveLength(2);
      expect(await storage.getJob(other.job.id)).toMatchObject({ counters: { PENDING: 2 } });
    });
  });
}
