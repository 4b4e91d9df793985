import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor, type StepFunction } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { gate, makeProject, tempDir, until } from '../scheduler/harness.js';
import { Outage } from './outage.js';

/** A scheduler on a FakeClock over a MemoryStorage that an {@link Outage} can take away. */
async function stack(functions: Record<string, StepFunction>) {
  const clock = new FakeClock('2026-03-01T00:00:00Z');
  const root = tempDir('pj-faults-');
  const store = new MemoryStorage({ clock });
  const outage = new Outage();
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs'), clock });
  const scheduler = new JobScheduler({
    storage: outage.wrap(store), snapshots: new SnapshotStore({ root: path.join(root, 'snapshots'), clock }), executor, clock,
    concurrency: 4, keepAlive: false, leaseMs: 30_000, heartbeatMs: 5_000, pollMs: 2_000,
  });
  const finished: string[] = [];
  scheduler.on('run:finished', (e) => finished.push(`${e.runId} ${e.status} ${e.reason ?? ''}`));
  const errors: string[] = [];
  scheduler.on('scheduler:error', (e) => errors.push(e.during));
  await scheduler.start();
  const projectDir = makeProject({ steps: { a: [] }, pipelineParameters: { x: 0 }, parametersFile: '{"pipeline_parameters": {"x": [1, 2]}}' });
  /** Advances the fake clock a second at a time (letting real I/O settle) until `done()`. */
  const advanceUntil = async (done: () => Promise<boolean>, what: string): Promise<void> => {
    for (let i = 0; i < 120 && !(await done()); i++) {
      await clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until(done, what, 5_000);
  };
  return { clock, store, outage, scheduler, finished, errors, projectDir, advanceUntil };
}

describe('a store that goes away while runs end', () => {
  it('writes the runs’ real ends once it is back: a success never becomes a failure or `interrupted`', async () => {
    const hold = gate();
    const executions = new Map<string, number>();
    const s = await stack({
      a: async ({ runId }) => {
        executions.set(runId, (executions.get(runId) ?? 0) + 1);
        await hold.promise;
      },
    });
    const job = await s.scheduler.createJob({ name: 'j', projectDir: s.projectDir, pipeline: 'main.orchest' });
    await until(() => executions.size === 2, 'both runs to start');
    s.outage.down.add('*');
    hold.open();
    // Ten seconds without a store (a third of the lease): every write fails and is retried.
    await until(() => (s.outage.failed.get('finishRun') ?? 0) + (s.outage.failed.get('putStepStates') ?? 0) >= 2, 'the ends to be tried');
    for (let i = 0; i < 10; i++) await s.clock.advance(1_000);
    expect(s.finished).toEqual([]);
    s.outage.down.clear();
    await s.advanceUntil(async () => (await s.store.getJob(job.id))!.status === 'SUCCESS', 'the job to end');
    const runs = (await s.store.listRuns(job.id)).items;
    expect(runs.map((r) => [r.status, r.reason ?? null])).toEqual([['SUCCESS', null], ['SUCCESS', null]]);
    expect([...executions.values()]).toEqual([1, 1]);
    expect(s.finished.sort()).toEqual(runs.map((r) => `${r.id} SUCCESS `).sort());
    for (const r of runs) expect((await s.store.getStepStates(r.id)).map((st) => st.status)).toEqual(['SUCCESS']);
    expect(s.errors.some((d) => d.includes('(will retry)'))).toBe(true);
    await s.scheduler.stop();
  });

  it('a claimed run whose job cannot be read yet is prepared again, not failed: its step runs once, when the store is back', async () => {
    const executions = new Map<string, number>();
    const s = await stack({ a: ({ runId }) => void executions.set(runId, (executions.get(runId) ?? 0) + 1) });
    const job = await s.scheduler.createJob({ name: 'j', projectDir: s.projectDir, pipeline: 'main.orchest', draft: true });
    s.outage.down.add('getBatch');
    await s.scheduler.confirmJob(job.id);
    // The two runs start together and share one read of their batch: both preparations fail.
    await until(() => s.errors.filter((d) => d.startsWith('preparing run')).length >= 2, 'both runs to be claimed and their preparation to fail');
    expect(s.outage.failed.get('getBatch')).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) await s.clock.advance(1_000);
    expect(executions.size).toBe(0);
    expect((await s.store.getJob(job.id))!.counters).toMatchObject({ FAILURE: 0, SUCCESS: 0 });
    s.outage.down.clear();
    await s.advanceUntil(async () => (await s.store.getJob(job.id))!.status === 'SUCCESS', 'the job to end');
    expect((await s.store.listRuns(job.id)).items.map((r) => [r.status, r.attempts])).toEqual([['SUCCESS', 1], ['SUCCESS', 1]]);
    expect([...executions.values()]).toEqual([1, 1]);
    await s.scheduler.stop();
  });

  it('a stop while the store is still away gives up after its timeout instead of hanging', async () => {
    const executions = new Map<string, number>();
    const s = await stack({ a: ({ runId }) => void executions.set(runId, (executions.get(runId) ?? 0) + 1) });
    const job = await s.scheduler.createJob({ name: 'j', projectDir: s.projectDir, pipeline: 'main.orchest', draft: true });
    // Both ways of writing an end: with the next claim, and alone.
    s.outage.down.add('finishAndClaim');
    s.outage.down.add('finishRun');
    await s.scheduler.confirmJob(job.id);
    await until(() => (s.outage.failed.get('finishRun') ?? 0) >= 2, 'both ends to be tried');
    const stopped = s.scheduler.stop({ timeoutMs: 3_000 });
    let done = false;
    void stopped.then(() => (done = true));
    await s.advanceUntil(async () => done, 'stop() to resolve');
    // Not written: the runs end as runs of a dead process do, when their lease expires.
    expect((await s.store.listRuns(job.id)).items.map((r) => r.status)).toEqual(['STARTED', 'STARTED']);
    expect([...executions.values()]).toEqual([1, 1]);
  });

  it('ends written with a claim whose answer was lost are found written: each run ends once, with its own end', async () => {
    const executions = new Map<string, number>();
    const s = await stack({ a: ({ runId }) => void executions.set(runId, (executions.get(runId) ?? 0) + 1) });
    const job = await s.scheduler.createJob({ name: 'j', projectDir: s.projectDir, pipeline: 'main.orchest', draft: true });
    s.outage.lostReply.add('finishAndClaim');
    await s.scheduler.confirmJob(job.id);
    await s.advanceUntil(async () => (await s.store.getJob(job.id))!.status === 'SUCCESS', 'the job to end');
    expect(s.outage.failed.get('finishAndClaim')).toBe(1);
    expect(s.errors).toContain('ending runs and claiming');
    const runs = (await s.store.listRuns(job.id)).items;
    expect(runs.map((r) => [r.status, r.reason ?? null, r.attempts])).toEqual([['SUCCESS', null, 1], ['SUCCESS', null, 1]]);
    expect([...executions.values()]).toEqual([1, 1]);
    expect(s.finished.sort()).toEqual(runs.map((r) => `${r.id} SUCCESS `).sort());
    await s.scheduler.stop();
  });

  it('a stop after a claim whose answer was lost gives its runs back: PENDING, to run later, not left to end `interrupted`', async () => {
    const executions = new Map<string, number>();
    const s = await stack({ a: ({ runId }) => void executions.set(runId, (executions.get(runId) ?? 0) + 1) });
    const job = await s.scheduler.createJob({ name: 'j', projectDir: s.projectDir, pipeline: 'main.orchest', draft: true });
    s.outage.lostReply.add('claimRuns');
    // The giving back fails while the scheduler runs, so it claims nothing more: the stop is what gives them back.
    s.outage.down.add('releaseRuns');
    await s.scheduler.confirmJob(job.id);
    await until(() => (s.outage.failed.get('claimRuns') ?? 0) === 1 && (s.outage.failed.get('releaseRuns') ?? 0) >= 1, 'the claim to commit, its answer to be lost, and a giving back to fail');
    s.outage.down.clear();
    await s.scheduler.stop();
    expect((await s.store.listRuns(job.id)).items.map((r) => [r.status, r.leaseOwner, r.attempts])).toEqual([['PENDING', null, 0], ['PENDING', null, 0]]);
    expect(executions.size).toBe(0);
    expect((await s.store.getJob(job.id))!.counters).toMatchObject({ PENDING: 2, STARTED: 0 });
  });

  it('runs claimed by a claim whose answer was lost are given back and run once, not left to end `interrupted`', async () => {
    const executions = new Map<string, number>();
    const s = await stack({ a: ({ runId }) => void executions.set(runId, (executions.get(runId) ?? 0) + 1) });
    const job = await s.scheduler.createJob({ name: 'j', projectDir: s.projectDir, pipeline: 'main.orchest', draft: true });
    s.outage.lostReply.add('claimRuns');
    await s.scheduler.confirmJob(job.id);
    await until(async () => (s.outage.failed.get('claimRuns') ?? 0) === 1 && (await s.store.getJob(job.id))!.counters.STARTED === 2, 'the claim to commit and its answer to be lost');
    await s.advanceUntil(async () => (await s.store.getJob(job.id))!.status === 'SUCCESS', 'the job to end');
    expect((await s.store.listRuns(job.id)).items.map((r) => [r.status, r.reason ?? null, r.attempts])).toEqual([['SUCCESS', null, 1], ['SUCCESS', null, 1]]);
    expect([...executions.values()]).toEqual([1, 1]);
    await s.scheduler.stop();
  });
});
