import { logKeyString, type LogKey, type LogStore, type LogStream } from './log-store.js';

interface MemoryLog {
  readonly key: LogKey;
  readonly chunks: string[];
  ended: boolean;
  /** Followers waiting for the next change. */
  waiters: Array<() => void>;
}

/**
 * A {@link LogStore} in memory: for tests, demos and hosts that ship logs elsewhere
 * themselves. Logs live as long as the store (or until `delete`).
 */
export class MemoryLogStore implements LogStore {
  readonly #logs = new Map<string, MemoryLog>();
  /** Followers of logs that do not exist yet, by key string. */
  readonly #awaitingCreation = new Map<string, Array<() => void>>();

  /** `stream` is not kept: all streams are interleaved in one text. */
  async append(key: LogKey, text: string, _stream?: LogStream): Promise<void> {
    const log = this.#get(key);
    if (log.ended) throw new Error(`MemoryLogStore: append after end (run ${key.runId}, step ${key.stepId})`);
    if (text === '') return;
    log.chunks.push(text);
    wake(log);
  }

  async end(key: LogKey): Promise<void> {
    const log = this.#get(key);
    log.ended = true;
    wake(log);
  }

  async read(key: LogKey): Promise<string | undefined> {
    return this.#logs.get(logKeyString(key))?.chunks.join('');
  }

  async *follow(key: LogKey, options: { signal?: AbortSignal } = {}): AsyncIterable<string> {
    const { signal } = options;
    const k = logKeyString(key);
    let log = this.#logs.get(k);
    while (!log) {
      if (signal?.aborted) return;
      await waitOn(this.#awaitingCreation.get(k) ?? this.#awaitingCreationList(k), signal);
      log = this.#logs.get(k);
    }
    let next = 0;
    for (;;) {
      if (signal?.aborted) return;
      if (log.chunks.length > next) {
        const text = log.chunks.slice(next).join('');
        next = log.chunks.length;
        yield text;
        continue;
      }
      if (log.ended) return;
      const current = log;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        current.waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  async delete(runId: string): Promise<void> {
    for (const [k, log] of this.#logs) {
      if (log.key.runId === runId) {
        this.#logs.delete(k);
        // Followers of a deleted log finish with what they already yielded.
        log.ended = true;
        wake(log);
      }
    }
  }

  /** Keys of every log held (for tests and diagnostics). */
  keys(): LogKey[] {
    return [...this.#logs.values()].map((l) => l.key);
  }

  #get(key: LogKey): MemoryLog {
    const k = logKeyString(key);
    let log = this.#logs.get(k);
    if (!log) {
      log = { key: { runId: key.runId, stepId: key.stepId }, chunks: [], ended: false, waiters: [] };
      this.#logs.set(k, log);
      const waiting = this.#awaitingCreation.get(k);
      if (waiting) {
        this.#awaitingCreation.delete(k);
        for (const w of waiting) w();
      }
    }
    return log;
  }

  #awaitingCreationList(k: string): Array<() => void> {
    const list: Array<() => void> = [];
    this.#awaitingCreation.set(k, list);
    return list;
  }
}

function wake(log: MemoryLog): void {
  const waiters = log.waiters;
  log.waiters = [];
  for (const w of waiters) w();
}

/** Waits until `list`'s callbacks are called or the signal aborts. */
function waitOn(list: Array<() => void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      signal?.removeEventListener('abort', done);
      resolve();
    };
    list.push(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
