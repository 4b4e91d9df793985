import { RunState } from '../status.js';
import type { RunRecord, StepStateRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';
import { notStarted, type RunOutcome } from './dispatcher.js';
import { runRequestOf } from './runner.js';

/** Executes one claimed run with the job's frozen state and the batch's variables. */
export async function handleRun(ctx: SchedulerContext, run: RunRecord, signal: AbortSignal): Promise<RunOutcome> {
  const { o } = ctx;
  // Nothing ran yet: a failed read lets the dispatcher prepare the run again (not fail it).
  const [job, batch] = await Promise.all([ctx.jobReads.forRun(run), ctx.batches.get(run.jobId, run.batchIndex, () => o.storage.getBatch(run.jobId, run.batchIndex))]).catch((err: unknown) => {
    throw notStarted(err);
  });
  if (!job || !batch) return { status: RunState.ABORTED, reason: 'cancelled', error: { code: 'RUN_JOB_DELETED', message: 'The job was deleted' } };
  if (run.attempts > 1 && o.executor.endRunProcesses) {
    // A re-run never starts beside a live process of an earlier attempt (on this machine:
    // another machine's leftovers are ended by its own sweep when it restarts).
    const current = run.attempts;
    await o.executor.endRunProcesses(run.id, { attempts: (a) => a < current, gracePeriodMs: 2_000 });
  }
  ctx.events.emit('run:started', { jobId: run.jobId, runId: run.id, attempt: run.attempts });
  const result = await o.executor.execute(runRequestOf(job, batch, run, o.snapshots), { signal });
  const steps: StepStateRecord[] = Object.values(result.steps).map((s) => ({
    runId: run.id,
    stepId: s.uuid,
    status: s.status,
    startedAt: s.startedAt ?? null,
    finishedAt: s.finishedAt ?? null,
    attempts: s.attempts,
    exitCode: s.exitCode ?? null,
    // A log-store failure under onLogError 'warn' leaves the step's status, and shows here.
    error: s.error ? { code: s.error.code, message: s.error.message } : s.logError ? { code: s.logError.code, message: s.logError.message } : null,
  }));
  // Stored by the dispatcher with the run's end.
  const status = result.status === RunState.SUCCESS || result.status === RunState.ABORTED ? result.status : RunState.FAILURE;
  return {
    status,
    ...(status === RunState.FAILURE ? { reason: result.error?.code === 'RUN_TIMEOUT' ? ('timeout' as const) : ('failed' as const) } : {}),
    ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
    steps,
  };
}

/** Passes the executor's step events on as scheduler events, and records process info. */
export function wireExecutorEvents(ctx: SchedulerContext): () => void {
  const { executor, storage, owner } = ctx.o;
  // Every step's process identity of a run, stored as one JSON object per run.
  const processes = new Map<string, Record<string, unknown>>();
  const offs = [
    executor.on('run:finished', (e) => {
      processes.delete(e.runId);
    }),
    executor.on('step:started', (e) => {
      if (e.jobId !== undefined && e.attempt === 1) ctx.events.emit('step:started', { jobId: e.jobId, runId: e.runId, stepId: e.stepId });
    }),
    executor.on('step:finished', (e) => {
      if (e.jobId !== undefined) ctx.events.emit('step:finished', { jobId: e.jobId, runId: e.runId, stepId: e.stepId, status: e.status });
    }),
    executor.on('step:process', (e) => {
      const all = { ...processes.get(e.runId), [e.stepId]: e.process };
      processes.set(e.runId, all);
      storage
        .setProcessInfo(e.runId, owner, all as never)
        .catch((err: unknown) => ctx.fail(err, `recording the processes of run ${e.runId}`));
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
