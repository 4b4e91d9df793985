import type { StepContext } from './step-executor.js';

/**
 * Internal: the run executor's step contexts make their AbortSignal only when it is read
 * (an AbortController costs more than a no-op in-process step). This key lets the
 * library's own executors ask "already stopped?" without making it. Other contexts (the
 * contract suite's, an integrator's) do not have it and are asked through their signal.
 */
export const attemptStopped: unique symbol = Symbol('pipeline-jobs.attemptStopped');

/** Whether the attempt was told to stop, without making its signal when avoidable. */
export function isStopped(context: StepContext): boolean {
  const fast = (context as { [attemptStopped]?: () => boolean })[attemptStopped];
  return fast ? fast() : context.signal.aborted;
}
