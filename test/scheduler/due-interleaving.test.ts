import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePipeline } from '../../src/pipeline/index.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

/**
 * Many jobs due at the same instant: their batches are written one job after another, and
 * between two jobs the scheduler yields to the event loop (`Clock.yield`), so the runs
 * already written start, and do their I/O, while later batches are still being written.
 * Without the yields every batch was written before any run's first I/O completed.
 */

const JOBS = 100;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A fake clock whose `yield` is a real event-loop turn, as `SystemClock`'s is. */
class TurnClock extends FakeClock {
  override yield(): Promise<void> {
    return turn();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `JOBS` every-minute code-defined jobs whose one step does one I/O-like turn; the log of what happened, in order. */
async function dueTogether(clock: FakeClock): Promise<{ log: string[]; finished: () => number }> {
  const log: string[] = [];
  const workRoot = mkdtempSync(path.join(tmpdir(), 'pj-due-'));
  cleanups.push(async () => rmSync(workRoot, { recursive: true, force: true }));
  const pipeline = definePipeline({ name: 'io', steps: [{ uuid: 'a' }] });
  const executor = new RunExecutor({
    stepExecutors: new FunctionStepExecutor({
      functions: {
        // The step's first I/O completes after one event-loop turn.
        a: async (ctx) => {
          await turn();
          log.push(`step ${ctx.jobId}`);
        },
      },
    }),
    logStore: new MemoryLogStore(),
    workRoot,
    clock,
  });
  const scheduler = new JobScheduler({ storage: new MemoryStorage({ clock }), executor, clock, concurrency: 4 });
  let finished = 0;
  scheduler.on('occurrence:fired', ({ jobId }) => void log.push(`fired ${jobId}`));
  scheduler.on('run:finished', () => void finished++);
  await scheduler.start();
  cleanups.push(() => scheduler.stop({ mode: 'cancel' }));
  for (let i = 0; i < JOBS; i++) await scheduler.createJob({ name: `due ${i}`, pipeline, schedule: { type: 'cron', cron: '* * * * *' } });
  await clock.advance(60_000);
  return { log, finished: () => finished };
}

describe('jobs due at the same instant', () => {
  it('start their first runs while later batches are still being written (a yield between jobs)', async () => {
    const { log, finished } = await dueTogether(new TurnClock('2026-03-01T00:00:30Z'));
    for (let i = 0; i < 10_000 && finished() < JOBS; i++) await turn();
    expect(finished()).toBe(JOBS);
    const fired = log.filter((e) => e.startsWith('fired'));
    expect(fired).toHaveLength(JOBS);
    const firstStep = log.findIndex((e) => e.startsWith('step'));
    const lastFired = log.lastIndexOf(fired[JOBS - 1]!);
    // The first step's I/O completed within a few jobs, not after all of them.
    expect(log.slice(0, firstStep).filter((e) => e.startsWith('fired')).length).toBeLessThan(5);
    expect(firstStep).toBeLessThan(lastFired);
  });

  it("with FakeClock's own yield (a microtask), every batch is written by the time advance returns", async () => {
    const { log } = await dueTogether(new FakeClock('2026-03-01T00:00:30Z'));
    expect(log.filter((e) => e.startsWith('fired'))).toHaveLength(JOBS);
  });

  it('a stop between two due jobs leaves the rest to the next start: every occurrence fires exactly once', async () => {
    const clock = new TurnClock('2026-03-01T00:00:30Z');
    const storage = new MemoryStorage({ clock });
    const workRoot = mkdtempSync(path.join(tmpdir(), 'pj-due-stop-'));
    cleanups.push(async () => rmSync(workRoot, { recursive: true, force: true }));
    const pipeline = definePipeline({ name: 'io', steps: [{ uuid: 'a' }] });
    const make = () =>
      new JobScheduler({
        storage,
        clock,
        concurrency: 4,
        executor: new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined } }), logStore: new MemoryLogStore(), workRoot, clock }),
      });
    const first = make();
    const fired: string[] = [];
    first.on('occurrence:fired', ({ jobId }) => void fired.push(jobId));
    await first.start();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await first.createJob({ name: `due ${i}`, pipeline, schedule: { type: 'cron', cron: '* * * * *' } })).id);
    const advancing = clock.advance(30_000); // to 00:01:00: all 50 fall due
    while (fired.length < 5) await turn();
    await first.stop({ mode: 'cancel' });
    await advancing;
    const byFirst = fired.length;
    expect(byFirst).toBeGreaterThanOrEqual(5);
    expect(byFirst).toBeLessThan(50);
    // The next process (here: a new scheduler on the same store) fires the rest, each once.
    const second = make();
    second.on('occurrence:fired', ({ jobId }) => void fired.push(jobId));
    await second.start();
    cleanups.push(() => second.stop({ mode: 'cancel' }));
    for (let i = 0; i < 1_000 && fired.length < 50; i++) await turn();
    expect([...fired].sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await storage.getJob(id))!.batchCount).toBe(1);
  });
});
