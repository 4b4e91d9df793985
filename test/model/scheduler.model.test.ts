/**
 * Model-based test of JobScheduler (issue 9, "Prove it"): random interleavings of create /
 * confirm / trigger / pause / resume / cancel job / cancel run / update / delete / clock
 * advances / stop and restart / a store write whose reply is lost (it committed, the
 * scheduler does not know), over MemoryStorage and SQLite, with a FakeClock and in-process
 * steps that succeed, fail or hang. After every command the invariants hold:
 * job counters equal the run rows, an ended job has no PENDING run, each ended run was
 * reported by exactly one `run:finished`, end states never change, one ledger record per
 * started occurrence; after the final stop no run is STARTED and no working copy is left.
 * The seed and the failing sequence are printed by fast-check on failure.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PipelineJobsError } from '../../src/errors.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { isEndState } from '../../src/status.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { Outage } from '../faults/outage.js';

const root = mkdtempSync(path.join(tmpdir(), 'pj-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** One project: step `a` succeeds for x % 3 == 0, fails for 1, hangs (until released or aborted) for 2. */
const projectDir = (() => {
  const dir = path.join(root, 'project');
  mkdirSync(dir, { recursive: true });
  const doc = {
    name: 'main', uuid: 'main-uuid', version: '1.0.0', parameters: { x: 0 }, settings: {},
    steps: { a: { uuid: 'a', title: 'a', file_path: 'a.py', incoming_connections: [], environment: '', parameters: {} } },
  };
  writeFileSync(path.join(dir, 'main.orchest'), JSON.stringify(doc));
  writeFileSync(path.join(dir, 'a.py'), '# run in-process\n');
  return dir;
})();

interface World {
  clock: FakeClock;
  /** The store itself (the invariants read it); the scheduler gets it through `outage`. */
  storage: Storage;
  outage: Outage;
  scheduler: JobScheduler;
  make: () => JobScheduler;
  jobs: string[];
  finished: Map<string, number>;
  endOf: Map<string, string>;
  release: Array<() => void>;
  workRoot: string;
}

const TIMEOUT = Symbol('settle timeout');

/** Lets background work of the scheduler (claims, runs, finishes) settle: real-time ticks, no clock advance. */
async function settle(w: World): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
  await Promise.race([w.scheduler.onIdle(), new Promise((r) => setTimeout(() => r(TIMEOUT), 20))]);
}

async function expected<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    // Refusals by the lifecycle table, missing ids and the like are typed: anything else is a bug.
    if (error instanceof PipelineJobsError) return undefined;
    throw error;
  }
}

/** Reads a job's counters and its runs until two reads of the counters agree around the listing. */
async function consistent(storage: Storage, jobId: string) {
  for (let i = 0; i < 20; i++) {
    const before = await storage.getJob(jobId);
    if (!before) return undefined;
    const runs = (await storage.listRuns(jobId, { limit: 10_000 })).items;
    const after = await storage.getJob(jobId);
    if (after && JSON.stringify(after.counters) === JSON.stringify(before.counters)) return { job: after, runs };
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`job ${jobId} never held still`);
}

async function checkInvariants(w: World): Promise<void> {
  for (const jobId of w.jobs) {
    const seen = await consistent(w.storage, jobId);
    if (!seen) continue;
    const { job, runs } = seen;
    const counted = { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 };
    for (const r of runs) counted[r.status]++;
    // Retention deletes ended runs: the end counters may exceed the rows kept, never the live ones.
    expect({ PENDING: job.counters.PENDING, STARTED: job.counters.STARTED }).toEqual({ PENDING: counted.PENDING, STARTED: counted.STARTED });
    for (const s of ['SUCCESS', 'FAILURE', 'ABORTED'] as const) expect(job.counters[s]).toBeGreaterThanOrEqual(counted[s]);
    if (isEndState(job.status)) expect(counted.PENDING).toBe(0);
    const prev = w.endOf.get(jobId);
    if (prev !== undefined) expect(job.status).toBe(prev);
    else if (isEndState(job.status)) w.endOf.set(jobId, job.status);
    for (const r of runs) {
      const before = w.endOf.get(r.id);
      if (before !== undefined) expect(r.status).toBe(before);
      else if (isEndState(r.status)) w.endOf.set(r.id, r.status);
      expect(w.finished.get(r.id) ?? 0).toBeLessThanOrEqual(1);
    }
    const started = (await w.storage.listOccurrences(jobId, { limit: 10_000 })).items.filter((o) => o.action === 'started').map((o) => o.at);
    expect(new Set(started).size).toBe(started.length);
  }
  for (const [runId, n] of w.finished) expect(n, `run:finished of ${runId}`).toBe(1);
}

type Cmd = fc.AsyncCommand<object, World>;
const cmd = (name: string, run: (w: World) => Promise<void>): Cmd => ({
  check: () => true,
  async run(_m, w) {
    await run(w);
    await settle(w);
    await checkInvariants(w);
  },
  toString: () => name,
});
const pick = (w: World, i: number): string | undefined => (w.jobs.length === 0 ? undefined : w.jobs[i % w.jobs.length]);

const commands = [
  fc.record({ cron: fc.boolean(), draft: fc.boolean(), xs: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 3 }), overlap: fc.constantFrom('allow', 'skip', 'queue', 'cancel-previous'), keep: fc.option(fc.integer({ min: 0, max: 2 })) }).map((c) =>
    cmd(`create(${JSON.stringify(c)})`, async (w) => {
      const job = await expected(
        w.scheduler.createJob({
          name: 'm', projectDir, pipeline: 'main.orchest', draft: c.draft,
          parameters: { from: 'spec', spec: { pipeline_parameters: { x: c.xs } } },
          schedule: c.cron ? { type: 'cron', cron: '* * * * *', overlap: c.overlap as 'allow' } : { type: 'now' },
          options: c.keep === null ? {} : { maxRetainedRuns: c.keep },
        }),
      );
      if (job) w.jobs.push(job.id);
    }),
  ),
  fc.nat().map((i) => cmd(`confirm(${i})`, async (w) => { const id = pick(w, i); if (id) await expected(w.scheduler.confirmJob(id)); })),
  fc.nat().map((i) => cmd(`trigger(${i})`, async (w) => { const id = pick(w, i); if (id) await expected(w.scheduler.triggerJob(id)); })),
  fc.nat().map((i) => cmd(`pause(${i})`, async (w) => { const id = pick(w, i); if (id) await expected(w.scheduler.pauseJob(id)); })),
  fc.nat().map((i) => cmd(`resume(${i})`, async (w) => { const id = pick(w, i); if (id) await expected(w.scheduler.resumeJob(id)); })),
  fc.nat().map((i) => cmd(`cancelJob(${i})`, async (w) => { const id = pick(w, i); if (id) await expected(w.scheduler.cancelJob(id)); })),
  fc.tuple(fc.nat(), fc.nat()).map(([i, k]) =>
    cmd(`cancelRun(${i}, ${k})`, async (w) => {
      const id = pick(w, i);
      if (!id) return;
      const runs = (await w.storage.listRuns(id)).items;
      if (runs.length > 0) await expected(w.scheduler.cancelRun(runs[k % runs.length]!.id));
    }),
  ),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 })).map(([i, keep]) => cmd(`update(${i}, keep ${keep})`, async (w) => { const id = pick(w, i); if (id) await expected(w.scheduler.updateJob(id, { maxRetainedRuns: keep })); })),
  fc.nat().map((i) =>
    cmd(`delete(${i})`, async (w) => {
      const id = pick(w, i);
      if (!id) return;
      const runIds = (await w.storage.listRuns(id, { limit: 10_000 })).items.map((r) => r.id);
      if ((await expected(w.scheduler.deleteJob(id).then(() => true))) === true) {
        w.jobs = w.jobs.filter((j) => j !== id);
        for (const r of runIds) w.finished.delete(r);
      }
    }),
  ),
  fc.integer({ min: 1, max: 3 }).map((m) => cmd(`advance(${m} min)`, async (w) => { await w.clock.advance(m * 60_000); })),
  fc.constantFrom('finishAndClaim', 'claimRuns', 'finishRun', 'putStepStates').map((method) =>
    cmd(`lose the reply of the next ${method}`, async (w) => void w.outage.lostReply.add(method)),
  ),
  fc.constant(cmd('release hung steps', async (w) => { for (const open of w.release.splice(0)) open(); })),
  fc.constant(
    cmd('stop and restart', async (w) => {
      await w.scheduler.stop({ mode: 'cancel' });
      w.scheduler = w.make();
      w.scheduler.on('run:finished', (p) => w.finished.set(p.runId, (w.finished.get(p.runId) ?? 0) + 1));
      await w.scheduler.start();
    }),
  ),
];

async function world(kind: 'memory' | 'sqlite', n: number): Promise<World> {
  const dir = path.join(root, `w${n}`);
  const clock = new FakeClock('2026-03-01T00:00:00Z');
  const storage = kind === 'memory' ? new MemoryStorage({ clock }) : new SqliteStorage({ path: path.join(dir, 'jobs.sqlite'), clock, integrityCheck: 'off' });
  const snapshots = new SnapshotStore({ root: path.join(dir, 'snapshots'), clock });
  const release: Array<() => void> = [];
  const workRoot = path.join(dir, 'runs');
  const executor = new RunExecutor({
    stepExecutors: new FunctionStepExecutor({
      functions: {
        a: async ({ pipelineParameters, signal }) => {
          const x = Number(pipelineParameters.x);
          if (x % 3 === 1) throw new Error('step fails');
          if (x % 3 === 2) {
            await new Promise<void>((resolve, reject) => {
              release.push(resolve);
              signal.addEventListener('abort', () => reject(signal.reason), { once: true });
            });
          }
        },
      },
    }),
    logStore: new MemoryLogStore(),
    workRoot,
    clock,
  });
  const outage = new Outage();
  const make = (): JobScheduler => new JobScheduler({ storage: outage.wrap(storage), snapshots, executor, clock, concurrency: 3 });
  const w: World = { clock, storage, outage, scheduler: make(), make, jobs: [], finished: new Map(), endOf: new Map(), release, workRoot };
  w.scheduler.on('run:finished', (p) => w.finished.set(p.runId, (w.finished.get(p.runId) ?? 0) + 1));
  await w.scheduler.start();
  return w;
}

/** `PJ_MODEL_SCALE=5` runs five times CI's sequences (a deeper search, by hand). */
const SCALE = Number(process.env.PJ_MODEL_SCALE ?? 1);

describe.each([
  ['memory', 200 * SCALE],
  ['sqlite', 80 * SCALE],
] as const)('JobScheduler model on %s storage', (kind, numRuns) => {
  it(`keeps its invariants over ${numRuns} random command sequences`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        const w = await world(kind, n++);
        try {
          await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
          for (const open of w.release.splice(0)) open();
          await w.scheduler.stop({ mode: 'cancel' });
          for (const jobId of w.jobs) expect((await consistent(w.storage, jobId))?.job.counters.STARTED ?? 0).toBe(0);
          let left: string[] = [];
          try {
            left = readdirSync(w.workRoot).flatMap((d) => readdirSync(path.join(w.workRoot, d)).map((e) => `${d}/${e}`));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // no run ever made a working copy
          }
          expect(left).toEqual([]);
        } finally {
          await w.scheduler.stop({ mode: 'cancel' });
          await w.storage.close();
        }
      }),
      { numRuns, verbose: 1 },
    );
  }, 120_000);
});
