import type { OverlapPolicy } from './types.js';

/** What the scheduler does with an occurrence, given the overlap policy and what runs. */
export const OverlapDecision = {
  /** Start a batch now. */
  START: 'start',
  /** Record the occurrence as skipped (`overlap`). */
  SKIP: 'skip',
  /** Keep it; start it when the running batch ends. */
  QUEUE: 'queue',
  /** Cancel the running batch, then start. */
  CANCEL_PREVIOUS: 'cancel-previous',
} as const;
export type OverlapDecision = (typeof OverlapDecision)[keyof typeof OverlapDecision];

/**
 * The overlap policy as a pure function. `running`: a batch of the job from an earlier
 * occurrence still has unfinished runs; `queued`: an occurrence is already waiting
 * (`queue` buffers one: a further one is skipped).
 */
export function decideOverlap(policy: OverlapPolicy, state: { running: boolean; queued: boolean }): OverlapDecision {
  if (!state.running || policy === 'allow') return 'start';
  if (policy === 'skip') return 'skip';
  if (policy === 'queue') return state.queued ? 'skip' : 'queue';
  return 'cancel-previous';
}
