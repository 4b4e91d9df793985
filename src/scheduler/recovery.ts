import { hostname } from 'node:os';
import { terminateStepProcesses } from '../run/processes.js';
import type { StepProcessInfo } from '../run/step-executor.js';
import type { RunRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';

/**
 * Ends what is left of a run whose process died: the step processes the executor
 * recorded (found by their token, so also those that started a new session) and its
 * working copy. Runs on whichever process finds the expired lease: leftovers on another
 * machine are that machine's to clean when it restarts.
 */
export async function recoverRunProcesses(ctx: SchedulerContext, run: RunRecord): Promise<void> {
  const info = (run.processInfo ?? {}) as unknown as Record<string, StepProcessInfo>;
  for (const [stepId, p] of Object.entries(info)) {
    if (!p || typeof p !== 'object' || typeof p.token !== 'string') continue;
    // Pids only mean something on the machine that started them.
    if (p.hostname !== hostname()) continue;
    try {
      await terminateStepProcesses(p as never, { gracePeriodMs: 2_000, clock: ctx.o.clock });
    } catch (err) {
      ctx.fail(err, `ending leftover processes of step ${stepId} of run ${run.id}`);
    }
  }
  await ctx.o.executor.removeWorkingCopy?.(run.id);
}
