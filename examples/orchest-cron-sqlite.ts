/**
 * An Orchest project run on a cron schedule, on SQLite: the project of examples/projects/etl
 * (its .orchest file and parameters file as Orchest writes them), every night at 03:00 in
 * Berlin, two of its four parameter combinations per night.
 *
 *   npx tsx examples/orchest-cron-sqlite.ts          (after `npm run build`)
 *
 * Time comes from a FakeClock, so three nights pass in a few seconds: a real application
 * passes no clock (the system clock is the default) and keeps the scheduler running.
 * Everything it writes goes to a temporary folder, removed at the end.
 * test/examples/orchest-cron-sqlite.test.ts runs it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileLogStore, JobScheduler, ProcessStepExecutor, RunExecutor, SnapshotStore } from 'pipeline-jobs';
import { SqliteStorage } from 'pipeline-jobs/sqlite';
import { FakeClock } from 'pipeline-jobs/testing';

const projectDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'projects', 'etl');
const home = await mkdtemp(path.join(tmpdir(), 'pipeline-jobs-cron-example-'));
const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

// 02:59 in Berlin (CET, UTC+1) on 2 March 2026.
const clock = new FakeClock('2026-03-02T01:59:00Z');
const scheduler = new JobScheduler({
  storage: new SqliteStorage({ path: path.join(home, 'jobs.sqlite') }),
  snapshots: new SnapshotStore({ root: path.join(home, 'snapshots') }),
  executor: new RunExecutor({
    stepExecutors: new ProcessStepExecutor(), // .py with python3, .sh with bash
    logStore: new FileLogStore({ directory: path.join(home, 'logs') }),
    workRoot: path.join(home, 'runs'),
  }),
  clock,
  concurrency: 2,
});
await scheduler.start();

try {
  const job = await scheduler.createJob({
    name: 'nightly ETL',
    projectDir, // snapshotted now: later edits of the project do not reach this job
    pipeline: 'etl.orchest', // etl.parameters.json beside it gives the grid (4 combinations)
    selection: { indices: [0, 3] }, // two of them
    schedule: { type: 'cron', cron: '0 3 * * *', timezone: 'Europe/Berlin', missed: { policy: 'skip' } },
    options: { maxRetainedRuns: 10 },
  });
  console.log(`job ${job.status}: next at ${(await scheduler.previewJob(job.id, 3)).map((o) => iso(o.time)).join(', ')}`);
  scheduler.on('run:finished', ({ status }) => console.log(`  run finished ${status}`));

  // Night 1: 03:00 Berlin is 02:00 UTC.
  await clock.advance(HOUR);
  await scheduler.onIdle();

  // Night 2 falls while the job is paused: skipped, never caught up.
  await scheduler.pauseJob(job.id);
  await clock.advance(24 * HOUR);
  await scheduler.onIdle();
  await scheduler.resumeJob(job.id);

  // Night 3 runs again.
  await clock.advance(24 * HOUR);
  await scheduler.onIdle();

  for (const r of (await scheduler.listOccurrences(job.id)).items) {
    console.log(`ledger: ${iso(r.at)} ${r.action}${r.reason ? ` (${r.reason})` : ''}`);
  }
  const runs = (await scheduler.listRuns(job.id)).items;
  console.log(`runs: ${runs.length}, ${runs.filter((r) => r.status === 'SUCCESS').length} succeeded`);
  const ended = await scheduler.cancelJob(job.id);
  console.log(`job ${ended.status} after ${JSON.stringify((await scheduler.getJob(job.id))?.counters)}`);
} finally {
  await scheduler.stop();
  await rm(home, { recursive: true, force: true });
}
