import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePipeline } from '../../src/pipeline/index.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';

/**
 * The reads a run costs the store (on PostgreSQL each is a round trip): the job once to run
 * it, once after its end (retention, a buffered occurrence, the job's end), each shared
 * with the runs that start or end in the same turn; a `queue` job reads it once more
 * under its lock, for its buffered occurrence. A run's end
 * re-reads the runs someone waits for, not the jobs (a job ends with its own event), and
 * the job's end is checked without a read of its own while runs are still unfinished (the
 * last run to end does it). Before, a run cost about five reads of its job. What a run
 * needs of its batch never changes, so a batch is read once for the runs of it that this
 * process executes, not once a run.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A started scheduler (concurrency 4, in-process no-op steps) on `storage`, and the spec of a job of `runs` runs. */
async function started(storage: MemoryStorage, runs: number) {
  const workRoot = mkdtempSync(path.join(tmpdir(), 'pj-reads-'));
  cleanups.push(() => rmSync(workRoot, { recursive: true, force: true }));
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined } }), logStore: new MemoryLogStore(), workRoot });
  const scheduler = new JobScheduler({ storage, executor, concurrency: 4 });
  await scheduler.start();
  cleanups.push(() => scheduler.stop());
  const pipeline = definePipeline({ name: 'p', parameters: { x: 0 }, steps: [{ uuid: 'a' }] });
  const spec = { name: 'reads', pipeline, parameters: { from: 'spec' as const, spec: { pipeline_parameters: { x: Array.from({ length: runs }, (_, i) => i) } } } };
  return { scheduler, spec };
}

describe('store reads per run', () => {
  it('a 40-run job waited for with waitForJob: fewer reads of the job than runs (was five a run), and it still ends', async () => {
    const RUNS = 40;
    const storage = new MemoryStorage();
    let jobReads = 0;
    let batchReads = 0;
    const getJob = storage.getJob.bind(storage);
    storage.getJob = (id) => {
      jobReads++;
      return getJob(id);
    };
    const getBatch = storage.getBatch.bind(storage);
    storage.getBatch = (id, index) => {
      batchReads++;
      return getBatch(id, index);
    };
    const { scheduler, spec } = await started(storage, RUNS);
    const job = await scheduler.createJob({ ...spec, draft: true });
    const ended = scheduler.waitForJob(job.id);
    jobReads = 0;
    await scheduler.confirmJob(job.id);
    expect((await ended).status).toBe('SUCCESS');
    // handleRun + #afterRun per run (no buffered occurrence to look for: not a `queue` job),
    // plus the confirm, the batch and the last runs' end checks. Runs that start together
    // share one read of the job, and so do runs that end together (39 here for 40 runs; 96
    // before reads were shared, 210 before that: about five a run).
    expect(jobReads).toBeLessThanOrEqual(1.5 * RUNS);
    // The batch is read once for all its runs (it was once a run).
    expect(batchReads).toBeLessThanOrEqual(2);
  });

  it("a run's end goes with the next claim (finishAndClaim): no write of its own, and ends that come together share one call", async () => {
    const RUNS = 40;
    const storage = new MemoryStorage();
    const calls = { finishRun: 0, claimRuns: 0, finishAndClaim: 0, ends: 0 };
    const finishRun = storage.finishRun.bind(storage);
    const claimRuns = storage.claimRuns.bind(storage);
    const finishAndClaim = storage.finishAndClaim.bind(storage);
    storage.finishRun = (...a) => (calls.finishRun++, finishRun(...a));
    storage.claimRuns = (...a) => (calls.claimRuns++, claimRuns(...a));
    storage.finishAndClaim = (ends, claim) => (calls.finishAndClaim++, (calls.ends += ends.length), finishAndClaim(ends, claim));
    const { scheduler, spec } = await started(storage, RUNS);
    const finished: string[] = [];
    scheduler.on('run:finished', (e) => void finished.push(e.runId));
    const job = await scheduler.createJob(spec);
    expect((await scheduler.waitForJob(job.id)).counters).toMatchObject({ SUCCESS: RUNS, STARTED: 0, PENDING: 0 });
    expect(new Set(finished).size).toBe(RUNS);
    expect(calls.finishRun).toBe(0);
    expect(calls.ends).toBe(RUNS);
    // Four slots whose no-op runs end in one burst: their ends share a call (and its claim).
    expect(calls.finishAndClaim).toBeLessThanOrEqual(RUNS / 2);
    expect(calls.finishAndClaim + calls.claimRuns).toBeLessThan(RUNS);
  });
});
