import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { SharedJobReads } from '../../src/scheduler/job-reads.js';
import type { Storage } from '../../src/storage/port.js';
import type { JobRecord, RunRecord } from '../../src/storage/records.js';

/** A store whose getJob answers the job's current version, counting reads. */
function store(): { storage: Storage; reads: () => number; bump: () => void; fail: (e: Error | undefined) => void } {
  let version = 1;
  let reads = 0;
  let failing: Error | undefined;
  const storage = {
    getJob: async (id: string) => {
      reads++;
      if (failing) throw failing;
      return { id, version } as JobRecord;
    },
  } as unknown as Storage;
  return { storage, reads: () => reads, bump: () => void version++, fail: (e) => void (failing = e) };
}

describe('SharedJobReads', () => {
  it('reads asked for in one turn share one store read, made after the turn', async () => {
    const s = store();
    const reads = new SharedJobReads(s.storage, new SystemClock());
    const a = reads.get('j');
    const b = reads.get('j');
    const other = reads.get('k');
    // Nothing is read while the turn goes on: a change made in it is seen by the read.
    expect(s.reads()).toBe(0);
    s.bump();
    const [ja, jb, jk] = await Promise.all([a, b, other]);
    expect(s.reads()).toBe(2);
    expect(ja).toBe(jb);
    expect(ja!.version).toBe(2);
    expect(jk!.id).toBe('k');
  });

  it('a caller after the read started gets a read of its own, as fresh as it asked', async () => {
    const s = store();
    const reads = new SharedJobReads(s.storage, new SystemClock());
    const first = await reads.get('j');
    s.bump();
    const second = await reads.get('j');
    expect(s.reads()).toBe(2);
    expect([first!.version, second!.version]).toEqual([1, 2]);
  });

  it('a run about to start uses a read of its job started after its claim, and never one started before', async () => {
    const s = store();
    const reads = new SharedJobReads(s.storage, new SystemClock());
    const early = { jobId: 'j' } as RunRecord;
    const late = { jobId: 'j' } as RunRecord;
    const unknown = { jobId: 'j' } as RunRecord;
    reads.claimed([early]);
    const after = await reads.get('j'); // e.g. the read after the runs that freed the slots ended
    reads.claimed([late]);
    expect(await reads.forRun(early)).toBe(after);
    expect(s.reads()).toBe(1);
    s.bump();
    const own = await reads.forRun(late);
    expect(own).not.toBe(after);
    expect(own!.version).toBe(2);
    expect((await reads.forRun(unknown))!.version).toBe(2);
    expect(s.reads()).toBe(3);
  });

  it('a failed read fails each of its callers, and the next caller reads again', async () => {
    const s = store();
    const reads = new SharedJobReads(s.storage, new SystemClock());
    const boom = new Error('store away');
    s.fail(boom);
    const results = await Promise.allSettled([reads.get('j'), reads.get('j')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(s.reads()).toBe(1);
    s.fail(undefined);
    expect((await reads.get('j'))!.version).toBe(1);
    expect(s.reads()).toBe(2);
  });
});
