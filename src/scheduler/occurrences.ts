import { JobStatus } from '../status.js';
import type { SkipInput } from '../storage/port.js';
import type { JobRecord, SkipReason } from '../storage/records.js';
import { type Decision, isOneOff, scheduleOf } from './schedule-adapter.js';
import { startBatch } from './batches.js';
import type { SchedulerContext } from './context.js';
import { emitAborted, finishJobIfDone } from './finish.js';
import { ledgerRetentionOf } from './purge.js';

/** Statuses in which a job's schedule is watched. */
export const WATCHED: readonly JobStatus[] = [JobStatus.PENDING, JobStatus.STARTED, JobStatus.PAUSED];

/**
 * Handles everything due for one job now: plans its occurrences since its cursor (late,
 * missed, paused, DST), records skips, starts batches (overlap policy), and re-arms the
 * timer for its next occurrence. Serialised per job; safe to call any time.
 */
export function processJob(ctx: SchedulerContext, jobId: string): Promise<void> {
  return ctx.lock(jobId, async () => {
    let job = await ctx.o.storage.getJob(jobId);
    if (!job || !WATCHED.includes(job.status)) {
      ctx.timer.set(jobId, undefined);
      return;
    }
    const now = ctx.o.clock.now();
    const decisions = ctx.schedules.plan(job, now);
    let skips: SkipInput[] = [];
    const flushSkips = async (): Promise<void> => {
      if (skips.length === 0 || !job) return;
      const lastSkip = skips[skips.length - 1]!;
      const last = lastSkip.lastAt ?? lastSkip.at;
      const now = ctx.o.clock.now();
      const retention = ledgerRetentionOf(job);
      const ok = await ctx.o.storage.recordSkips(job.id, skips, { scheduleCursor: last, expectVersion: job.version, now }, retention && { ...retention, now });
      if (ok) for (const s of skips) ctx.events.emit('occurrence:skipped', { jobId: job.id, at: s.at, lastAt: s.lastAt ?? s.at, count: s.count ?? 1, reason: s.reason });
      skips = [];
      job = await ctx.o.storage.getJob(job.id);
    };
    for (const d of decisions) {
      if (!job || !WATCHED.includes(job.status)) break;
      if (d.action === 'skip') {
        skips.push({ at: d.at, lastAt: d.lastAt, count: d.count, reason: d.reason });
        continue;
      }
      await flushSkips();
      if (!job) break;
      const skipped = await fire(ctx, job, d);
      if (skipped) skips.push({ at: d.at, reason: skipped });
      job = await ctx.o.storage.getJob(jobId);
    }
    await flushSkips();
    if (!job || !WATCHED.includes(job.status)) {
      ctx.timer.set(jobId, undefined);
      return;
    }
    ctx.timer.set(jobId, ctx.schedules.nextWake(job, ctx.o.clock.now()));
    await finishJobIfDone(ctx, jobId);
  });
}

/** Fires one occurrence under the overlap policy; resolves a skip reason when it did not run. */
async function fire(ctx: SchedulerContext, job: JobRecord, d: Decision): Promise<SkipReason | undefined> {
  const oneOff = isOneOff(job);
  const busy = job.counters.PENDING + job.counters.STARTED > 0;
  const overlap = oneOff ? 'allow' : overlapPolicyOf(job);
  if (busy && overlap === 'skip') return 'overlap';
  if (busy && overlap === 'queue') {
    if (job.bufferedOccurrence !== null) return 'overlap';
    // If another process changed the job meanwhile, the cursor did not move and the
    // occurrence is planned again on the next pass.
    await ctx.o.storage.updateJob(
      job.id,
      { bufferedOccurrence: d.at, scheduleCursor: d.at },
      { status: [job.status], version: job.version },
      ctx.o.clock.now(),
    );
    return undefined;
  }
  if (busy && overlap === 'cancel-previous') {
    const { flagged, aborted } = await ctx.o.storage.cancelRuns({ jobId: job.id }, ctx.o.clock.now());
    for (const id of flagged) ctx.dispatcher.abort(id, 'overlap');
    emitAborted(ctx, job.id, aborted);
  }
  await startBatch(
    ctx,
    job,
    'schedule',
    d.at,
    oneOff ? [JobStatus.PENDING] : [JobStatus.STARTED],
    oneOff ? { status: JobStatus.STARTED, scheduleCursor: d.at } : { scheduleCursor: d.at },
    d.action === 'run' && d.catchUp,
  );
  return undefined;
}

/**
 * Starts the buffered occurrence of a `queue` job once its previous batch finished.
 * `seen`, the job read after a run's end committed, spares the locked read when the job
 * holds no buffered occurrence and its policy is not `queue`: an occurrence buffered later
 * needs the policy at its buffering, and a run that was still going then ends after it,
 * reads the policy, and starts it.
 */
export async function startBuffered(ctx: SchedulerContext, jobId: string, seen?: JobRecord): Promise<void> {
  if (seen && seen.bufferedOccurrence === null && overlapPolicyOf(seen) !== 'queue') return;
  await ctx.lock(jobId, async () => {
    const job = await ctx.o.storage.getJob(jobId);
    if (!job || job.status !== JobStatus.STARTED) return;
    const at = job.bufferedOccurrence;
    if (at === null || job.counters.PENDING + job.counters.STARTED > 0) return;
    // Claiming the buffered occurrence consumes it in the same transaction (see
    // `Storage.createBatch`): once only across processes, though it is behind the cursor.
    await startBatch(ctx, job, 'schedule', at, [JobStatus.STARTED]);
  });
}

function overlapPolicyOf(job: JobRecord): string {
  const schedule = scheduleOf(job);
  return schedule.type === 'cron' ? schedule.overlap : 'allow';
}
