import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/errors.js';
import { SkipReason, SnapshotStore } from '../../src/snapshot/index.js';
import { filesUnder, objectsIn, snapshotFiles, tempDir, writeTree, type TreeSpec } from './helpers.js';

function storeAt(): SnapshotStore {
  return new SnapshotStore({ root: tempDir('store-') });
}

/** A store's visible state: snapshots, objects and leftovers. */
async function stateOf(store: SnapshotStore): Promise<unknown> {
  return { list: await store.list(), objects: objectsIn(store.root), tmp: filesUnder(path.join(store.root, 'tmp')) };
}

describe('symlinks', () => {
  it('keeps links that stay inside the project, as links', async () => {
    const root = tempDir();
    writeTree(root, {
      'src/a.py': 'a',
      'link-file': { link: 'src/a.py' },
      'link-dir': { link: 'src' },
      'src/up': { link: '../src/a.py' },
      'chain': { link: 'link-file' },
    });
    const store = storeAt();
    const rec = await store.create(root);
    const entries = await store.entries(rec.id);
    expect(entries.filter((e) => e.type === 'symlink')).toEqual([
      { type: 'symlink', path: 'chain', target: 'link-file' },
      { type: 'symlink', path: 'link-dir', target: 'src' },
      { type: 'symlink', path: 'link-file', target: 'src/a.py' },
      { type: 'symlink', path: 'src/up', target: '../src/a.py' },
    ]);
    const work = path.join(tempDir(), 'w');
    await store.materialize(rec.id, work);
    expect(readlinkSync(path.join(work, 'link-dir'))).toBe('src');
    expect((await store.readFile(rec.id, 'chain')).toString()).toBe('a');
  });

  const bad: Array<[string, (root: string) => TreeSpec, string, string]> = [
    ['an absolute target', () => ({ abs: { link: '/etc/hostname' } }), 'SNAPSHOT_ESCAPING_SYMLINK', 'abs'],
    ['a target above the project', () => ({ up: { link: '../../outside' } }), 'SNAPSHOT_ESCAPING_SYMLINK', 'up'],
    [
      'a target that leaves and re-enters the project',
      (root) => ({ 'sub/x': { link: `../../${path.basename(root)}/a.txt` } }),
      'SNAPSHOT_ESCAPING_SYMLINK',
      'sub/x',
    ],
    ['a missing target', () => ({ dangling: { link: 'nope.txt' } }), 'SNAPSHOT_DANGLING_SYMLINK', 'dangling'],
    ['an excluded target', () => ({ '.gitignore': 'secret/\n', 'secret/key': 'k', key: { link: 'secret/key' } }), 'SNAPSHOT_DANGLING_SYMLINK', 'key'],
    ['a loop', () => ({ l1: { link: 'l1' } }), 'SNAPSHOT_DANGLING_SYMLINK', 'l1'],
  ];
  for (const [what, tree, code, linkPath] of bad) {
    it(`refuses ${what}, naming the link, and stores nothing`, async () => {
      const root = tempDir();
      writeTree(root, { 'a.txt': 'a', ...tree(root) });
      const store = storeAt();
      const before = await stateOf(store);
      const err = await store.create(root).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SnapshotError);
      expect(err).toMatchObject({ code, path: linkPath });
      expect(await stateOf(store)).toEqual(before);
    });
  }

  it("skips bad links under symlinks: 'skip' and reports them", async () => {
    const root = tempDir();
    writeTree(root, { 'a.txt': 'a', 'abs': { link: '/etc/hostname' }, 'dangling': { link: 'nope' }, 'ok': { link: 'a.txt' } });
    const store = storeAt();
    const rec = await store.create(root, { symlinks: 'skip' });
    expect(await snapshotFiles(store, rec.id)).toEqual(['a.txt', 'ok']);
    expect([...rec.skipped].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'abs', reason: SkipReason.ESCAPING_SYMLINK, target: '/etc/hostname' },
      { path: 'dangling', reason: SkipReason.DANGLING_SYMLINK, target: 'nope' },
    ]);
  });

  it('never follows a link into a directory outside the project', async () => {
    const outside = tempDir();
    writeTree(outside, { 'private.txt': 'p' });
    const root = tempDir();
    writeTree(root, { 'a.txt': 'a', 'ext': { link: outside } });
    const store = storeAt();
    const rec = await store.create(root, { symlinks: 'skip' });
    expect(await snapshotFiles(store, rec.id)).toEqual(['a.txt']);
  });
});

describe('limits', () => {
  function bigProject(root: string): void {
    const spec: Record<string, string> = { 'main.py': 'x', 'data/model.bin': 'm'.repeat(50_000) };
    for (let i = 0; i < 40; i++) spec[`web/app/node_modules/pkg${i}/index.js`] = 'module.exports = 1;';
    for (let i = 0; i < 5; i++) spec[`src/f${i}.py`] = 'x';
    writeTree(root, spec);
  }

  it('maxFiles: an error naming the biggest contributors, and nothing left behind', async () => {
    const root = tempDir();
    bigProject(root);
    const store = storeAt();
    const before = await stateOf(store);
    const err = (await store.create(root, { maxFiles: 20 }).catch((e: unknown) => e)) as SnapshotError;
    expect(err).toBeInstanceOf(SnapshotError);
    expect(err.code).toBe('SNAPSHOT_TOO_MANY_FILES');
    expect(err.path).toBe('maxFiles');
    const value = err.value as { limit: number; actual: number; biggest: Array<{ path: string; files: number }> };
    expect(value.limit).toBe(20);
    expect(value.actual).toBe(47);
    // The deep directory holding nearly everything is named, not just "web/".
    expect(value.biggest[0]).toMatchObject({ path: 'web/app/node_modules/', files: 40 });
    expect(err.message).toContain('web/app/node_modules/ (40 files');
    expect(err.hint).toContain('.gitignore');
    expect(await stateOf(store)).toEqual(before);
  });

  it('maxBytes: an error naming the biggest file, and nothing left behind', async () => {
    const root = tempDir();
    bigProject(root);
    const store = storeAt();
    const before = await stateOf(store);
    const err = (await store.create(root, { maxBytes: 10_000 }).catch((e: unknown) => e)) as SnapshotError;
    expect(err.code).toBe('SNAPSHOT_TOO_LARGE');
    expect((err.value as { biggest: Array<{ path: string; bytes: number }> }).biggest[0]).toEqual({ path: 'data/model.bin', files: 1, bytes: 50_000 });
    expect(await stateOf(store)).toEqual(before);
  });

  it('the store-level limits apply, and a call can raise them', async () => {
    const root = tempDir();
    bigProject(root);
    const store = new SnapshotStore({ root: tempDir('store-'), maxFiles: 10 });
    await expect(store.create(root)).rejects.toMatchObject({ code: 'SNAPSHOT_TOO_MANY_FILES' });
    const rec = await store.create(root, { maxFiles: 100 });
    expect(rec.fileCount).toBe(47);
  });
});
