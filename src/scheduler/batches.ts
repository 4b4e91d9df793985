import { type JobStatus, isEndState } from '../status.js';
import type { BatchRecord, BatchTrigger, BatchTriggerKind, JobPatch, JobRecord, NewRun } from '../storage/records.js';
import type { LedgerRetention } from '../storage/port.js';
import type { SchedulerContext } from './context.js';
import { newId } from './job-factory.js';
import { ledgerRetentionOf } from './purge.js';

/**
 * Starts a batch: claims the occurrence (exactly once across processes), then writes the
 * runs in chunks. Resolves the batch, or `undefined` when the occurrence was already
 * claimed or the job's status did not allow it.
 */
export async function startBatch(
  ctx: SchedulerContext,
  job: JobRecord,
  trigger: BatchTrigger,
  occurrenceAt: number | null,
  expectStatus: readonly JobStatus[],
  jobPatch?: JobPatch,
  catchUp = false,
): Promise<BatchRecord | undefined> {
  const { selection } = ctx.grids.get(job);
  const batch = await ctx.o.storage.createBatch({
    jobId: job.id,
    trigger,
    triggerKind: triggerKindOf(job, trigger, catchUp),
    occurrenceAt,
    runCount: selection.count,
    // Recorded with the batch: a resume writes exactly these runs, whatever edits come later.
    grid: job.grid,
    selection: job.selection,
    expectStatus,
    ...(jobPatch ? { jobPatch } : {}),
    ...ledgerOption(job),
    now: ctx.o.clock.now(),
  });
  if (!batch) return undefined;
  if (occurrenceAt !== null) ctx.events.emit('occurrence:fired', { jobId: job.id, at: occurrenceAt, batchIndex: batch.batchIndex });
  ctx.events.emit('batch:started', { jobId: job.id, batchIndex: batch.batchIndex, runCount: batch.runCount, trigger });
  await writeRuns(ctx, job, batch);
  return batch;
}

/**
 * Writes a batch's runs from `batch.writtenRuns` on, in chunks, so a batch interrupted by
 * a crash is resumed where it stopped, and memory does not grow with the grid. The runs
 * come from the grid and selection the batch recorded, never from the job's current ones.
 */
export async function writeRuns(ctx: SchedulerContext, job: JobRecord, batch: BatchRecord): Promise<void> {
  const { grid, selection } = ctx.grids.ofBatch(batch);
  const chunkSize = ctx.o.batchChunkSize;
  let chunk: NewRun[] = [];
  let indexInBatch = 0;
  for (const gridIndex of selection) {
    if (indexInBatch >= batch.runCount) break;
    if (indexInBatch >= batch.writtenRuns) {
      chunk.push({ id: newId(), gridIndex, indexInBatch, parameters: grid.at(gridIndex) });
      if (chunk.length >= chunkSize) {
        // `false`: the job ended meanwhile (a cancel); storage closed the batch, stop here.
        if (!(await ctx.o.storage.insertRuns(job.id, batch.batchIndex, chunk, ctx.o.clock.now()))) return;
        chunk = [];
        ctx.dispatcher.wake();
      }
    }
    indexInBatch++;
  }
  if (chunk.length > 0) await ctx.o.storage.insertRuns(job.id, batch.batchIndex, chunk, ctx.o.clock.now());
  ctx.dispatcher.wake();
}

/** Finishes writing batches a dead process left incomplete. */
export async function resumeIncompleteBatches(ctx: SchedulerContext): Promise<void> {
  for (const batch of await ctx.o.storage.listIncompleteBatches()) {
    await ctx.lock(batch.jobId, async () => {
      const fresh = await ctx.o.storage.getBatch(batch.jobId, batch.batchIndex);
      const job = await ctx.o.storage.getJob(batch.jobId);
      if (!fresh || !job || isEndState(job.status) || fresh.writtenRuns >= fresh.runCount) return;
      await writeRuns(ctx, job, fresh);
    });
  }
}

function ledgerOption(job: JobRecord): { ledgerRetention?: LedgerRetention } {
  const r = ledgerRetentionOf(job);
  return r ? { ledgerRetention: r } : {};
}

/** What steps are told started the batch (recorded with it). */
function triggerKindOf(job: JobRecord, trigger: BatchTrigger, catchUp: boolean): BatchTriggerKind {
  if (trigger === 'manual') return 'manual';
  if (job.schedule.type !== 'cron') return job.schedule.type;
  return catchUp ? 'catch-up' : 'schedule';
}
