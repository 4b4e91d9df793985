import { chmodSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotStore, type SnapshotFileEntry } from '../../src/snapshot/index.js';
import { tempDir, writeTree } from './helpers.js';

function objectPath(root: string, hash: string): string {
  return path.join(root, 'objects', hash.slice(0, 2), hash.slice(2));
}

describe('verify and stats', () => {
  it('reports missing and damaged objects with the files that use them', async () => {
    const src = tempDir();
    writeTree(src, { 'a.txt': 'aaa', 'b.txt': 'bbb', 'b-copy.txt': 'bbb', 'c.txt': 'ccc' });
    const store = new SnapshotStore({ root: tempDir('store-'), durable: true });
    const rec = await store.create(src);
    expect(await store.verify(rec.id)).toEqual({ id: rec.id, ok: true, checkedObjects: 3, checkedBytes: 9, missing: [], corrupt: [] });
    const files = (await store.entries(rec.id)).filter((e): e is SnapshotFileEntry => e.type === 'file');
    const hashOf = (p: string): string => files.find((f) => f.path === p)?.hash ?? '';
    unlinkSync(objectPath(store.root, hashOf('a.txt')));
    const damaged = objectPath(store.root, hashOf('b.txt'));
    chmodSync(damaged, 0o644);
    writeFileSync(damaged, 'xxx');
    const report = await store.verify(rec.id);
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual([{ path: 'a.txt', hash: hashOf('a.txt') }]);
    expect([...report.corrupt].sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'b-copy.txt', hash: hashOf('b.txt') },
      { path: 'b.txt', hash: hashOf('b.txt') },
    ]);
    await expect(store.readFile(rec.id, 'b.txt')).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', path: 'b.txt' });
    await expect(store.readFile(rec.id, 'a.txt')).rejects.toMatchObject({ code: 'SNAPSHOT_OBJECT_MISSING', path: 'a.txt' });
    const target = path.join(tempDir(), 'w');
    await expect(store.materialize(rec.id, target)).rejects.toMatchObject({ code: 'SNAPSHOT_OBJECT_MISSING', path: 'a.txt' });
    expect(existsSync(target)).toBe(false);
  });

  it('stats: logical bytes of all snapshots vs what is stored', async () => {
    const src = tempDir();
    writeTree(src, { 'a.txt': 'a'.repeat(1000), 'b.txt': 'a'.repeat(1000), 'c.txt': 'c'.repeat(10) });
    const store = new SnapshotStore({ root: tempDir('store-') });
    await store.create(src);
    await store.create(src);
    const stats = await store.stats();
    expect(stats).toMatchObject({ snapshots: 2, logicalBytes: 4020, objects: 2, storedBytes: 1010 });
    expect(stats.diskBytes).toBeGreaterThan(0);
  });
});
