import type { RunContext, StepState } from './run-context.js';
import { StepErrorCode } from './result.js';
import { StepStatus } from './status.js';
import { emitFinished, runStep } from './step-runner.js';

/** Steps started in one synchronous pass at most; the rest follow on the next turn of the event loop. */
const START_BURST = 64;

/**
 * Runs the steps of a run in DAG order: a step starts when all its incoming steps
 * succeeded, at most `ctx.parallelism` at once, ready steps in the pipeline file's
 * order. Resolves when no step runs and none can start; steps that never started are
 * then ABORTED (with the run's stop reason, or `STEP_UPSTREAM_FAILED`).
 */
export function runDag(ctx: RunContext, states: readonly StepState[]): Promise<void> {
  const ready: StepState[] = states.filter((s) => s.waiting === 0);
  let head = 0;
  let running = 0;
  return new Promise<void>((resolve) => {
    let finished = false;
    let deferred = false;
    const pump = (): void => {
      let burst = 0;
      while (!ctx.stopReason && running < ctx.parallelism && head < ready.length) {
        if (burst++ === START_BURST) {
          // Thousands of ready steps started in one go would all be in flight at once (and
          // their state promoted by the GC); started in bursts, quick ones finish in between.
          if (!deferred) {
            deferred = true;
            setImmediate(() => {
              deferred = false;
              pump();
            });
          }
          return;
        }
        const s = ready[head++]!;
        running++;
        void runStep(ctx, s).then(
          () => done(s),
          (error: unknown) => {
            // runStep turns every step problem into a status; this is a bug or a failing log store.
            ctx.options.logger.error('step runner failed', { runId: ctx.base.runId, stepId: s.step.uuid, error });
            s.status = StepStatus.FAILURE;
            s.error = { code: StepErrorCode.ERROR, message: `Internal error while running the step: ${String(error)}` };
            s.finishedAt = ctx.options.clock.now();
            ctx.firstFailure ??= { stepId: s.step.uuid, title: s.step.title, error: s.error };
            done(s);
          },
        );
      }
      if (running === 0 && !deferred && (head >= ready.length || ctx.stopReason) && !finished) {
        finished = true;
        ctx.stop.signal.removeEventListener('abort', pump);
        abortUnstarted(ctx, states);
        resolve();
      }
    };
    const done = (s: StepState): void => {
      running--;
      if (s.status === StepStatus.SUCCESS) {
        for (const child of s.children) if (--child.waiting === 0) ready.push(child);
      }
      pump();
    };
    ctx.stop.signal.addEventListener('abort', pump, { once: true });
    pump();
  });
}

function abortUnstarted(ctx: RunContext, states: readonly StepState[]): void {
  const now = ctx.options.clock.now();
  for (const s of states) {
    if (s.status !== StepStatus.PENDING) continue;
    s.status = StepStatus.ABORTED;
    s.finishedAt = now;
    s.error = ctx.stopReason
      ? ctx.stopReason.stepError
      : { code: StepErrorCode.UPSTREAM_FAILED, message: 'Not started: a step it depends on did not succeed' };
    emitFinished(ctx, s);
  }
}
