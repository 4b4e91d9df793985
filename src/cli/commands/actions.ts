import { type GlobalOptions, openEnv } from '../env.js';
import { printJson } from '../format.js';
import { resolveJob } from '../resolve.js';

export type JobAction = 'pause' | 'resume' | 'cancel' | 'trigger' | 'delete' | 'confirm';

/**
 * `pause` / `resume` / `cancel` / `trigger` / `delete` / `confirm <job>`: one call of the
 * scheduler. Runs a trigger starts wait in the store for a worker (`pipeline-jobs worker`).
 */
export async function actionCommand(action: JobAction, ref: string, o: GlobalOptions): Promise<number> {
  const env = await openEnv(o);
  try {
    const job = await resolveJob(env.scheduler, ref);
    const s = env.scheduler;
    let result: unknown;
    let text: string;
    switch (action) {
      case 'pause':
        result = await s.pauseJob(job.id);
        text = `Job ${job.id.slice(0, 8)} (${job.name}) paused.`;
        break;
      case 'resume':
        result = await s.resumeJob(job.id);
        text = `Job ${job.id.slice(0, 8)} (${job.name}) resumed.`;
        break;
      case 'cancel':
        result = await s.cancelJob(job.id);
        text = `Job ${job.id.slice(0, 8)} (${job.name}) cancelled.`;
        break;
      case 'confirm':
        result = await s.confirmJob(job.id);
        text = `Job ${job.id.slice(0, 8)} (${job.name}) confirmed.`;
        break;
      case 'trigger': {
        const b = await s.triggerJob(job.id);
        result = b;
        text = `Job ${job.id.slice(0, 8)} (${job.name}): batch ${b.batchIndex} with ${b.runCount} run(s) queued; a worker runs it (pipeline-jobs worker).`;
        break;
      }
      case 'delete':
        await s.deleteJob(job.id);
        result = { deleted: job.id };
        text = `Job ${job.id.slice(0, 8)} (${job.name}) deleted.`;
        break;
    }
    if (o.json) printJson(result);
    else process.stdout.write(`${text}\n`);
    return 0;
  } finally {
    await env.close();
  }
}
