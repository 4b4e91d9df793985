/**
 * Group commit in the SQLite adapter (issue 12): the per-run writes of a busy scheduler (a
 * run's end, its step states) made in one burst share one write transaction, and each call
 * still gets its own answer after that transaction committed; a call that fails is rolled
 * back alone (its savepoint), and close writes what was already asked for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Db } from '../../src/storage/sqlite/db.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import type { StepStateRecord } from '../../src/storage/records.js';
import { T0, jobWithRuns } from '../../src/testing/storage-contract/fixtures.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pj-sqlite-group-'));
  file = path.join(dir, 'jobs.sqlite');
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function opened(): Promise<SqliteStorage> {
  const s = new SqliteStorage({ path: file });
  await s.init();
  return s;
}

function steps(runId: string, n: number, tag = ''): StepStateRecord[] {
  return Array.from({ length: n }, (_, i) => ({ runId, stepId: `s${i}${tag}`, status: 'SUCCESS' as const, startedAt: i, finishedAt: i + 1, attempts: 1, exitCode: 0, error: null }));
}

describe('SqliteStorage group commit', () => {
  it('ends the runs of one burst in one write transaction, each call answered for its own run', async () => {
    const s = await opened();
    const { job } = await jobWithRuns(s, 8);
    const claimed = await s.claimRuns({ owner: 'w', limit: 8, leaseMs: 60_000 });
    const writes = vi.spyOn(Db.prototype, 'write');
    const answers = await Promise.all([
      ...claimed.slice(0, 6).map((r) => s.finishRun(r.id, { status: 'SUCCESS', owner: 'w', now: T0 })),
      s.finishRun(claimed[0]!.id, { status: 'FAILURE', owner: 'w', now: T0 }), // already ended in this burst
      s.finishRun(claimed[6]!.id, { status: 'SUCCESS', owner: 'someone-else', now: T0 }), // not its lease
    ]);
    expect(writes).toHaveBeenCalledTimes(1);
    expect(answers).toEqual([true, true, true, true, true, true, false, false]);
    expect((await s.getJob(job.id))!.counters).toMatchObject({ STARTED: 2, SUCCESS: 6, FAILURE: 0 });
    expect((await s.getRun(claimed[0]!.id))!.status).toBe('SUCCESS');
    expect((await s.getRun(claimed[6]!.id))!.status).toBe('STARTED');
    await s.close();
  });

  it('a call that throws is rolled back alone and rejects with a typed error; the others in its burst are written', async () => {
    const s = await opened();
    const { runs } = await jobWithRuns(s, 2);
    const [a, b] = [runs[0]!.id, runs[1]!.id];
    await s.putStepStates(a, steps(a, 2));
    const claimed = await s.claimRuns({ owner: 'w', limit: 2, leaseMs: 60_000 });
    // A value JSON cannot hold: the write of `a`'s new steps throws after deleting the old ones.
    const broken: StepStateRecord[] = [{ ...steps(a, 1, 'x')[0]!, error: { code: 'X', message: 'm', n: 1n } as never }];
    const results = await Promise.allSettled([s.putStepStates(a, broken), s.putStepStates(b, steps(b, 3)), s.finishRun(claimed[1]!.id, { status: 'SUCCESS', owner: 'w', now: T0 })]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { name: 'StorageError', code: 'STORAGE_FAILED' } });
    expect(results.slice(1)).toEqual([{ status: 'fulfilled', value: undefined }, { status: 'fulfilled', value: true }]);
    expect(await s.getStepStates(a)).toEqual(steps(a, 2));
    expect(await s.getStepStates(b)).toEqual(steps(b, 3));
    await s.close();
  });

  it('close writes the ends already asked for', async () => {
    const s = await opened();
    const { job } = await jobWithRuns(s, 3);
    const claimed = await s.claimRuns({ owner: 'w', limit: 3, leaseMs: 60_000 });
    const pending = claimed.map((r) => s.finishRun(r.id, { status: 'SUCCESS', owner: 'w', now: T0 }));
    const put = s.putStepStates(claimed[0]!.id, steps(claimed[0]!.id, 1));
    await s.close();
    expect(await Promise.all(pending)).toEqual([true, true, true]);
    await put;
    const again = await opened();
    expect((await again.getJob(job.id))!.counters).toMatchObject({ STARTED: 0, SUCCESS: 3 });
    expect(await again.getStepStates(claimed[0]!.id)).toEqual(steps(claimed[0]!.id, 1));
    await again.close();
  });

  it('rejects calls made after close, writing nothing', async () => {
    const s = await opened();
    await jobWithRuns(s, 1);
    await s.close();
    await expect(s.finishRun('x', { status: 'SUCCESS', owner: 'w', now: T0 })).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
    await expect(s.putStepStates('x', [])).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
  });
});
