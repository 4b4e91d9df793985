import type { Logger } from '../logger.js';
import type { RunResult, SerializedError } from './result.js';
import type { RunStatus, StepStatus } from './status.js';
import type { StepProcessInfo } from './step-executor.js';

/** Fields every event of a run carries. */
interface RunEventBase {
  readonly runId: string;
  readonly jobId?: string;
  readonly projectId: string;
}

/** The events of a {@link RunExecutor}, one payload object each. Times are clock ms. */
export interface RunExecutorEvents {
  'run:started': RunEventBase & { readonly pipelineUuid: string; readonly startedAt: number; readonly workingCopy: string };
  'run:finished': RunEventBase & {
    readonly status: RunStatus;
    readonly startedAt: number;
    readonly finishedAt: number;
    readonly durationMs: number;
    readonly result: RunResult;
  };
  /** Emitted for every attempt. */
  'step:started': RunEventBase & { readonly stepId: string; readonly attempt: number; readonly startedAt: number };
  /** An attempt failed and another one follows after `delayMs`. */
  'step:retrying': RunEventBase & {
    readonly stepId: string;
    readonly attempt: number;
    readonly nextAttempt: number;
    readonly delayMs: number;
    readonly error: SerializedError;
  };
  /** Emitted once per step, also for steps that never started (ABORTED, attempts 0). */
  'step:finished': RunEventBase & {
    readonly stepId: string;
    readonly status: StepStatus;
    readonly attempts: number;
    readonly startedAt?: number;
    readonly finishedAt: number;
    readonly durationMs?: number;
    readonly exitCode?: number | null;
    readonly error?: SerializedError;
  };
  /** A step's processes started: what a crash recovery needs to find them (`killStepProcesses`). */
  'step:process': RunEventBase & { readonly stepId: string; readonly attempt: number; readonly process: StepProcessInfo };
}

export type RunExecutorEventName = keyof RunExecutorEvents;
export type RunExecutorListener<E extends RunExecutorEventName> = (payload: RunExecutorEvents[E]) => void;

/**
 * A typed event hub: listeners are called in subscription order; a listener that throws
 * (or returns a rejected promise) is reported to the logger and never breaks the run.
 */
export class EventHub {
  readonly #listeners = new Map<RunExecutorEventName, Set<(payload: never) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<E extends RunExecutorEventName>(event: E, listener: RunExecutorListener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry = (payload: never): void => listener(payload);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** True when somebody listens (lets hot paths skip building payloads). */
  has(event: RunExecutorEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends RunExecutorEventName>(event: E, payload: RunExecutorEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        const result: unknown = (listener as (p: RunExecutorEvents[E]) => unknown)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.#report(event, error));
      } catch (error) {
        this.#report(event, error);
      }
    }
  }

  #report(event: string, error: unknown): void {
    this.#logger.error('a run executor event listener threw; the run goes on', { event, error });
  }
}
