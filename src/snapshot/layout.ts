/**
 * Where things live in a store directory, and the one way files are published there:
 * written under `tmp/`, optionally fsynced, then renamed into place (atomic on POSIX).
 *
 * ```
 * <root>/format.json               store format marker
 * <root>/objects/ab/cdef...        content, named by SHA-256, read-only
 * <root>/snapshots/<id>.snap       manifests (a header line, then one line per entry)
 * <root>/cache/<hash>.json         stat caches, one per project directory
 * <root>/generation                bumped by every gc (see stat-cache.ts)
 * <root>/locks/                    gc lock and the markers of running creates
 * <root>/tmp/                      files being written
 * ```
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isErrno, snapshotError, SnapshotErrorCode } from './errors.js';

export const STORE_FORMAT = 'pipeline-jobs/snapshot-store';
export const STORE_VERSION = 1;

/** What a store directory may hold. */
const OWN = new Set(['format.json', 'objects', 'snapshots', 'cache', 'tmp', 'locks', 'generation']);

/** The paths of one store. */
export class Layout {
  readonly objects: string;
  readonly snapshots: string;
  readonly cache: string;
  readonly tmp: string;
  readonly locks: string;
  readonly generation: string;
  readonly format: string;

  constructor(readonly root: string) {
    this.objects = path.join(root, 'objects');
    this.snapshots = path.join(root, 'snapshots');
    this.cache = path.join(root, 'cache');
    this.tmp = path.join(root, 'tmp');
    this.locks = path.join(root, 'locks');
    this.generation = path.join(root, 'generation');
    this.format = path.join(root, 'format.json');
  }

  object(hash: string): string {
    return `${this.objects}/${hash.slice(0, 2)}/${hash.slice(2)}`;
  }

  manifest(id: string): string {
    return `${this.snapshots}/${id}.snap`;
  }

  /** A fresh name under `tmp/`. */
  tmpFile(label: string): string {
    return `${this.tmp}/${label}-${randomBytes(8).toString('hex')}`;
  }

  /**
   * Opens the store directory: checks its format marker, or makes an absent or empty
   * directory a store. A directory holding anything else is refused, so a mistyped `root`
   * never fills someone's home directory with objects.
   */
  init(): void {
    if (this.#readFormat() === undefined) {
      mkdirSync(this.root, { recursive: true });
      const foreign = readdirSync(this.root).filter((n) => !OWN.has(n));
      if (foreign.length > 0) {
        throw snapshotError(SnapshotErrorCode.STORE_FORMAT, 'The store directory is not empty and not a snapshot store', {
          path: 'root',
          value: this.root,
          hint: `point root at an empty directory (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`,
        });
      }
      this.#createDirs();
      // Published complete (link fails if another process got there first).
      const tmp = this.tmpFile('format');
      writeFileSync(tmp, JSON.stringify({ format: STORE_FORMAT, version: STORE_VERSION }));
      try {
        linkSync(tmp, this.format);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw e;
      } finally {
        unlinkQuiet(tmp);
      }
    }
    const f = this.#readFormat();
    if (f?.format !== STORE_FORMAT || f.version !== STORE_VERSION) {
      throw snapshotError(SnapshotErrorCode.STORE_FORMAT, 'The store directory holds an unknown format', {
        path: 'root',
        value: f,
        hint: `point root at an empty directory or a store of ${STORE_FORMAT} version ${STORE_VERSION}`,
      });
    }
    this.#createDirs();
  }

  #readFormat(): { format?: unknown; version?: unknown } | undefined {
    let text: string;
    try {
      text = readFileSync(this.format, 'utf8');
    } catch (e) {
      // No marker: a new (or empty) directory.
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
    try {
      const v = JSON.parse(text) as unknown;
      return v !== null && typeof v === 'object' ? (v as { format?: unknown; version?: unknown }) : {};
    } catch {
      // Not JSON: certainly not our format; the caller reports it as unknown.
      return {};
    }
  }

  /** Creates the directories (idempotent; a few hundred sync mkdirs beat as many promises). */
  #createDirs(): void {
    for (const d of [this.snapshots, this.cache, this.tmp, path.join(this.locks, 'shared')]) mkdirSync(d, { recursive: true });
    for (let i = 0; i < 256; i++) mkdirSync(`${this.objects}/${i.toString(16).padStart(2, '0')}`, { recursive: true });
  }
}

/** fsync of a directory, so a rename in it survives a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `target` atomically: a temporary file in `tmpDir` (same file system),
 * fsynced when `durable`, renamed over `target`, and the directory fsynced.
 */
export function writeAtomic(tmpFile: string, target: string, data: string | Uint8Array, durable: boolean): void {
  const fd = openSync(tmpFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmpFile);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmpFile, target);
  } catch (e) {
    unlinkQuiet(tmpFile);
    throw e;
  }
  if (durable) fsyncDir(path.dirname(target));
}

/** unlink that treats "already gone" as done. */
export function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    // Someone (gc, a concurrent cleanup) removed it first: the goal is reached.
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}
