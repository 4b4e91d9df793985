/**
 * The stat cache: per project directory, what each file's stat looked like when it was
 * last hashed (size, mtime and ctime, inode, device). A file whose stat is
 * unchanged is not read again. Git's "racily clean" rule applies: an entry whose mtime
 * falls in the same second as the cache file's own mtime (or later) is not trusted,
 * because an edit in that second could leave the stat unchanged; it is hashed again.
 *
 * The cache also records the store's gc generation: while no gc has run since it was
 * written, every object it names still exists, so a second snapshot need not check them.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Logger } from '../logger.js';
import { isErrno } from './errors.js';
import { writeAtomic, type Layout } from './layout.js';

const CACHE_FORMAT = 'pipeline-jobs/stat-cache@2';

/**
 * The stat fields that identify a version of a file. Times are Node's millisecond floats
 * of the nanosecond timestamps (about 0.25 µs resolution today; git by default compares
 * whole seconds): `bigint` stats measured 15-40% slower to take and to compare, on the
 * path that decides how fast an unchanged project is snapshotted again.
 */
export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

type Row = [path: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, dev: number, hash: string];

interface CacheFile {
  format: string;
  sourceDir: string;
  generation: number;
  rows: Row[];
}

/** The cache file of a project directory. */
export function cacheFile(layout: Layout, sourceDir: string): string {
  return `${layout.cache}/${createHash('sha256').update(sourceDir).digest('hex').slice(0, 32)}.json`;
}

export class StatCache {
  private constructor(
    private readonly rows: Map<string, Row>,
    /** The gc generation the cache was written at (-1: none). */
    readonly generation: number,
    /** Whole seconds of the cache file's mtime: entries modified in that second or later are racy. */
    private readonly writtenSec: number,
  ) {}

  /** Number of files it remembers. */
  get size(): number {
    return this.rows.size;
  }

  static empty(): StatCache {
    return new StatCache(new Map(), -1, 0);
  }

  /** Loads the cache of `sourceDir`; an absent or unreadable cache is an empty one (logged). */
  static load(file: string, sourceDir: string, logger: Logger): StatCache {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      // No cache yet: the first snapshot of this directory.
      if (isErrno(e, 'ENOENT')) return StatCache.empty();
      throw e;
    }
    try {
      // The cache file's own mtime comes from the file system's clock, like the files' mtimes.
      const writtenSec = Number(fstatSync(fd, { bigint: true }).mtimeNs / 1_000_000_000n);
      const parsed = JSON.parse(readFileSync(fd, 'utf8')) as CacheFile;
      if (parsed.format !== CACHE_FORMAT || parsed.sourceDir !== sourceDir || !Array.isArray(parsed.rows)) return StatCache.empty();
      const rows = new Map<string, Row>();
      for (const r of parsed.rows) rows.set(r[0], r);
      return new StatCache(rows, parsed.generation, writtenSec);
    } catch (e) {
      // A damaged cache (a crash while it was replaced) only costs a re-hash: start afresh.
      if (!(e instanceof SyntaxError || e instanceof TypeError)) throw e;
      logger.warn('snapshot: stat cache unreadable, hashing every file again', { file, error: String(e) });
      return StatCache.empty();
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The hash recorded for `path` when its stat is unchanged and the entry is not racy
   * (modified in the second the cache was written, or later: git's rule).
   */
  lookup(path: string, s: FileStat): string | undefined {
    const r = this.rows.get(path);
    if (r === undefined || r[1] !== s.size || r[2] !== s.mtimeMs || r[3] !== s.ctimeMs || r[4] !== s.ino || r[5] !== s.dev) return undefined;
    if (Math.floor(r[2] / 1000) >= this.writtenSec) return undefined;
    return r[6];
  }

  /** Writes a new cache for `sourceDir` (atomically; not fsynced: losing it only costs time). */
  static save(layout: Layout, sourceDir: string, generation: number, entries: Iterable<FileStat & { path: string; hash: string }>): void {
    const rows: Row[] = [];
    for (const e of entries) rows.push([e.path, e.size, e.mtimeMs, e.ctimeMs, e.ino, e.dev, e.hash]);
    const body: CacheFile = { format: CACHE_FORMAT, sourceDir, generation, rows };
    writeAtomic(layout.tmpFile('cache'), cacheFile(layout, sourceDir), JSON.stringify(body), false);
  }
}
