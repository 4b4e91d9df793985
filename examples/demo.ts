/**
 * The main demo: an Orchest-format project (examples/projects/etl) run as a job on the
 * embedded defaults: SQLite storage, the local snapshot store, local processes.
 *
 *   npm run demo
 *
 * It prints the pipeline's DAG in parallel layers and the runs its parameters file
 * expands to, creates a job (a snapshot is taken), runs every combination with live
 * progress, prints each run's report, and ends with the `pipeline-jobs` commands that
 * show the result. Everything it writes goes under .pipeline-jobs-demo/ (removed at the
 * start of each demo; `PIPELINE_JOBS_DEMO_HOME` names another), laid out as the CLI's
 * `--home` expects.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogUpdate } from 'log-update';
import {
  FileLogStore,
  JobScheduler,
  ParameterGrid,
  ProcessStepExecutor,
  RunExecutor,
  SnapshotStore,
  loadPipeline,
  readFromDirectory,
  type Job,
} from 'pipeline-jobs';
import { parallelLayers } from 'pipeline-jobs/executors';
import { SqliteStorage } from 'pipeline-jobs/sqlite';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectDir = path.join(here, 'projects', 'etl');
// PIPELINE_JOBS_DEMO_HOME: another folder (the demo's test uses a temporary one).
const home = path.resolve(process.env.PIPELINE_JOBS_DEMO_HOME ?? path.join(here, '..', '.pipeline-jobs-demo'));
const homeArg = path.relative(process.cwd(), home) || '.';

await rm(home, { recursive: true, force: true });

// 1. The pipeline and its grid, straight from the project directory.
const pipeline = await loadPipeline(path.join(projectDir, 'etl.orchest'), projectDir);
const title = (uuid: string) => pipeline.steps.find((s) => s.uuid === uuid)?.title ?? uuid.slice(0, 8);
console.log(`Pipeline "${pipeline.name}": ${pipeline.steps.length} steps`);
parallelLayers(pipeline.steps).forEach((layer, i) => console.log(`  layer ${i}: ${layer.map(title).join(', ')}`));
const grid = await ParameterGrid.forPipeline(pipeline, { read: readFromDirectory(projectDir) });
console.log(`\netl.parameters.json expands to ${grid.size} runs:`);
for (const { index, parameters } of grid) {
  const clean = parameters.steps[pipeline.steps[1]!.uuid]!;
  console.log(`  run ${index}: source=${String(parameters.pipeline.source)} drop_nulls=${String(clean.drop_nulls)}`);
}

// 2. A job on the embedded defaults (the folders `pipeline-jobs --home` uses).
const storage = new SqliteStorage({ path: path.join(home, 'jobs.sqlite') });
const scheduler = new JobScheduler({
  storage,
  snapshots: new SnapshotStore({ root: path.join(home, 'snapshots') }),
  executor: new RunExecutor({
    stepExecutors: new ProcessStepExecutor(),
    logStore: new FileLogStore({ directory: path.join(home, 'logs') }),
    workRoot: path.join(home, 'runs'),
    artifactsRoot: path.join(home, 'artifacts'),
  }),
  concurrency: 2,
});
await scheduler.start();
const draft = await scheduler.createJob({ name: 'demo ETL', projectDir, pipeline: 'etl.orchest', options: { outputs: ['reports/**'] }, draft: true });
console.log(`\nJob ${draft.id} created on snapshot ${draft.snapshotId} (${draft.status})\n`);

// 3. Live progress from the scheduler's events: redrawn on a terminal, plain lines otherwise.
const progress = watch(scheduler, draft);
await scheduler.confirmJob(draft.id);
const done = await scheduler.waitForJob(draft.id);
progress.stop();
console.log(`\nJob ended ${done.status}: ${JSON.stringify(done.counters)}`);
const report = pipeline.steps.find((s) => s.title === 'report')!;
const runs = (await scheduler.listRuns(done.id)).items;
for (const run of runs) {
  const log = (await scheduler.readLog(run.id, report.uuid))?.trim();
  console.log(`  run ${run.gridIndex} [${run.status}] ${log}`);
}
await scheduler.stop();
await storage.close();

console.log(`\nLook at the result with the CLI (state, snapshots and logs are in ${homeArg}/):`);
console.log(`  npx pipeline-jobs --home ${homeArg} runs ${done.id.slice(0, 8)}`);
console.log(`  npx pipeline-jobs --home ${homeArg} logs ${runs[0]!.id.slice(0, 8)} report`);
console.log(`  npx pipeline-jobs --home ${homeArg} serve      (then open http://127.0.0.1:8080/)`);

/** A compact live view: runs done / failed / running of total, the running steps, elapsed. */
function watch(s: JobScheduler, job: Job): { stop(): void } {
  const startedAt = Date.now();
  const tty = process.stdout.isTTY === true;
  const live = tty ? createLogUpdate(process.stdout) : undefined;
  const runs = new Map<string, { status: string; steps: Set<string> }>();
  const of = (runId: string) => runs.get(runId) ?? runs.set(runId, { status: 'PENDING', steps: new Set() }).get(runId)!;
  const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
  const draw = (): void => {
    const all = [...runs.values()];
    const count = (...st: string[]) => all.filter((r) => st.includes(r.status)).length;
    const running = [...runs.entries()].filter(([, r]) => r.status === 'STARTED');
    live?.([
      `${count('SUCCESS')} done, ${count('FAILURE', 'ABORTED')} failed, ${running.length} running of ${job.selectedRuns}   ${elapsed()}`,
      ...running.map(([id, r]) => `  run ${id.slice(0, 8)}: ${[...r.steps].map(title).join(', ') || 'preparing'}`),
    ].join('\n'));
  };
  const line = (text: string): void => {
    if (!tty) console.log(`  [${elapsed()}] ${text}`);
  };
  const mine = (p: { jobId: string }) => p.jobId === job.id;
  const offs = [
    s.on('run:started', (p) => mine(p) && ((of(p.runId).status = 'STARTED'), line(`run ${p.runId.slice(0, 8)} started`))),
    s.on('step:started', (p) => mine(p) && (of(p.runId).steps.add(p.stepId), line(`run ${p.runId.slice(0, 8)} ${title(p.stepId)} started`))),
    s.on('step:finished', (p) => mine(p) && (of(p.runId).steps.delete(p.stepId), line(`run ${p.runId.slice(0, 8)} ${title(p.stepId)} ${p.status}`))),
    s.on('run:finished', (p) => mine(p) && ((of(p.runId).status = p.status), line(`run ${p.runId.slice(0, 8)} ${p.status}`))),
  ];
  const timer = tty ? setInterval(draw, 100) : undefined;
  return {
    stop() {
      for (const off of offs) off();
      clearInterval(timer);
      draw();
      live?.done();
    },
  };
}
