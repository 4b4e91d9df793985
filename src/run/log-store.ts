/** Identifies one step's log. */
export interface LogKey {
  /** The run's id. */
  readonly runId: string;
  /** The step's uuid in the pipeline. */
  readonly stepId: string;
}

/** Which stream a chunk came from; `system` is the run executor's own lines. */
export type LogStream = 'stdout' | 'stderr' | 'system';

/**
 * The log store port: where each step's output goes. One log per step of a run (all
 * attempts of the step, separated by marker lines). The library ships
 * `MemoryLogStore` and `FileLogStore`; a host may plug in its own.
 *
 * Must hold:
 * - Appends to one key are applied in call order (the run executor never has two appends
 *   of one key in flight, it waits for each).
 * - `read` returns everything appended so far, `undefined` for a key never appended to
 *   nor ended.
 * - `follow` yields everything appended so far, then each new append, and completes once
 *   `end(key)` was called and everything before it was yielded. On a key that does not
 *   exist yet it waits for it. It stops (without error) when its `signal` aborts.
 * - `end` is idempotent; appending after `end` is an error of the caller.
 * - `delete(runId)` removes the logs of every step of the run.
 *
 * Size limits are not the store's job: the run executor caps each step's log
 * (`maxLogBytes`) and writes a visible truncation marker before the cut.
 */
export interface LogStore {
  /** Appends text. `stream` is informative: the shipped stores interleave all streams in one text. */
  append(key: LogKey, text: string, stream: LogStream): Promise<void>;
  /** Marks the log complete: followers finish. */
  end(key: LogKey): Promise<void>;
  /** Everything appended to the log so far; `undefined` for a key never appended to nor ended. */
  read(key: LogKey): Promise<string | undefined>;
  /**
   * Yields everything appended so far, then each new append; completes once the log is
   * ended and everything before the end was yielded. Waits for a log that does not exist
   * yet. Stops without error when `options.signal` aborts.
   */
  follow(key: LogKey, options?: { signal?: AbortSignal }): AsyncIterable<string>;
  /** Removes the logs of every step of the run (a run without logs is no error). */
  delete(runId: string): Promise<void>;
}

/** A single string for maps keyed by {@link LogKey}. */
export function logKeyString(key: LogKey): string {
  return `${key.runId}\u0000${key.stepId}`;
}
