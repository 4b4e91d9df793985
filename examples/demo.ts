/**
 * The main demo: an Orchest-format project (examples/projects/etl) run as a job on the
 * embedded defaults: SQLite storage, the local snapshot store, local processes.
 *
 *   npm run demo
 *
 * It prints the pipeline's DAG in parallel layers and the runs its parameters file
 * expands to, creates a job (a snapshot is taken), runs every combination, and prints
 * each run's status and the report step's log. Everything it writes goes under
 * .pipeline-jobs-demo/ (removed at the start of each demo).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FileLogStore,
  JobScheduler,
  ParameterGrid,
  ProcessStepExecutor,
  RunExecutor,
  SnapshotStore,
  loadPipeline,
  parallelLayers,
  readFromDirectory,
} from 'pipeline-jobs';
import { SqliteStorage } from 'pipeline-jobs/sqlite';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectDir = path.join(here, 'projects', 'etl');
const home = path.join(here, '..', '.pipeline-jobs-demo');

await rm(home, { recursive: true, force: true });

// 1. The pipeline and its grid, straight from the project directory.
const pipeline = await loadPipeline(path.join(projectDir, 'etl.orchest'), projectDir);
const title = (uuid: string) => pipeline.steps.find((s) => s.uuid === uuid)!.title;
console.log(`Pipeline "${pipeline.name}": ${pipeline.steps.length} steps`);
parallelLayers(pipeline.steps).forEach((layer, i) => console.log(`  layer ${i}: ${layer.map(title).join(', ')}`));
const grid = await ParameterGrid.forPipeline(pipeline, { read: readFromDirectory(projectDir) });
console.log(`\netl.parameters.json expands to ${grid.size} runs:`);
for (const { index, parameters } of grid) {
  const clean = parameters.steps[pipeline.steps[1]!.uuid]!;
  console.log(`  run ${index}: source=${String(parameters.pipeline.source)} drop_nulls=${String(clean.drop_nulls)}`);
}

// 2. A job on the embedded defaults.
const logs = new FileLogStore({ directory: path.join(home, 'logs') });
const scheduler = new JobScheduler({
  storage: new SqliteStorage({ path: path.join(home, 'jobs.sqlite') }),
  snapshots: new SnapshotStore({ root: path.join(home, 'snapshots') }),
  executor: new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: logs, workRoot: path.join(home, 'runs') }),
  concurrency: 2,
});
await scheduler.start();
const job = await scheduler.createJob({ name: 'demo ETL', projectDir, pipeline: 'etl.orchest', options: { outputs: ['reports/**'] } });
console.log(`\nJob ${job.id} created on snapshot ${job.snapshotId} (${job.status})`);
scheduler.on('run:finished', ({ runId, status }) => console.log(`  run ${runId.slice(0, 8)} ${status}`));

const done = await scheduler.waitForJob(job.id);
console.log(`\nJob ended ${done.status}: ${JSON.stringify(done.counters)}`);
const report = pipeline.steps.find((s) => s.title === 'report')!;
for (const run of (await scheduler.listRuns(job.id)).items) {
  const log = (await logs.read({ runId: run.id, stepId: report.uuid }))?.trim();
  console.log(`  run ${run.gridIndex} [${run.status}] report: ${log}`);
}
await scheduler.stop();
console.log(`\nState, snapshots and logs are in ${path.relative(process.cwd(), home)}/`);
