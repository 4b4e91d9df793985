import type { Job, OccurrenceRecord } from '../../index.js';
import { describeSchedule } from '../../dashboard/index.js';
import { type GlobalOptions, openEnv } from '../env.js';
import { dstNote, paramsText, printJson, runDuration, table, time, zoned } from '../format.js';
import { allJobs, allRuns, resolveJob } from '../resolve.js';

function scheduleText(j: Job): string {
  return j.schedule.type === 'cron' ? `${describeSchedule(j.schedule)} (${j.schedule.timezone})` : describeSchedule(j.schedule);
}

function counters(j: Job): string {
  const c = j.counters;
  return `${c.SUCCESS} ok, ${c.FAILURE} failed, ${c.ABORTED} aborted, ${c.STARTED} running, ${c.PENDING} pending`;
}

/** `jobs`: every job, newest first. */
export async function jobsCommand(o: GlobalOptions): Promise<number> {
  const env = await openEnv(o);
  try {
    const jobs = await allJobs(env.scheduler);
    if (o.json) printJson(jobs.map(({ pipeline, ...j }) => ({ ...j, pipeline: { uuid: pipeline.uuid, name: pipeline.name } })));
    else if (jobs.length === 0) process.stdout.write('No jobs. Start one with `pipeline-jobs run <project>`.\n');
    else process.stdout.write(`${table(['ID', 'NAME', 'STATUS', 'SCHEDULE', 'RUNS', 'CREATED'], jobs.map((j) => [j.id.slice(0, 8), j.name, j.status, scheduleText(j), counters(j), time(j.createdAt)]))}\n`);
    return 0;
  } finally {
    await env.close();
  }
}

function ledgerLine(r: OccurrenceRecord): string[] {
  const when = r.count > 1 ? `${time(r.at)} .. ${time(r.lastAt)}` : time(r.at);
  return [when, r.action, r.action === 'started' ? `batch ${r.batchIndex}` : `${r.reason}${r.count > 1 ? ` x${r.count}` : ''}`];
}

/** `job <ref>`: details, the occurrence ledger and the next occurrences. */
export async function jobCommand(ref: string, o: GlobalOptions & { next?: number }): Promise<number> {
  const env = await openEnv(o);
  try {
    const job = await resolveJob(env.scheduler, ref);
    const ledger = (await env.scheduler.listOccurrences(job.id, { limit: 1000 })).items;
    const live = job.status === 'STARTED' || job.status === 'PAUSED' || job.status === 'PENDING';
    const next = live && job.schedule.type === 'cron' ? await env.scheduler.previewJob(job.id, o.next ?? 5) : [];
    const batches = (await env.scheduler.listBatches(job.id, { limit: 20 })).items;
    if (o.json) {
      printJson({ job, ledger, nextOccurrences: next, batches: batches.map(({ envVars: _env, ...b }) => b) });
      return 0;
    }
    const lines = [
      `Job ${job.id}`,
      `  name       ${job.name}`,
      `  status     ${job.status}`,
      `  pipeline   ${job.pipeline.name} (${job.pipeline.steps.length} steps), ${job.snapshotId === null ? 'no snapshot (defined in code)' : `snapshot ${job.snapshotId.slice(0, 12)}`}`,
      `  schedule   ${scheduleText(job)}`,
      ...(job.schedule.type === 'cron' ? [`  policies   missed: ${job.schedule.missed.policy}, overlap: ${job.schedule.overlap}`] : []),
      `  grid       ${job.gridSize} combination(s), ${job.selectedRuns} selected`,
      `  runs       ${counters(job)}`,
      `  batches    ${job.batchCount}`,
      `  created    ${time(job.createdAt)}${job.finishedAt ? `, finished ${time(job.finishedAt)}` : ''}`,
    ];
    if (next.length > 0) {
      const tz = job.schedule.type === 'cron' ? job.schedule.timezone : 'UTC';
      lines.push('', 'Next occurrences:', ...next.map((o) => `  ${time(o.time)}  (${zoned(o.time, tz)})${dstNote(o)}`));
    }
    if (ledger.length > 0) lines.push('', 'Occurrence ledger:', table(['WHEN', 'ACTION', 'DETAIL'], ledger.map(ledgerLine)).replace(/^/gm, '  '));
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await env.close();
  }
}

/** `runs <job>`: the job's runs with parameters, statuses and durations. */
export async function runsCommand(ref: string, o: GlobalOptions & { status?: string[]; batch?: number }): Promise<number> {
  const env = await openEnv(o);
  try {
    const job = await resolveJob(env.scheduler, ref);
    let runs = await allRuns(env.scheduler, job.id);
    if (o.status?.length) runs = runs.filter((r) => o.status!.includes(r.status));
    if (o.batch !== undefined) runs = runs.filter((r) => r.batchIndex === o.batch);
    if (o.json) {
      printJson(runs);
      return 0;
    }
    const titles = new Map(job.pipeline.steps.map((s) => [s.uuid, s.title || s.uuid.slice(0, 8)]));
    const defaults = (uuid: string): string => titles.get(uuid) ?? uuid.slice(0, 8);
    const now = Date.now();
    process.stdout.write(`Runs of ${job.name} (${job.id.slice(0, 8)}), ${job.status}\n`);
    process.stdout.write(`${table(['RUN', 'ID', 'BATCH', 'GRID', 'STATUS', 'DURATION', 'PARAMETERS'], runs.map((r) => [String(r.runIndex), r.id.slice(0, 8), String(r.batchIndex), String(r.gridIndex), `${r.status}${r.reason && r.status !== 'SUCCESS' ? ` (${r.reason})` : ''}`, runDuration(r, now), paramsText(r.parameters, defaults)]))}\n`);
    if (runs.length > 0) process.stdout.write(`\nLogs: pipeline-jobs logs ${runs[0]!.id.slice(0, 8)} [step]\n`);
    return 0;
  } finally {
    await env.close();
  }
}

/** `snapshots`: the snapshot store's snapshots and the jobs that use them. */
export async function snapshotsCommand(o: GlobalOptions): Promise<number> {
  const env = await openEnv(o);
  try {
    const snaps = await env.snapshots.list();
    const jobs = await allJobs(env.scheduler);
    const users = (id: string): string[] => jobs.filter((j) => j.snapshotId === id).map((j) => j.id);
    if (o.json) printJson(snaps.map((s) => ({ ...s, jobs: users(s.id) })));
    else if (snaps.length === 0) process.stdout.write('No snapshots.\n');
    else process.stdout.write(`${table(['ID', 'CREATED', 'FILES', 'BYTES', 'JOBS', 'SOURCE'], snaps.map((s) => [s.id.slice(0, 8), time(s.createdAt), String(s.fileCount), String(s.logicalBytes), String(users(s.id).length), s.sourceDir]))}\n`);
    return 0;
  } finally {
    await env.close();
  }
}

