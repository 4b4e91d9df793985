import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { SnapshotStore, type SnapshotProgress } from '../../src/snapshot/index.js';
import { Layout } from '../../src/snapshot/layout.js';
import { cacheFile, StatCache, type FileStat } from '../../src/snapshot/stat-cache.js';
import { tempDir, writeTree } from './helpers.js';

function project(n: number): string {
  const src = tempDir();
  writeTree(src, Object.fromEntries(Array.from({ length: n }, (_, i) => [`d${i % 5}/f${i}.txt`, `content ${i}`])));
  return src;
}

/** Sets every file's mtime `seconds` away from now (negative: in the past). */
function shiftMtimes(dir: string, seconds: number): void {
  const t = Date.now() / 1000 + seconds;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) utimesSync(path.join(e.parentPath, e.name), t, t);
  }
}

async function createAndCount(store: SnapshotStore, src: string): Promise<{ id: string; hashed: number; newBytes: number }> {
  let last: SnapshotProgress | undefined;
  const rec = await store.create(src, { onProgress: (p) => (last = p) });
  return { id: rec.id, hashed: last?.filesHashed ?? -1, newBytes: rec.newBytes };
}

describe('stat cache', () => {
  it('a second snapshot of an unchanged project reads no file again', async () => {
    const src = project(40);
    shiftMtimes(src, -3600);
    const store = new SnapshotStore({ root: tempDir('store-') });
    expect((await createAndCount(store, src)).hashed).toBe(40);
    expect((await createAndCount(store, src)).hashed).toBe(0);
    writeFileSync(path.join(src, 'd1/f1.txt'), 'a longer content than before');
    const third = await createAndCount(store, src);
    expect(third.hashed).toBe(1);
    expect((await store.readFile(third.id, 'd1/f1.txt')).toString()).toBe('a longer content than before');
  });

  it('racily clean entries (modified in the second the cache was written, or later) are hashed again', async () => {
    const src = project(10);
    // mtimes in the future are always at or after the cache's second.
    shiftMtimes(src, 3600);
    const store = new SnapshotStore({ root: tempDir('store-') });
    expect((await createAndCount(store, src)).hashed).toBe(10);
    expect((await createAndCount(store, src)).hashed).toBe(10);
  });

  it('a same-size edit within one second is seen', async () => {
    const src = tempDir();
    writeTree(src, { 'a.txt': 'version-1' });
    const store = new SnapshotStore({ root: tempDir('store-') });
    const before = statSync(path.join(src, 'a.txt'));
    const first = await store.create(src);
    writeFileSync(path.join(src, 'a.txt'), 'version-2');
    // Same size, and the mtime put back: only the ctime and the racy rule can tell.
    utimesSync(path.join(src, 'a.txt'), before.atime, before.mtime);
    const second = await store.create(src);
    expect((await store.readFile(first.id, 'a.txt')).toString()).toBe('version-1');
    expect((await store.readFile(second.id, 'a.txt')).toString()).toBe('version-2');
  });

  it('the racy rule alone: an identical stat in the cache file\'s second is not trusted', () => {
    const layout = new Layout(tempDir('store-'));
    layout.init();
    const src = '/some/project';
    const stat = (mtimeMs: number): FileStat => ({ size: 9, mtimeMs, ctimeMs: mtimeMs, ino: 42, dev: 7 });
    // Entries modified in the cache file's own second (racy) and two seconds before it.
    const written = 1_700_000_000_500;
    const racy = stat(written - 400);
    const clean = stat(written - 2000);
    StatCache.save(layout, src, 0, [
      { path: 'racy.txt', ...racy, hash: 'h1' },
      { path: 'clean.txt', ...clean, hash: 'h2' },
    ]);
    utimesSync(cacheFile(layout, src), written / 1000, written / 1000);
    const cache = StatCache.load(cacheFile(layout, src), src, silentLogger);
    expect(cache.lookup('racy.txt', racy)).toBeUndefined();
    expect(cache.lookup('clean.txt', clean)).toBe('h2');
    expect(cache.lookup('clean.txt', { ...clean, ctimeMs: clean.ctimeMs + 0.001 })).toBeUndefined();
    expect(cache.lookup('clean.txt', { ...clean, ino: 43 })).toBeUndefined();
  });

  it('after a gc, remembered hashes are checked against the objects still stored', async () => {
    const src = project(12);
    shiftMtimes(src, -3600);
    const store = new SnapshotStore({ root: tempDir('store-') });
    const first = await store.create(src);
    await store.delete(first.id); // reclaims: the objects are gone, the cache remains
    const second = await createAndCount(store, src);
    expect(second.hashed).toBe(12);
    expect(second.newBytes).toBe(first.logicalBytes);
    expect((await store.verify(second.id)).ok).toBe(true);
  });

  it('a damaged cache costs a re-hash, with a warning', async () => {
    const src = project(5);
    shiftMtimes(src, -3600);
    const warnings: string[] = [];
    const store = new SnapshotStore({
      root: tempDir('store-'),
      logger: { ...silentLogger, warn: (m: string) => warnings.push(m) },
    });
    await store.create(src);
    writeFileSync(cacheFile(new Layout(store.root), src), '{"format": "pipeline-jobs/stat-cache@2", "rows": [[');
    const again = await createAndCount(store, src);
    expect(again.hashed).toBe(5);
    expect(warnings).toContain('snapshot: stat cache unreadable, hashing every file again');
  });
});
