/**
 * The hashing phase of `create`: files the stat cache could not vouch for are read,
 * hashed and (when new) written to the object store by the worker threads. Batches of 256
 * files or 16 MB: fewer messages (each costs the threads time), still a smooth progress
 * and a quick stop on cancel.
 */
import { randomBytes } from 'node:crypto';
import type { Layout } from './layout.js';
import type { FileStat } from './stat-cache.js';
import { batches, isSmallJob, type WorkerPool } from './worker-pool.js';

/** A file as read by a worker: its hash and the stat seen while reading it. */
export interface StoredFile extends FileStat {
  readonly hash: string;
  readonly mode: number;
}

type StoreRow = [hash: string, size: number, mode: number, mtimeMs: number, ctimeMs: number, ino: number, dev: number, wrote: boolean];

export interface StoreResult {
  /** By path; a file that vanished before it was read is absent. */
  readonly files: Map<string, StoredFile>;
  /** Bytes of the objects this call added (each distinct object once). */
  readonly newBytes: number;
  /** The hashes of those objects. */
  readonly written: ReadonlySet<string>;
}

export async function storeFiles(
  pool: WorkerPool,
  layout: Layout,
  root: string,
  files: ReadonlyArray<FileStat & { path: string }>,
  durable: boolean,
  signal: AbortSignal | undefined,
  onBatch: (files: number, bytes: number) => void,
): Promise<StoreResult> {
  const work = batches(files, 256, 16 * 1024 * 1024, (f) => f.size);
  const ctx = { root, objects: layout.objects, tmp: layout.tmp, token: randomBytes(6).toString('hex'), durable };
  const written = new Map<string, number>();
  const items = work.map((b) => b.map((f) => [f.path, f.size, f.mtimeMs, f.ctimeMs, f.ino, f.dev]));
  const rows = await pool.run<StoreRow | null>('store', ctx, items, signal, (_i, results) => {
    let bytes = 0;
    for (const row of results) {
      if (row === null) continue;
      bytes += row[1];
      // Two threads may store the same new content at once: count it once.
      if (row[7]) written.set(row[0], row[1]);
    }
    onBatch(results.length, bytes);
  }, isSmallJob(files.length, files.reduce((s, f) => s + f.size, 0)));
  const out = new Map<string, StoredFile>();
  work.forEach((batch, i) =>
    batch.forEach((f, k) => {
      const row = rows[i]?.[k];
      if (row === null || row === undefined) return;
      const [hash, size, mode, mtimeMs, ctimeMs, ino, dev] = row;
      out.set(f.path, { hash, mode, size, mtimeMs, ctimeMs, ino, dev });
    }),
  );
  let newBytes = 0;
  for (const n of written.values()) newBytes += n;
  return { files: out, newBytes, written: new Set(written.keys()) };
}
