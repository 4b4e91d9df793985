import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { filesUnder, tempDir, writeTree } from './helpers.js';

const tree = {
  'run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
  'private.key': { content: 'k', mode: 0o600 },
  'open.txt': { content: 'o', mode: 0o666 },
  'src/a.py': 'print("a")',
  'src/b.py': 'print("b")',
  'src/same.py': 'print("a")',
  'empty/': { dir: true },
  'link': { link: 'src/a.py' },
} as const;

async function snapshotOf(spec: Parameters<typeof writeTree>[1], extra: Record<string, string> = {}): Promise<{ store: SnapshotStore; id: string; src: string }> {
  const src = tempDir();
  writeTree(src, { ...spec, ...extra });
  const store = new SnapshotStore({ root: tempDir('store-') });
  const rec = await store.create(src);
  return { store, id: rec.id, src };
}

function bigTree(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`d${i % 13}/f${i}.txt`, `content of file ${i} `.repeat(20)]));
}

describe('SnapshotStore.materialize', () => {
  it('writes a working copy with the same files, modes, links and empty directories', async () => {
    const { store, id, src } = await snapshotOf(tree);
    const work = path.join(tempDir(), 'run-1');
    await store.materialize(id, work);
    expect(filesUnder(work)).toEqual(filesUnder(src));
    for (const f of ['run.sh', 'private.key', 'open.txt', 'src/a.py', 'src/same.py']) {
      expect(readFileSync(path.join(work, f))).toEqual(readFileSync(path.join(src, f)));
      // Exactly the recorded mode: the umask does not apply.
      expect(statSync(path.join(work, f)).mode & 0o777).toBe(statSync(path.join(src, f)).mode & 0o777);
    }
    expect(readlinkSync(path.join(work, 'link'))).toBe('src/a.py');
    expect(lstatSync(path.join(work, 'empty')).isDirectory()).toBe(true);
  });

  it('never hard-links: writing to the copy leaves the store unchanged', async () => {
    // Enough files to go through the worker threads as well as the inline path.
    for (const spec of [tree, bigTree(400)] as const) {
      const { store, id } = await snapshotOf(spec);
      const work = path.join(tempDir(), 'w');
      await store.materialize(id, work);
      const first = (await store.entries(id)).find((e) => e.type === 'file');
      if (first?.type !== 'file') throw new Error('no file');
      const copy = path.join(work, first.path);
      expect(statSync(copy).nlink).toBe(1);
      expect(statSync(copy).ino).not.toBe(statSync(path.join(store.root, 'objects', first.hash.slice(0, 2), first.hash.slice(2))).ino);
      writeFileSync(copy, 'overwritten by a run');
      expect((await store.verify(id)).ok).toBe(true);
      expect((await store.readFile(id, first.path)).toString()).not.toBe('overwritten by a run');
      // A second copy still has the original content.
      const again = path.join(tempDir(), 'w2');
      await store.materialize(id, again);
      expect(readFileSync(path.join(again, first.path))).toEqual(await store.readFile(id, first.path));
    }
  });

  it('works with the worker threads for a bigger tree', async () => {
    const { store, id, src } = await snapshotOf(bigTree(600), { 'big.bin': 'x'.repeat(20 * 1024 * 1024) });
    const work = path.join(tempDir(), 'w');
    await store.materialize(id, work);
    expect(filesUnder(work)).toEqual(filesUnder(src));
    expect(readFileSync(path.join(work, 'd5/f5.txt'), 'utf8')).toBe(readFileSync(path.join(src, 'd5/f5.txt'), 'utf8'));
    expect(statSync(path.join(work, 'big.bin')).size).toBe(20 * 1024 * 1024);
  });

  it('accepts an existing empty directory, refuses a non-empty one or a file, changing nothing', async () => {
    const { store, id } = await snapshotOf(tree);
    const empty = tempDir();
    await store.materialize(id, empty);
    expect(existsSync(path.join(empty, 'run.sh'))).toBe(true);

    const full = tempDir();
    writeFileSync(path.join(full, 'mine.txt'), 'mine');
    await expect(store.materialize(id, full)).rejects.toMatchObject({ code: 'SNAPSHOT_TARGET_NOT_EMPTY', path: 'targetDir', value: full });
    expect(filesUnder(full)).toEqual(['mine.txt']);

    const file = path.join(full, 'mine.txt');
    await expect(store.materialize(id, file)).rejects.toMatchObject({ code: 'SNAPSHOT_TARGET_NOT_EMPTY' });
    await expect(store.materialize(id, '')).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID_OPTION', path: 'targetDir' });
  });

  it('a cancelled copy leaves the target as it was found', async () => {
    const { store, id } = await snapshotOf(bigTree(1500));
    const created = path.join(tempDir(), 'new-target');
    const ac = new AbortController();
    const err = await store
      .materialize(id, created, { signal: ac.signal, onProgress: (p) => (p.phase === 'store' && p.filesDone > 0 ? ac.abort(new Error('stop')) : undefined) })
      .catch((e: unknown) => e);
    expect(err).toEqual(new Error('stop'));
    expect(existsSync(created)).toBe(false);

    const existing = tempDir();
    mkdirSync(existing, { recursive: true });
    const ac2 = new AbortController();
    ac2.abort(new Error('before start'));
    await expect(store.materialize(id, existing, { signal: ac2.signal })).rejects.toThrow('before start');
    expect(filesUnder(existing)).toEqual([]);
  });
});
