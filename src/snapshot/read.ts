/**
 * Reading from a stored snapshot: one file by path (symlinks inside the snapshot are
 * followed, within the snapshot only), and `verify`, which re-hashes every object.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '../errors.js';
import { isErrno, snapshotError, SnapshotErrorCode } from './errors.js';
import type { Layout } from './layout.js';
import type { FileEntry, Manifest, ManifestEntry } from './manifest.js';
import type { VerifyReport } from './types.js';
import { batches, isSmallJob, type WorkerPool } from './worker-pool.js';

const MAX_LINK_HOPS = 40;

/** Checks a `readFile` path: relative, `/`-separated, no `.`/`..`/empty parts. */
export function checkReadPath(p: unknown): string {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.includes('\0') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw snapshotError(SnapshotErrorCode.INVALID_PATH, 'Expected a relative path inside the snapshot', {
      path: 'path',
      value: p,
      hint: "use '/'-separated names without '.', '..' or a leading '/', e.g. 'pipelines/etl.orchest'",
    });
  }
  return p;
}

/** An index of a manifest's entries by path. */
export function indexEntries(m: Manifest): Map<string, ManifestEntry> {
  return new Map(m.entries.map((e) => [e.path, e]));
}

function fileNotFound(id: string, p: string, why: string): NotFoundError {
  return new NotFoundError(SnapshotErrorCode.FILE_NOT_FOUND, `No such file in snapshot ${id}: ${why}`, { path: 'path', value: p });
}

/** Resolves `p` to a file entry, following the snapshot's own symlinks. */
export function resolveFile(id: string, index: Map<string, ManifestEntry>, p: string): FileEntry {
  let parts = p.split('/');
  const resolved: string[] = [];
  let hops = 0;
  let i = 0;
  while (i < parts.length) {
    const part = parts[i] as string;
    i++;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) throw fileNotFound(id, p, 'a link leads outside the snapshot');
      resolved.pop();
      continue;
    }
    const here = [...resolved, part].join('/');
    const e = index.get(here);
    if (e?.type === 'symlink') {
      if (++hops > MAX_LINK_HOPS) throw fileNotFound(id, p, 'too many levels of symlinks');
      parts = [...e.target.split('/'), ...parts.slice(i)];
      i = 0;
      continue;
    }
    resolved.push(part);
  }
  const final = resolved.join('/');
  const e = index.get(final);
  if (e?.type === 'file') return e;
  const isDir = e?.type === 'dir' || [...index.keys()].some((k) => k.startsWith(`${final}/`));
  if (isDir) {
    throw snapshotError(SnapshotErrorCode.NOT_A_FILE, 'The path names a directory of the snapshot', { path: 'path', value: p });
  }
  throw fileNotFound(id, p, final === p ? 'not in the snapshot' : `resolves to ${final}, which is not in the snapshot`);
}

/** Reads an object and checks its hash. */
export async function readObject(layout: Layout, entry: FileEntry, id: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(layout.object(entry.hash));
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    throw snapshotError(SnapshotErrorCode.OBJECT_MISSING, `Stored content of snapshot ${id} is missing`, {
      path: entry.path,
      value: entry.hash,
      hint: 'verify(id) lists what is missing; take a new snapshot',
    });
  }
  if (createHash('sha256').update(data).digest('hex') !== entry.hash) {
    throw snapshotError(SnapshotErrorCode.CORRUPT, `Stored content of snapshot ${id} is damaged`, {
      path: entry.path,
      value: entry.hash,
      hint: 'verify(id) lists what is damaged; take a new snapshot',
    });
  }
  return data;
}

/** Re-hashes every object of a snapshot. */
export async function verifyManifest(layout: Layout, pool: WorkerPool, m: Manifest, signal: AbortSignal | undefined): Promise<VerifyReport> {
  const byHash = new Map<string, FileEntry[]>();
  for (const e of m.entries) {
    if (e.type !== 'file') continue;
    const list = byHash.get(e.hash);
    if (list === undefined) byHash.set(e.hash, [e]);
    else list.push(e);
  }
  const hashes = [...byHash.keys()];
  const sizes = hashes.map((h) => (byHash.get(h) as FileEntry[])[0]?.size ?? 0);
  const order = hashes.map((h, i) => ({ h, size: sizes[i] as number }));
  const work = batches(order, 256, 16 * 1024 * 1024, (o) => o.size);
  const small = isSmallJob(hashes.length, sizes.reduce((s, n) => s + n, 0));
  const actual = (await pool.run<string | null>('verify', { objects: layout.objects }, work.map((b) => b.map((o) => o.h)), signal, undefined, small)).flat();
  const missing: Array<{ path: string; hash: string }> = [];
  const corrupt: Array<{ path: string; hash: string }> = [];
  hashes.forEach((h, i) => {
    const got = actual[i];
    if (got === h) return;
    for (const e of byHash.get(h) as FileEntry[]) (got === null ? missing : corrupt).push({ path: e.path, hash: h });
  });
  return {
    id: m.record.id,
    ok: missing.length === 0 && corrupt.length === 0,
    checkedObjects: hashes.length,
    checkedBytes: sizes.reduce((s, n) => s + n, 0),
    missing,
    corrupt,
  };
}
