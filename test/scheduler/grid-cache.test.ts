import { describe, expect, it } from 'vitest';
import { GridCache } from '../../src/scheduler/context.js';
import { deepFreeze } from '../../src/storage/shared/freeze.js';
import { makeJob } from '../../src/testing/storage-contract/fixtures.js';

describe('GridCache', () => {
  it('keeps a parsed grid across versions while the job shares the same frozen grid and selection', () => {
    const cache = new GridCache(100_000);
    const v1 = deepFreeze(makeJob({ version: 1 }));
    const first = cache.get(v1);
    // A counter or status change: a new version, the same frozen parts (as MemoryStorage hands them out).
    const v2 = deepFreeze({ ...v1, version: 2, counters: { ...v1.counters, PENDING: 3 } });
    expect(cache.get(v2).grid).toBe(first.grid);
    expect(cache.get(v2).selection).toBe(first.selection);
  });

  it('parses again when the grid is another object at another version, or is not frozen', () => {
    const cache = new GridCache(100_000);
    const v1 = deepFreeze(makeJob({ version: 1 }));
    const first = cache.get(v1);
    const edited = deepFreeze({ ...v1, version: 2, grid: { ...v1.grid, dimensions: [{ scope: 'pipeline' as const, key: 'zeta', values: [9] }] } });
    const second = cache.get(edited);
    expect(second.grid).not.toBe(first.grid);
    expect(second.grid.size).toBe(1);
    // Not frozen: the same object may have been changed in place, so only the version counts.
    const open = makeJob({ version: 1 });
    const third = cache.get(open);
    expect(cache.get({ ...open, version: 2 }).grid).not.toBe(third.grid);
    expect(cache.get({ ...open, version: 2 }).grid).toBe(cache.get({ ...open, version: 2 }).grid);
  });

  it("parses a batch's grid once when the batch records its job's frozen grid object; a copy or an open object is parsed", () => {
    const cache = new GridCache(100_000);
    const job = deepFreeze(makeJob({ version: 1 }));
    const batch = { grid: job.grid, selection: job.selection } as Parameters<GridCache['ofBatch']>[0];
    expect(cache.ofBatch(batch).grid).toBe(cache.get(job).grid);
    expect(cache.ofBatch(batch).grid).toBe(cache.ofBatch(batch).grid);
    // The same definition as another object (a store that parsed it again): parsed again, equal.
    const copy = { ...batch, grid: deepFreeze(structuredClone(job.grid)) };
    expect(cache.ofBatch(copy).grid).not.toBe(cache.get(job).grid);
    expect(cache.ofBatch(copy).grid.size).toBe(cache.get(job).grid.size);
    // Not frozen: never kept by object.
    const open = { ...batch, grid: structuredClone(job.grid) };
    expect(cache.ofBatch(open).grid).not.toBe(cache.ofBatch(open).grid);
  });
});
