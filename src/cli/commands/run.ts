import type { GlobalOptions } from '../env.js';
import { openEnv } from '../env.js';
import { printJson } from '../format.js';
import { Progress } from '../progress.js';
import { allRuns } from '../resolve.js';
import { jobSpecOf, type SpecOptions } from '../spec.js';

export interface RunOptions extends SpecOptions {
  concurrency?: number;
}

/**
 * `run`: a one-off job in the foreground with live progress. Resolves the exit code: 0
 * only when every run succeeded. Ctrl-C cancels the job (its runs end ABORTED).
 */
export async function runCommand(project: string, pipeline: string | undefined, o: RunOptions & GlobalOptions): Promise<number> {
  const spec = await jobSpecOf(project, pipeline, o);
  // keepAlive: between two steps only the library's (unref'd) timers may be pending.
  const env = await openEnv(o, { keepAlive: true, ...(o.concurrency ? { concurrency: o.concurrency } : {}) });
  const stop = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('\nCancelling the job...\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Created as a draft so progress listens before the first run can start.
    const draft = await env.scheduler.createJob({ ...spec, schedule: { type: 'now' }, draft: true });
    const progress = new Progress(env.scheduler, draft, o.json ? process.stderr : process.stdout);
    progress.start();
    await env.scheduler.start();
    await env.scheduler.confirmJob(draft.id);
    const cancelled = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    const ended = env.scheduler.waitForJob(draft.id);
    await Promise.race([ended, cancelled]);
    if (stop.signal.aborted) {
      const now = await env.scheduler.getJob(draft.id);
      if (now && !['SUCCESS', 'FAILURE', 'ABORTED'].includes(now.status)) await env.scheduler.cancelJob(draft.id);
    }
    const job = await ended;
    await env.scheduler.onIdle();
    await progress.stop();
    const runs = await allRuns(env.scheduler, job.id);
    const ok = runs.length > 0 && runs.every((r) => r.status === 'SUCCESS');
    if (o.json) printJson({ job: { id: job.id, name: job.name, status: job.status, counters: job.counters }, runs: runs.map((r) => ({ id: r.id, runIndex: r.runIndex, gridIndex: r.gridIndex, status: r.status, reason: r.reason })) });
    else {
      const c = job.counters;
      process.stdout.write(`\nJob ${job.id} ${job.status}: ${c.SUCCESS} succeeded, ${c.FAILURE} failed, ${c.ABORTED} aborted\n`);
      process.stdout.write(`See it with: pipeline-jobs runs ${job.id.slice(0, 8)}   pipeline-jobs logs <run> [step]\n`);
    }
    return interrupted ? 130 : ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await env.close({ mode: 'cancel' });
  }
}
