import type { ScheduleSpec } from '../../index.js';
import { type GlobalOptions, openEnv } from '../env.js';
import { UsageError } from '../errors.js';
import { dstNote, printJson, time } from '../format.js';
import { jobSpecOf, type SpecOptions } from '../spec.js';

export interface CreateOptions extends SpecOptions {
  cron?: string;
  tz?: string;
  at?: string;
  missed?: string;
  overlap?: string;
  draft?: boolean;
  key?: string;
}

function scheduleOf(o: CreateOptions): ScheduleSpec {
  if (o.cron !== undefined && o.at !== undefined) throw new UsageError('Give --cron or --at, not both.');
  if (o.cron === undefined && (o.tz !== undefined || o.missed !== undefined || o.overlap !== undefined)) throw new UsageError('--tz, --missed and --overlap go with --cron.');
  if (o.cron !== undefined) {
    return {
      type: 'cron',
      cron: o.cron,
      ...(o.tz === undefined ? {} : { timezone: o.tz }),
      ...(o.missed === undefined ? {} : { missed: o.missed as 'skip' }),
      ...(o.overlap === undefined ? {} : { overlap: o.overlap as 'allow' }),
    };
  }
  if (o.at !== undefined) return { type: 'at', at: o.at };
  return { type: 'now' };
}

/** `create`: stores a job (a snapshot is taken); a worker runs it. */
export async function createCommand(project: string, pipeline: string | undefined, o: CreateOptions & GlobalOptions): Promise<number> {
  const spec = await jobSpecOf(project, pipeline, o);
  const schedule = scheduleOf(o);
  const env = await openEnv(o);
  try {
    const job = await env.scheduler.createJob({ ...spec, schedule, ...(o.draft ? { draft: true } : {}), ...(o.key === undefined ? {} : { key: o.key }) });
    const next = job.schedule.type === 'cron' ? await env.scheduler.previewJob(job.id, 3) : [];
    if (o.json) printJson({ job, nextOccurrences: next });
    else {
      process.stdout.write(`Job ${job.id} created (${job.status}): ${job.name}, ${job.selectedRuns} run(s) per batch\n`);
      if (next.length > 0) process.stdout.write(`Next: ${next.map((o) => `${time(o.time)}${dstNote(o)}`).join(', ')}\n`);
      process.stdout.write('Runs start when a worker is running: pipeline-jobs worker (or serve)\n');
    }
    return 0;
  } finally {
    await env.close();
  }
}
