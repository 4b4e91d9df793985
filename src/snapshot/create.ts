/**
 * Taking a snapshot, in order: walk with the ignore rules (lstat of every file) -> file
 * and byte limits -> symlink rule -> stat cache: unchanged files keep their hash -> read,
 * hash and store the rest (worker threads) -> manifest written to a temporary file,
 * fsynced, renamed into `snapshots/` -> stat cache. Nothing is visible before the
 * rename, and the limits are checked before any content is written.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { readGeneration } from './gc.js';
import { fsyncDir, writeAtomic, type Layout } from './layout.js';
import { limitError } from './limits.js';
import type { StoreLock } from './lock.js';
import { encodeEntries, manifestText, type ManifestEntry } from './manifest.js';
import type { ResolvedRules } from './options.js';
import { hardExcludes, projectRules, resolveProject } from './project.js';
import { cacheFile, StatCache } from './stat-cache.js';
import { storeFiles } from './store-files.js';
import { checkSymlinks } from './symlinks.js';
import type { SnapshotProgress, StoredSnapshotRecord } from './types.js';
import { walkProject, type WalkedFile, type WalkResult } from './walker.js';
import { WorkerPool } from './worker-pool.js';

export interface CreateContext {
  readonly layout: Layout;
  readonly lock: StoreLock;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly durable: boolean;
  /** Removes what a failed create wrote, when no other create is running. */
  readonly reclaim: () => Promise<void>;
}

export interface CreateRequest extends ResolvedRules {
  readonly projectDir: string;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((p: SnapshotProgress) => void) | undefined;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function safeProgress(cb: CreateRequest['onProgress'], logger: Logger): (p: SnapshotProgress) => void {
  return (p) => {
    try {
      cb?.(p);
    } catch (e) {
      // A progress bar's bug must not fail the snapshot: report it and go on.
      logger.warn('snapshot: onProgress threw', { error: String(e) });
    }
  };
}

function checkLimits(walk: WalkResult, req: CreateRequest): void {
  const count = walk.files.length + walk.symlinks.length;
  if (count > req.maxFiles) {
    const items = [...walk.files.map((f) => f.path), ...walk.symlinks].map((p) => ({ path: p, bytes: 0 }));
    throw limitError('files', req.maxFiles, count, items);
  }
  const bytes = walk.files.reduce((s, f) => s + f.size, 0);
  if (bytes > req.maxBytes) throw limitError('bytes', req.maxBytes, bytes, walk.files.map((f) => ({ path: f.path, bytes: f.size })));
}

function emptyDirs(dirs: Iterable<string>, entries: Iterable<{ path: string }>): string[] {
  const nonEmpty = new Set<string>();
  const markParent = (p: string): void => {
    const i = p.lastIndexOf('/');
    nonEmpty.add(i === -1 ? '' : p.slice(0, i));
  };
  for (const d of dirs) if (d !== '') markParent(d);
  for (const e of entries) markParent(e.path);
  const out: string[] = [];
  for (const d of dirs) if (d !== '' && !nonEmpty.has(d)) out.push(d);
  return out;
}

/** Applies the stat cache; objects are checked on disk unless no gc ran since the cache. */
async function applyCache(layout: Layout, cache: StatCache, generation: number, files: WalkedFile[]): Promise<boolean> {
  const trusted = cache.generation === generation && generation >= 0;
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as WalkedFile;
    const hash = cache.lookup(f.path, f);
    if (hash !== undefined && (trusted || statSync(layout.object(hash), { throwIfNoEntry: false })?.size === f.size)) f.hash = hash;
    if (!trusted && i % 2048 === 2047) await tick();
  }
  return trusted;
}

/** Takes the snapshot; see the module comment for the order of things. */
export async function createSnapshot(ctx: CreateContext, req: CreateRequest): Promise<StoredSnapshotRecord> {
  const { layout, logger } = ctx;
  const signal = req.signal;
  signal?.throwIfAborted();
  const root = resolveProject(req.projectDir);
  const rules = projectRules(root, req.exclude);
  const excludes = hardExcludes(root, req.dataDir, layout.root);
  const progress = safeProgress(req.onProgress, logger);
  const held = await ctx.lock.shared(signal);
  const pool = new WorkerPool(ctx.concurrency);
  let wrote = false;
  let failed = false;
  try {
    const cache = StatCache.load(cacheFile(layout, root), root, logger);
    const walk = await walkProject({
      root,
      rules,
      hardExcludes: excludes,
      signal,
      onProgress: (n) => {
        // A big first snapshot hashes everything: let the threads start while the walk goes on.
        if (cache.size === 0) pool.warm();
        progress({ phase: 'scan', files: n, bytes: 0, filesDone: 0, bytesDone: 0, filesHashed: 0, bytesHashed: 0 });
      },
    });
    checkLimits(walk, req);
    let fileSet: Set<string> | undefined; // only links need it
    const included = (rel: string): boolean => {
      fileSet ??= new Set(walk.files.map((f) => f.path));
      return rel === '' || walk.dirs.has(rel) || fileSet.has(rel);
    };
    const links = checkSymlinks(root, walk.symlinks, included, req.symlinks);

    const files = walk.files;
    const generation = readGeneration(layout);
    const trusted = await applyCache(layout, cache, generation, files);
    signal?.throwIfAborted();

    const misses = files.filter((f) => f.hash === '');
    let total = 0;
    for (const f of files) total += f.size;
    const done = { files: files.length - misses.length, bytes: total - misses.reduce((s, f) => s + f.size, 0), hashed: 0, hashedBytes: 0 };
    const report = (phase: SnapshotProgress['phase']): void =>
      progress({ phase, files: files.length, bytes: total, filesDone: done.files, bytesDone: done.bytes, filesHashed: done.hashed, bytesHashed: done.hashedBytes });
    report('store');
    wrote = misses.length > 0;
    const stored = await storeFiles(pool, layout, root, misses, ctx.durable, signal, (n, bytes) => {
      done.files += n;
      done.bytes += bytes;
      done.hashed += n;
      done.hashedBytes += bytes;
      report('store');
    });
    if (ctx.durable) {
      // The objects were fdatasynced by the threads; their names need their directories synced.
      for (const prefix of new Set([...stored.written].map((h) => h.slice(0, 2)))) fsyncDir(`${layout.objects}/${prefix}`);
    }

    // Files read just now take the stat seen while reading them; vanished ones drop out.
    const entries: ManifestEntry[] = [];
    total = 0;
    for (const f of files) {
      if (f.hash === '') {
        const s = stored.files.get(f.path);
        if (s === undefined) continue;
        Object.assign(f, s);
      }
      total += f.size;
      entries.push(f);
    }
    const kept = entries.length;
    if (total > req.maxBytes) {
      throw limitError('bytes', req.maxBytes, total, (entries as WalkedFile[]).map((f) => ({ path: f.path, bytes: f.size })));
    }
    for (const l of links.kept) entries.push({ type: 'symlink', path: l.path, target: l.target });
    for (const d of emptyDirs(walk.dirs, entries)) entries.push({ type: 'dir', path: d });
    const { text, treeHash, sorted } = encodeEntries(entries);
    const record: StoredSnapshotRecord = {
      id: randomUUID(),
      createdAt: ctx.clock.now(),
      sourceDir: root,
      fileCount: kept + links.kept.length,
      logicalBytes: total,
      newBytes: stored.newBytes,
      pipelines: sorted.filter((e) => e.type !== 'dir' && e.path.endsWith('.orchest')).map((e) => e.path),
      treeHash,
      skipped: [...walk.skipped, ...links.skipped],
    };
    signal?.throwIfAborted(); // the last moment a cancel leaves nothing visible
    writeAtomic(layout.tmpFile('manifest'), layout.manifest(record.id), manifestText(record, text, sorted.length), true);

    // An unchanged tree under the same gc generation needs no new cache.
    if (misses.length > 0 || !trusted) {
      try {
        StatCache.save(layout, root, generation, entries.slice(0, kept) as WalkedFile[]);
      } catch (e) {
        // The snapshot is complete; without a cache the next one only hashes everything again.
        logger.warn('snapshot: could not write the stat cache', { error: String(e) });
      }
    }
    report('done');
    logger.info('snapshot: created', { id: record.id, files: record.fileCount, bytes: record.logicalBytes, newBytes: record.newBytes });
    return record;
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    held.release();
    await pool.close();
    if (failed && wrote) {
      try {
        await ctx.reclaim();
      } catch (gcError) {
        // The original failure matters more; the next gc() retries the cleanup.
        logger.warn('snapshot: cleanup after a failed create did not finish', { error: String(gcError) });
      }
    }
  }
}
