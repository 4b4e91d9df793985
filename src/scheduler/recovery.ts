import { killStepProcesses } from '../run/processes.js';
import type { StepProcessInfo } from '../run/step-executor.js';
import type { RunRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';

/**
 * Ends what is left of a run whose process died: the step processes the executor
 * recorded (found by their token, so also those that started a new session) and its
 * working copy (when it will not run again). Runs on whichever process finds the
 * expired lease: leftovers on another machine are that machine's to clean when it restarts.
 */
export async function recoverRunProcesses(ctx: SchedulerContext, run: RunRecord, outcome: 'failed' | 'requeued'): Promise<void> {
  const info = (run.processInfo ?? {}) as unknown as Record<string, StepProcessInfo>;
  for (const [stepId, p] of Object.entries(info)) {
    if (!p || typeof p !== 'object' || typeof p.token !== 'string') continue;
    try {
      // By token only (safe against pid reuse); records of another machine or boot are skipped.
      await killStepProcesses(p, { gracePeriodMs: 2_000, clock: ctx.o.clock });
    } catch (err) {
      ctx.fail(err, `ending leftover processes of step ${stepId} of run ${run.id}`);
    }
  }
  // A requeued run may run again at any moment, here or elsewhere: its next execution
  // replaces the leftover copy itself, so only a run that will never run again is cleaned.
  if (outcome === 'failed') await ctx.o.executor.removeWorkingCopy?.(run.id);
}
