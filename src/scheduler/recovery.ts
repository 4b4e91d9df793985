import { killStepProcesses } from '../run/processes.js';
import type { StepProcessInfo } from '../run/step-executor.js';
import { RunState } from '../status.js';
import type { RunRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';

/** Grace period for leftover processes: nobody waits for their output any more. */
const LEFTOVER_GRACE_MS = 2_000;

/**
 * Ends what is left of a run whose process died, right after storage recorded it:
 * its processes on this machine (found by the run id and attempt every step process
 * carries, so also those started just before the crash and never recorded) and its
 * working copy (when it will not run again). A process killed in the middle of this
 * leaves the rest to {@link sweepLeftovers}, which every scheduler on this machine runs
 * at start and every rescan: nothing here has to survive a crash to be found again.
 */
export async function recoverRunProcesses(ctx: SchedulerContext, run: RunRecord, outcome: 'failed' | 'requeued'): Promise<void> {
  const { executor } = ctx.o;
  if (executor.endRunProcesses) {
    // A requeued run may already execute again (attempt + 1), here or elsewhere: only the dead attempts go.
    const dead = run.attempts;
    await executor
      .endRunProcesses(run.id, { gracePeriodMs: LEFTOVER_GRACE_MS, ...(outcome === 'requeued' ? { attempts: (a: number) => a <= dead } : {}) })
      .catch((err: unknown) => ctx.fail(err, `ending leftover processes of run ${run.id}`));
  } else {
    await endRecordedProcesses(ctx, run);
  }
  // A requeued run may run again at any moment, here or elsewhere: its next execution
  // replaces the leftover copy itself, so only a run that will never run again is cleaned.
  if (outcome === 'failed') {
    await executor.removeWorkingCopy?.(run.id).catch((err: unknown) => ctx.fail(err, `removing the working copy of run ${run.id}`));
  }
}

/**
 * Finds what dead runs left on this machine, whoever recovered them and whenever that
 * process died: a process of a run is ended unless storage says that very attempt is
 * still going (STARTED with the same claim count: its owner, or its recovery once the
 * lease expires, takes care of it); a working copy is removed when its run ended
 * interrupted. Leftovers of runs this store does not know are left alone (another
 * scheduler's, on another store).
 */
export async function sweepLeftovers(ctx: SchedulerContext): Promise<void> {
  const { executor, storage } = ctx.o;
  if (!executor.findLeftovers) return;
  const found = await executor.findLeftovers();
  const runs = new Map<string, RunRecord | undefined>();
  const runOf = async (id: string): Promise<RunRecord | undefined> => {
    if (!runs.has(id)) runs.set(id, await storage.getRun(id));
    return runs.get(id);
  };
  const ending: Promise<unknown>[] = [];
  for (const p of found.processes) {
    const run = await runOf(p.runId);
    if (!run) continue;
    // Still going: the attempt storage counts as running (a later number than storage knows is a stale read).
    const live = run.status === RunState.STARTED ? p.attempt >= run.attempts : run.status === RunState.PENDING && p.attempt > run.attempts;
    if (live) continue;
    const attempt = p.attempt;
    ctx.o.logger.warn('ending processes left by a run whose process died', { runId: p.runId, attempt, status: run.status });
    ending.push(
      executor
        .endRunProcesses!(p.runId, { gracePeriodMs: LEFTOVER_GRACE_MS, attempts: (a) => a === attempt })
        .catch((err: unknown) => ctx.fail(err, `ending leftover processes of run ${p.runId}`)),
    );
  }
  await Promise.all(ending);
  for (const id of found.workingCopies) {
    const run = await runOf(id);
    if (run?.status !== RunState.FAILURE || run.reason !== 'interrupted') continue;
    await executor.removeWorkingCopy?.(id).catch((err: unknown) => ctx.fail(err, `removing the working copy of run ${id}`));
  }
}

/** The fallback for a runner that cannot find processes by run: the step tokens recorded after each spawn. */
async function endRecordedProcesses(ctx: SchedulerContext, run: RunRecord): Promise<void> {
  const info = (run.processInfo ?? {}) as unknown as Record<string, StepProcessInfo>;
  for (const [stepId, p] of Object.entries(info)) {
    if (!p || typeof p !== 'object' || typeof p.token !== 'string') continue;
    try {
      // By token only (safe against pid reuse); records of another machine or boot are skipped.
      await killStepProcesses(p, { gracePeriodMs: LEFTOVER_GRACE_MS, clock: ctx.o.clock });
    } catch (err) {
      ctx.fail(err, `ending leftover processes of step ${stepId} of run ${run.id}`);
    }
  }
}
