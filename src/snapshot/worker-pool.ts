/**
 * A few worker threads running the batches of one operation (see `worker-source.ts`).
 * Workers start on first use and end with `close()`. A failed batch stops the dispatch of
 * new ones; the batches in flight finish (each is small), so nothing is cut mid-write.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PipelineJobsError } from '../errors.js';
import { snapshotError, SnapshotErrorCode, type SnapshotErrorCode as Code } from './errors.js';
import type { SnapshotError } from '../errors.js';
import { WORKER_CORE, WORKER_SOURCE } from './worker-source.js';

export type WorkerOp = 'store' | 'copy' | 'verify';

interface Reply {
  results?: unknown[];
  error?: { code: string; rel?: string; errno?: string; message: string };
}

interface Slot {
  readonly worker: Worker;
  /** Replies come in the order of the messages: one waiter per message sent. */
  readonly pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }>;
}

/** Batches kept in flight per thread, so a thread never waits for the next one. */
const IN_FLIGHT = 2;

const KNOWN_CODES = new Set<string>(Object.values(SnapshotErrorCode));

function toError(e: NonNullable<Reply['error']>): PipelineJobsError {
  const code = (KNOWN_CODES.has(e.code) ? e.code : SnapshotErrorCode.IO_ERROR) as SnapshotError['code']; // workers report I/O codes only
  const messages: Partial<Record<Code, string>> = {
    [SnapshotErrorCode.UNREADABLE]: 'Cannot read a file of the project',
    [SnapshotErrorCode.FILE_CHANGING]: 'A file kept changing while it was read',
    [SnapshotErrorCode.OBJECT_MISSING]: 'Stored content of the snapshot is missing',
  };
  const hints: Partial<Record<Code, string>> = {
    [SnapshotErrorCode.UNREADABLE]: 'fix its permissions, or exclude it with .gitignore',
    [SnapshotErrorCode.FILE_CHANGING]: 'take the snapshot when nothing writes to the project, or exclude the file',
    [SnapshotErrorCode.OBJECT_MISSING]: 'verify(id) lists what is missing; take a new snapshot',
  };
  const cause = Object.assign(new Error(e.message), { code: e.errno });
  return snapshotError(code, messages[code] ?? `I/O error (${e.errno ?? 'unknown'})`, {
    ...(e.rel === undefined ? {} : { path: e.rel }),
    ...(hints[code] === undefined ? {} : { hint: hints[code] }),
    cause,
  });
}

/** Below this much work, threads cost more to start than they save: run on this thread. */
export function isSmallJob(files: number, bytes: number): boolean {
  return files <= 256 && bytes <= 16 * 1024 * 1024;
}

type RunBatch = (msg: { op: WorkerOp; ctx: unknown; items: readonly unknown[] }) => Reply;

export class WorkerPool {
  readonly #size: number;
  readonly #slots: Slot[] = [];
  #inline: RunBatch | undefined;

  /** @param size number of threads (at least 1). */
  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  /** Starts the threads now (they take tens of milliseconds), e.g. while the tree is walked. */
  warm(): void {
    this.#start();
  }

  #start(): void {
    if (this.#slots.length > 0) return;
    for (let i = 0; i < this.#size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      const slot: Slot = { worker, pending: [] };
      worker.on('message', (r: Reply) => slot.pending.shift()?.resolve(r));
      const fail = (err: Error): void => {
        for (const p of slot.pending.splice(0)) p.reject(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`snapshot worker exited (code ${code})`)));
      this.#slots.push(slot);
    }
  }

  #call(slot: Slot, op: WorkerOp, ctx: unknown, items: readonly unknown[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      slot.pending.push({ resolve, reject });
      slot.worker.postMessage({ op, ctx, items });
    });
  }

  /**
   * Runs `batches` of `op`; resolves with each batch's results, in batch order. `onBatch`
   * is called as batches complete. Rejects with the first error, or the signal's reason.
   */
  async run<R>(
    op: WorkerOp,
    ctx: unknown,
    batches: ReadonlyArray<readonly unknown[]>,
    signal: AbortSignal | undefined,
    onBatch?: (index: number, results: R[]) => void,
    inline = false,
  ): Promise<R[][]> {
    signal?.throwIfAborted();
    if (batches.length === 0) return [];
    if (inline) return this.#runInline(op, ctx, batches, signal, onBatch);
    this.#start();
    const out: R[][] = new Array<R[]>(batches.length);
    let next = 0;
    let failure: unknown;
    const loop = async (slot: Slot): Promise<void> => {
      while (next < batches.length && failure === undefined && !signal?.aborted) {
        const i = next++;
        try {
          const reply = await this.#call(slot, op, ctx, batches[i] as unknown[]);
          if (reply.error !== undefined) throw toError(reply.error);
          out[i] = reply.results as R[];
          onBatch?.(i, out[i] as R[]);
        } catch (e) {
          failure ??= e;
        }
      }
    };
    await Promise.all(this.#slots.flatMap((slot) => Array.from({ length: IN_FLIGHT }, () => loop(slot))));
    if (failure !== undefined) throw failure;
    signal?.throwIfAborted();
    return out;
  }

  async #runInline<R>(
    op: WorkerOp,
    ctx: unknown,
    batches: ReadonlyArray<readonly unknown[]>,
    signal: AbortSignal | undefined,
    onBatch?: (index: number, results: R[]) => void,
  ): Promise<R[][]> {
    // The same code the threads run (thread id 0 keeps its temporary names apart).
    this.#inline ??= new Function('fs', 'crypto', 'threadId', WORKER_CORE)(fs, crypto, 0) as RunBatch;
    const out: R[][] = [];
    for (let i = 0; i < batches.length; i++) {
      const reply = this.#inline({ op, ctx, items: batches[i] as unknown[] });
      if (reply.error !== undefined) throw toError(reply.error);
      out.push(reply.results as R[]);
      onBatch?.(i, reply.results as R[]);
      await new Promise<void>((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
    }
    return out;
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/** Cuts `items` into batches of at most `maxCount` items and about `maxBytes` bytes. */
export function batches<T>(items: readonly T[], maxCount: number, maxBytes: number, sizeOf: (t: T) => number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = sizeOf(item);
    if (cur.length > 0 && (cur.length >= maxCount || bytes + s > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(item);
    bytes += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
