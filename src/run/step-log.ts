import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../logger.js';
import type { LogKey, LogStore, LogStream } from './log-store.js';
import type { LogWriter } from './step-executor.js';

/** Options of {@link StepLog}. */
export interface StepLogOptions {
  /** Bytes of step output (stdout + stderr) kept; the rest is dropped after a marker. */
  maxBytes: number;
  logger: Logger;
}

/** The prefix of lines the library itself writes into a step's log. */
export const SYSTEM_LINE_PREFIX = '[pipeline-jobs] ';

/**
 * One step's log on its way to a {@link LogStore}: decodes UTF-8 per stream, caps the size
 * with a visible marker, and hands text to the store one append at a time (coalescing
 * what piles up meanwhile), so writers never block and the store sees appends in order.
 */
export class StepLog {
  readonly key: LogKey;
  readonly stdout: LogWriter;
  readonly stderr: LogWriter;
  readonly #store: LogStore;
  readonly #options: StepLogOptions;
  #bytes = 0;
  #dropped = 0;
  #truncated = false;
  #pending: Array<{ text: string; stream: LogStream }> = [];
  #draining: Promise<void> = Promise.resolve();
  /** An append loop is running (set before it starts, cleared when it ends, even synchronously). */
  #busy = false;
  #error: unknown;
  #closed = false;
  readonly #decoders: Partial<Record<LogStream, StringDecoder>> = {};
  /** Called once, when the cap is first exceeded. */
  onOverflow: (() => void) | undefined;
  /** Called once, when the store first fails (the running attempt decides what that means). */
  onError: ((error: unknown) => void) | undefined;

  constructor(store: LogStore, key: LogKey, options: StepLogOptions) {
    this.#store = store;
    this.key = key;
    this.#options = options;
    // Arrow functions: integrators pass `context.stdout.write` around as a callback.
    this.stdout = { write: (chunk) => this.#write(chunk, 'stdout') };
    this.stderr = { write: (chunk) => this.#write(chunk, 'stderr') };
  }

  /** The step wrote more than the cap. */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** The store's first error (append or end), if one happened (later appends were skipped). */
  get error(): unknown {
    return this.#error;
  }

  /** Writes one line of the library's own (attempt markers, errors). Never capped. */
  system(line: string): void {
    this.#enqueue(`${SYSTEM_LINE_PREFIX}${line}\n`, 'system');
  }

  /** Waits until everything written so far reached the store. */
  async flush(): Promise<void> {
    while (this.#busy) await this.#draining;
  }

  /**
   * Flushes, notes dropped bytes, and ends the log in the store (followers finish), also
   * after the store failed: ending it releases what the store holds for it (an open file)
   * and tells followers nothing more comes. Never rejects: a failing end is recorded as
   * {@link error} like a failing append. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#decoders[stream]?.end();
      if (rest) this.#text(rest, stream);
    }
    if (this.#dropped > 0) this.system(`${this.#dropped} more bytes of output were dropped`);
    this.#closed = true;
    await this.flush();
    try {
      await this.#store.end(this.key);
    } catch (error) {
      this.#fail(error, 'log store end failed; followers of this step\'s log may not see its end');
    }
  }

  #write(chunk: string | Uint8Array, stream: 'stdout' | 'stderr'): void {
    if (this.#closed) return;
    if (typeof chunk === 'string') {
      this.#text(chunk, stream);
      return;
    }
    const decoder = (this.#decoders[stream] ??= new StringDecoder('utf8'));
    this.#text(decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)), stream);
  }

  #text(text: string, stream: 'stdout' | 'stderr'): void {
    if (text === '') return;
    const size = Buffer.byteLength(text);
    if (this.#truncated) {
      this.#dropped += size;
      return;
    }
    const room = this.#options.maxBytes - this.#bytes;
    if (size <= room) {
      this.#bytes += size;
      this.#enqueue(text, stream);
      return;
    }
    // Cut at the cap; a character split by the cut is dropped rather than mangled.
    const kept = Buffer.from(text).subarray(0, Math.max(0, room)).toString('utf8').replace(/\uFFFD$/, '');
    this.#bytes += Buffer.byteLength(kept);
    this.#dropped += size - Buffer.byteLength(kept);
    if (kept !== '') this.#enqueue(kept, stream);
    this.#truncated = true;
    this.#enqueue(
      `\n${SYSTEM_LINE_PREFIX}log truncated: this step wrote more than ${this.#options.maxBytes} bytes (maxLogBytes); further output is dropped\n`,
      'system',
    );
    this.onOverflow?.();
  }

  #fail(error: unknown, message: string): void {
    this.#options.logger.error(message, { runId: this.key.runId, stepId: this.key.stepId, error });
    if (this.#error !== undefined) return;
    this.#error = error;
    this.onError?.(error);
  }

  #enqueue(text: string, stream: LogStream): void {
    this.#pending.push({ text, stream });
    if (this.#busy) return;
    this.#busy = true;
    this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      await this.#drainPending();
    } finally {
      this.#busy = false;
    }
  }

  async #drainPending(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      // Consecutive chunks of one stream go as one append.
      let i = 0;
      while (i < batch.length) {
        const stream = batch[i]!.stream;
        let text = '';
        while (i < batch.length && batch[i]!.stream === stream) text += batch[i++]!.text;
        if (this.#error !== undefined) continue;
        try {
          await this.#store.append(this.key, text, stream);
        } catch (error) {
          // Recorded and reported once; later output is skipped. The attempt's policy
          // (onLogError) decides whether the step goes on.
          this.#fail(error, 'log store append failed; further output of this step is not stored');
        }
      }
    }
  }
}
