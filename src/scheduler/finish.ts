import { JobStatus } from '../status.js';
import type { JobRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';
import { endStatusOf } from './lifecycle.js';
import { isOneOff } from './schedule-adapter.js';

/**
 * Ends a job whose work is over, with the status its counters give (never from the runs
 * still retained): a one-off job once its batch ran and no run is unfinished; a cron job
 * once past its end and no run is unfinished. Compare-and-set from the status read, so
 * an end state is never left and never set twice. `seen`, a read of the job made after a
 * run's end committed, spares the read while runs are still unfinished.
 */
export async function finishJobIfDone(ctx: SchedulerContext, jobId: string, seen?: JobRecord): Promise<JobRecord | undefined> {
  // `seen`: the job read after a run's end was committed. Runs still unfinished then end
  // later, and the last of them to commit reads no unfinished run: its call finishes the job.
  if (seen && seen.counters.PENDING + seen.counters.STARTED > 0) return undefined;
  const job = await ctx.o.storage.getJob(jobId);
  if (!job || (job.status !== JobStatus.STARTED && job.status !== JobStatus.PAUSED)) return undefined;
  const c = job.counters;
  if (c.PENDING + c.STARTED > 0) return undefined;
  // Runs of a batch still being written are reserved in runCount but not yet counted.
  if (c.SUCCESS + c.FAILURE + c.ABORTED < job.runCount) return undefined;
  const now = ctx.o.clock.now();
  if (isOneOff(job) ? job.scheduleCursor === null : ctx.schedules.hasFuture(job, now)) return undefined;
  if (!isOneOff(job) && job.bufferedOccurrence !== null) return undefined;
  const status = endStatusOf(c);
  const done = await ctx.o.storage.updateJob(job.id, { status, finishedAt: now }, { status: [job.status], version: job.version }, now);
  if (done) {
    ctx.timer.set(job.id, undefined);
    ctx.events.emit('job:finished', { jobId: job.id, status });
  }
  return done;
}

/**
 * `run:finished` for PENDING runs this process ended ABORTED by a cancel: storage named
 * them in the answer of the `cancelRuns` that ended them, so each is emitted once, in
 * the one process that ended it (as the runs a process executes are).
 */
export function emitAborted(ctx: SchedulerContext, jobId: string, runIds: readonly string[]): void {
  for (const runId of runIds) ctx.events.emit('run:finished', { jobId, runId, status: 'ABORTED', reason: 'cancelled' });
}
