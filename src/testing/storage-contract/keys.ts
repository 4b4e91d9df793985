import { describe, expect, it } from 'vitest';
import type { ContractContext } from './fixtures.js';
import { makeJob } from './fixtures.js';

/** Idempotent creation: a job's key is unique in the store, across its connections and processes. */
export function keysContract(ctx: () => ContractContext): void {
  describe('job keys', () => {
    it('insertJob with a key another job holds stores nothing and resolves that job', async () => {
      const { storage } = ctx();
      const first = makeJob({ key: 'order-42', specFingerprint: 'f1' });
      expect(await storage.insertJob(first), 'rule: insertJob resolves the stored record').toMatchObject({ id: first.id, key: 'order-42', specFingerprint: 'f1' });
      const second = makeJob({ key: 'order-42', specFingerprint: 'f2', name: 'another' });
      const held = await storage.insertJob(second);
      expect(held.id, 'rule: a key names one job: the holder is resolved, the new record not stored').toBe(first.id);
      expect(held.specFingerprint, 'rule: the holder comes back as stored').toBe('f1');
      expect(await storage.getJob(second.id), 'rule: nothing is stored for the second key').toBeUndefined();
      expect((await storage.listJobs({ key: 'order-42' })).items.map((j) => j.id), 'rule: listJobs({ key }) finds the holder').toEqual([first.id]);
      expect((await storage.listJobs({ key: 'order-43' })).items, 'rule: listJobs({ key }) of a free key is empty').toEqual([]);
    });

    it('jobs without a key never conflict, and the key survives updates', async () => {
      const { storage } = ctx();
      const a = makeJob();
      const b = makeJob();
      expect((await storage.insertJob(a)).id).toBe(a.id);
      expect((await storage.insertJob(b)).id, 'rule: key null is not a key').toBe(b.id);
      const keyed = makeJob({ key: 'k-update', specFingerprint: 'f' });
      await storage.insertJob(keyed);
      await storage.updateJob(keyed.id, { name: 'renamed' }, { status: ['STARTED'] }, keyed.createdAt + 1);
      expect(await storage.getJob(keyed.id), 'rule: an update keeps key and fingerprint').toMatchObject({ name: 'renamed', key: 'k-update', specFingerprint: 'f' });
    });

    it('a deleted job frees its key', async () => {
      const { storage } = ctx();
      const first = makeJob({ key: 'k-free', specFingerprint: 'f1' });
      await storage.insertJob(first);
      await storage.deleteJob(first.id);
      const again = makeJob({ key: 'k-free', specFingerprint: 'f2' });
      expect((await storage.insertJob(again)).id, 'rule: the key of a deleted job is free').toBe(again.id);
    });

    it('concurrent inserts with one key, over every connection, store exactly one job', async () => {
      const { storage, all } = ctx();
      const records = Array.from({ length: 8 }, (_, i) => makeJob({ key: 'k-race', specFingerprint: `f${i}` }));
      const results = await Promise.all(records.map((r, i) => all[i % all.length]!.insertJob(r)));
      const ids = new Set(results.map((r) => r.id));
      expect(ids.size, 'rule: every racer resolves the same job').toBe(1);
      expect(records.map((r) => r.id), 'rule: the holder is one of the racers').toContain([...ids][0]);
      expect((await storage.listJobs({ key: 'k-race' })).items, 'rule: one job holds the key').toHaveLength(1);
    });
  });
}
