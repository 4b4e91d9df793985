import { describe, expect, it } from 'vitest';
import { snapshotInUse } from '../../src/scheduler/snapshot-refs.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { JobFilter, Storage } from '../../src/storage/port.js';
import { T0, makeJob } from '../../src/testing/storage-contract/fixtures.js';

/** A store that predates the `snapshotId` filter: it lists every job, and counts its reads. */
function unfiltered(storage: MemoryStorage): { storage: Storage; reads: () => number } {
  let reads = 0;
  const listJobs = storage.listJobs.bind(storage);
  const wrapped = Object.create(storage) as Storage;
  wrapped.listJobs = (filter: JobFilter = {}) => {
    reads++;
    const { snapshotId: _ignored, ...rest } = filter;
    return listJobs(rest);
  };
  return { storage: wrapped, reads: () => reads };
}

describe('snapshotInUse (deleteJob keeps a snapshot another job runs)', () => {
  it('asks the store for one job of the snapshot, not for every job', async () => {
    const storage = new MemoryStorage();
    for (let i = 0; i < 20; i++) await storage.insertJob(makeJob({ createdAt: T0 + i, snapshotId: `s${i % 4}` }));
    let pages = 0;
    const listJobs = storage.listJobs.bind(storage);
    storage.listJobs = (filter) => {
      pages++;
      expect(filter).toMatchObject({ limit: 1 });
      return listJobs(filter);
    };
    expect(await snapshotInUse(storage, 's3')).toBe(true);
    expect(await snapshotInUse(storage, 'unused')).toBe(false);
    expect(pages).toBe(2);
  });

  it('stays right with a store that ignores the filter: it reads every page then', async () => {
    const memory = new MemoryStorage();
    for (let i = 0; i < 1_200; i++) await memory.insertJob(makeJob({ createdAt: T0 + i, snapshotId: i === 0 ? 'oldest' : `s${i}` }));
    const { storage, reads } = unfiltered(memory);
    expect(await snapshotInUse(storage, 'oldest')).toBe(true); // on the last page
    expect(reads()).toBe(1 + 3);
    expect(await snapshotInUse(storage, 's1199')).toBe(true); // the newest: the first answer already shows it
    expect(await snapshotInUse(storage, 'unused')).toBe(false);
  });
});
