import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { spawnScheduler } from './fixtures/children.js';
import { leftoverProcesses, makeScheduler, processesOfRuns, readLedger, stackPaths, workingCopies, writeProject } from './fixtures/stack.js';
import { EndStateWatch, expectOccurrencesAccounted, runsOf } from './invariants.js';

/** `PJ_CRASH_KILLS=60` kills more often than CI does (a longer loop, by hand). */
const KILLS = Number(process.env.PJ_CRASH_KILLS ?? 22);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A small seeded generator, so a failing kill schedule can be replayed (the seed is printed). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Ids of the runs of these jobs that have ended. */
async function endedRunIds(storage: SqliteStorage, jobIds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const id of jobIds) for (const r of await runsOf(storage, id)) if (r.status !== 'PENDING' && r.status !== 'STARTED') out.add(r.id);
  return out;
}

/** Waits until the job has a STARTED run (as storage says), at most `ms`. */
async function startedRunOf(storage: SqliteStorage, jobId: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await runsOf(storage, jobId)).some((r) => r.status === 'STARTED')) {
    if (Date.now() > deadline) throw new Error(`no run of job ${jobId} started within ${ms} ms`);
    await pause(50);
  }
}

describe('a scheduler on SQLite killed with SIGKILL again and again', () => {
  it(`loses nothing, runs nothing twice, leaves no process behind (${KILLS} kills)`, async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pj-crash-'));
    dirs.push(root);
    const p = stackPaths(root);
    writeProject(p, 2);
    const db = path.join(root, 'jobs.sqlite');
    const marker = randomBytes(6).toString('hex');
    const storage = new SqliteStorage({ path: db });
    await storage.init();

    // The jobs are created up front by a scheduler that never starts.
    const creator = makeScheduler(storage, p);
    const env = (job: string, long: number) => ({ job: { PJ_LEDGER: p.ledger, PJ_MARKER: marker, PJ_JOB: job, PJ_LONG: String(long) } });
    const failing = await creator.createJob({ name: 'at most once', projectDir: p.project, pipeline: 'main.orchest', schedule: { type: 'cron', cron: '*/3 * * * * *' }, env: env('fail', 20) });
    const rerun = await creator.createJob({
      name: 'at least once', projectDir: p.project, pipeline: 'main.orchest', schedule: { type: 'cron', cron: '* * * * * *' }, env: env('rerun', 0.2), options: { onInterrupted: 'rerun' },
    });
    const jobIds = [failing.id, rerun.id];

    const seed = Number(process.env.PJ_CRASH_SEED ?? Date.now() % 100_000);
    console.log(`crash loop seed ${seed} (replay with PJ_CRASH_SEED=${seed})`);
    const random = seeded(seed);
    const watch = new EndStateWatch();
    let sweepsChecked = 0;
    for (let i = 0; i < KILLS; i++) {
      // Runs ended before this child starts: once it has started (its start sweeps this
      // machine), none of their processes may be left, whoever recovered them and however
      // far that process got before it was killed.
      const ended = await endedRunIds(storage, jobIds);
      const child = spawnScheduler(['sqlite', db, root]);
      const swept = child.waitFor('ready').then(
        () => {
          sweepsChecked++;
          return processesOfRuns(ended);
        },
        () => [], // killed before it was ready: nothing to check this round
      );
      // A random moment: during start-up (opening, recovery, catching up) or while runs go.
      await pause(300 + Math.floor(random() * 2500));
      // The last kill lands while a run of the at-most-once job is going (its step takes
      // 20 s), so the loop always proves interruption, however slow a loaded machine
      // makes the children's start-up.
      if (i === KILLS - 1) await startedRunOf(storage, failing.id, 90_000);
      child.proc.kill('SIGKILL');
      expect(await swept, `processes of ended runs outlived the start of child ${i}`).toEqual([]);
      const { signal, code } = await child.exited;
      expect(signal === 'SIGKILL' || code === 0, `child ${i} exited by itself (code ${code}, signal ${signal}): ${child.stderr().slice(-1500)}`).toBe(true);
      expect(child.stderr()).not.toMatch(/STORAGE_CORRUPT|scheduler error/);
      await watch.check(storage, jobIds);
    }

    // A last process finds what the dead ones left, then the jobs are paused and drained.
    const last = makeScheduler(storage, p);
    const errors: unknown[] = [];
    last.on('scheduler:error', ({ error }) => errors.push(error));
    await last.start();
    await pause(2_500); // lets the leases of the last dead process expire and be recovered
    await last.pauseJob(failing.id);
    await last.pauseJob(rerun.id);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const counters = await Promise.all(jobIds.map(async (id) => (await storage.getJob(id))!.counters));
      if (counters.every((c) => c.PENDING === 0 && c.STARTED === 0)) break;
      if (Date.now() > deadline) throw new Error(`runs still going after the drain: ${JSON.stringify(counters)}`);
      await pause(100);
    }
    await last.stop({ mode: 'drain', timeoutMs: 30_000 });
    await watch.check(storage, jobIds);
    expect(errors).toEqual([]);

    const steps = readLedger(p.ledger);
    // Every run ended in exactly one end state, counted by the job's counters.
    for (const jobId of jobIds) {
      const runs = await runsOf(storage, jobId);
      expect(runs.length).toBeGreaterThan(0);
      const job = (await storage.getJob(jobId))!;
      const counted = { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 };
      for (const r of runs) counted[r.status]++;
      expect(job.counters).toEqual(counted);
      expect(await storage.listIncompleteBatches()).toEqual([]);
    }
    // Default policy: no run started twice; an interrupted run is FAILURE/interrupted.
    const failingRuns = await runsOf(storage, failing.id);
    for (const r of failingRuns) {
      const starts = (steps.get(r.id) ?? []).filter((l) => l.kind === 'start');
      expect(starts.length, `run ${r.id} started ${starts.length} times`).toBeLessThanOrEqual(1);
      expect(['SUCCESS', 'FAILURE']).toContain(r.status);
      if (r.status === 'FAILURE') expect(r.reason).toBe('interrupted');
      if (r.status === 'SUCCESS') expect(starts).toHaveLength(1);
    }
    expect(failingRuns.some((r) => r.reason === 'interrupted')).toBe(true);
    // Re-run policy: every run finished, each at least once.
    const rerunRuns = await runsOf(storage, rerun.id);
    for (const r of rerunRuns) {
      expect(r.status, `run ${r.id}`).toBe('SUCCESS');
      expect((steps.get(r.id) ?? []).some((l) => l.kind === 'end')).toBe(true);
    }
    // Every occurrence ran or was skipped with a reason, once.
    await expectOccurrencesAccounted(storage, failing.id, 3_000);
    await expectOccurrencesAccounted(storage, rerun.id, 1_000);
    // No step process outlived its run (the 20 s steps of killed processes were ended),
    // and no working copy was left (interrupted runs' copies are removed, finished runs remove their own).
    expect(leftoverProcesses(marker)).toEqual([]);
    expect(workingCopies(p.work)).toEqual([]);
    expect(sweepsChecked).toBeGreaterThan(0);
    // The snapshot store is intact.
    const snapshots = new (await import('../../src/snapshot/index.js')).SnapshotStore({ root: p.snapshots });
    expect(await snapshots.verify(failing.snapshotId!)).toMatchObject({ ok: true });
    await storage.close();
  }, 400_000);
});
