/**
 * Several scheduler processes sharing one PostgreSQL database: this process creates a job of
 * six runs and two worker processes (this same file, started with `worker`) help run them.
 * Each run is claimed by exactly one process; the workers learn of the new job at once
 * (LISTEN/NOTIFY) and each prints the runs it ended.
 *
 *   DATABASE_URL=postgres://127.0.0.1:5432/postgres npx tsx examples/several-processes-postgres.ts
 *
 * (after `npm run build`; `pg` is an optional peer dependency: install it to use PostgreSQL).
 * The tables live in their own schema (`PIPELINE_JOBS_SCHEMA`, default one per run of the
 * example), dropped at the end, as is the temporary folder holding the project, the snapshots
 * and the logs. Across machines, that folder would be a shared mount (NFS, EFS).
 * test/examples/several-processes-postgres.test.ts runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { FileLogStore, JobScheduler, ProcessStepExecutor, RunExecutor, SnapshotStore } from 'pipeline-jobs';
import { PostgresStorage } from 'pipeline-jobs/postgres';

const url = process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/postgres';
const schema = process.env.PIPELINE_JOBS_SCHEMA ?? `pipeline_jobs_example_${process.pid}`;
const [, self, role = 'main', sharedDir] = process.argv;
const name = role === 'main' ? 'main' : role;

/** One scheduler process: the same store, snapshots and logs as every other. */
async function startScheduler(home: string): Promise<JobScheduler> {
  const scheduler = new JobScheduler({
    storage: new PostgresStorage({ connectionString: url, schema }),
    snapshots: new SnapshotStore({ root: path.join(home, 'snapshots') }),
    executor: new RunExecutor({
      stepExecutors: new ProcessStepExecutor(),
      logStore: new FileLogStore({ directory: path.join(home, 'logs') }),
      workRoot: path.join(home, 'runs', name), // working copies are per process
    }),
    concurrency: 2,
  });
  scheduler.on('run:finished', ({ runId, status }) => console.log(`${name} ended run ${runId} ${status}`));
  await scheduler.start();
  return scheduler;
}

if (role !== 'main') {
  // A worker: runs whatever it claims until told to stop; SIGTERM lets its runs finish.
  const scheduler = await startScheduler(sharedDir!);
  console.log(`${name} ready`);
  process.once('SIGTERM', () => {
    scheduler.stop({ mode: 'drain' }).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else {
  const home = await mkdtemp(path.join(tmpdir(), 'pipeline-jobs-pg-example-'));
  const workers: ChildProcess[] = [];
  let scheduler: JobScheduler | undefined;
  try {
    // A one-step Orchest project whose parameters file asks for six runs.
    const project = path.join(home, 'project');
    await mkdir(project, { recursive: true });
    await writeFile(path.join(project, 'work.sh'), 'echo "working on $PIPELINE_JOBS_PIPELINE_PARAMETERS"\nsleep 1\n');
    await writeFile(
      path.join(project, 'work.orchest'),
      JSON.stringify({ name: 'work', uuid: 'work', parameters: { item: 0 }, steps: { w: { uuid: 'w', title: 'work', file_path: 'work.sh', incoming_connections: [] } } }),
    );
    await writeFile(path.join(project, 'work.parameters.json'), JSON.stringify({ pipeline_parameters: { item: [1, 2, 3, 4, 5, 6] } }));

    // The schema is created once, by the first process (under an advisory lock).
    scheduler = await startScheduler(home);
    const ready: Promise<void>[] = [];
    for (const worker of ['worker-1', 'worker-2']) {
      const child = spawn(process.execPath, [...process.execArgv, self!, worker, home], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PIPELINE_JOBS_SCHEMA: schema } });
      workers.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`${worker} exited early (${code})`)));
          child.stdout!.setEncoding('utf8').on('data', (text: string) => {
            process.stdout.write(text);
            if (text.includes(`${worker} ready`)) resolve();
          });
        }),
      );
    }
    await Promise.all(ready); // only to show the sharing: a job needs no worker to be running
    const job = await scheduler.createJob({ name: 'six runs', projectDir: project, pipeline: 'work.orchest' });

    // This process waits by reading the store: the job may be ended by another process.
    let status = job.status;
    while (!['SUCCESS', 'FAILURE', 'ABORTED'].includes(status)) {
      await sleep(200);
      status = (await scheduler.getJob(job.id))!.status;
    }
    const runs = (await scheduler.listRuns(job.id)).items;
    console.log(`job ${status}: ${runs.length} runs, ${runs.filter((r) => r.status === 'SUCCESS').length} succeeded`);
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode === null ? once(w, 'exit') : undefined)));
    await scheduler?.stop();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    await rm(home, { recursive: true, force: true });
  }
}
