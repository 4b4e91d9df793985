import { describe, expect, it } from 'vitest';
import { BatchCache } from '../../src/scheduler/batch-cache.js';
import type { BatchRecord } from '../../src/storage/records.js';

const batch = (jobId: string, batchIndex: number): BatchRecord => ({ jobId, batchIndex }) as BatchRecord;

describe('BatchCache', () => {
  it('reads a batch once for every run of it, and runs starting together share the read', async () => {
    const cache = new BatchCache(4);
    let reads = 0;
    const read = async (): Promise<BatchRecord> => (reads++, batch('j', 0));
    const together = await Promise.all([cache.get('j', 0, read), cache.get('j', 0, read), cache.get('j', 0, read)]);
    expect(reads).toBe(1);
    expect(together[0]).toBe(together[2]);
    expect(await cache.get('j', 0, read)).toBe(together[0]);
    expect(reads).toBe(1);
  });

  it('keeps the last `size` batches used, dropping the least recently used', async () => {
    const cache = new BatchCache(2);
    const reads: string[] = [];
    const read = (j: string, i: number) => async (): Promise<BatchRecord> => (reads.push(`${j}#${i}`), batch(j, i));
    await cache.get('a', 0, read('a', 0));
    await cache.get('b', 0, read('b', 0));
    await cache.get('a', 0, read('a', 0)); // a used again: b is the oldest now
    await cache.get('c', 0, read('c', 0)); // drops b
    await cache.get('a', 0, read('a', 0));
    await cache.get('b', 0, read('b', 0));
    expect(reads).toEqual(['a#0', 'b#0', 'c#0', 'b#0']);
  });

  it('keeps neither a failed read nor a batch that was not found, and forgets a deleted job', async () => {
    const cache = new BatchCache();
    const boom = new Error('store away');
    await expect(cache.get('j', 0, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(await cache.get('j', 0, async () => undefined)).toBeUndefined();
    let reads = 0;
    const read = async (): Promise<BatchRecord> => (reads++, batch('j', 0));
    await cache.get('j', 0, read);
    await cache.get('j', 1, read);
    await cache.get('k', 0, read);
    expect(reads).toBe(3);
    cache.forget('j');
    await cache.get('j', 0, read);
    await cache.get('j', 1, read);
    await cache.get('k', 0, read);
    expect(reads).toBe(5);
  });
});
