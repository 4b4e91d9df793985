import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, OptionsError, SnapshotError } from '../../src/errors.js';
import { SnapshotStore, SkipReason, type SnapshotProgress } from '../../src/snapshot/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { objectsIn, snapshotFiles, tempDir, writeTree } from './helpers.js';

const project = {
  'main.orchest': '{"uuid":"p1"}',
  'pipelines/etl.orchest': '{"uuid":"p2"}',
  'pipelines/notes.txt': 'hello',
  'steps/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'steps/readonly.txt': { content: 'fixed', mode: 0o444 },
  'copy-a.bin': 'same content',
  'copy-b.bin': 'same content',
  'outputs/': { dir: true },
  '.gitignore': 'ignored.orchest\n',
  'ignored.orchest': '{}',
} as const;

function newStore(extra: Partial<ConstructorParameters<typeof SnapshotStore>[0]> = {}): SnapshotStore {
  return new SnapshotStore({ root: tempDir('store-'), ...extra });
}

describe('SnapshotStore.create', () => {
  it('records what it stored: files, sizes, new bytes, pipelines, time from the clock', async () => {
    const root = tempDir();
    writeTree(root, project);
    const clock = new FakeClock('2026-03-08T06:00:00Z');
    const store = newStore({ clock });
    const rec = await store.create(root);
    expect(rec.createdAt).toBe(Date.parse('2026-03-08T06:00:00Z'));
    expect(rec.sourceDir).toBe(root);
    expect(rec.fileCount).toBe(8);
    const sizes = ['main.orchest', 'pipelines/etl.orchest', 'pipelines/notes.txt', 'steps/run.sh', 'steps/readonly.txt', 'copy-a.bin', 'copy-b.bin', '.gitignore'].map(
      (p) => statSync(path.join(root, p)).size,
    );
    expect(rec.logicalBytes).toBe(sizes.reduce((a, b) => a + b, 0));
    // The two copies are stored once.
    expect(rec.newBytes).toBe(rec.logicalBytes - 'same content'.length);
    expect(rec.pipelines).toEqual(['main.orchest', 'pipelines/etl.orchest']);
    expect(objectsIn(store.root)).toHaveLength(7);
    expect(await store.get(rec.id)).toEqual(rec);
    expect(await store.list()).toEqual([rec]);
  });

  it('keeps modes (the executable bit) and empty directories', async () => {
    const root = tempDir();
    writeTree(root, project);
    const store = newStore();
    const rec = await store.create(root);
    const entries = await store.entries(rec.id);
    const mode = (p: string): number | undefined => {
      const e = entries.find((x) => x.path === p);
      return e?.type === 'file' ? e.mode : undefined;
    };
    expect(mode('steps/run.sh')).toBe(0o755);
    expect(mode('steps/readonly.txt')).toBe(0o444);
    expect(entries.find((e) => e.path === 'outputs')).toEqual({ type: 'dir', path: 'outputs' });
  });

  it('stores identical content once across snapshots, and each snapshot is its own record', async () => {
    const root = tempDir();
    writeTree(root, project);
    const store = newStore();
    const a = await store.create(root);
    const before = objectsIn(store.root);
    const b = await store.create(root);
    expect(b.id).not.toBe(a.id);
    expect(b.treeHash).toBe(a.treeHash);
    expect(b.newBytes).toBe(0);
    expect(objectsIn(store.root)).toEqual(before);
    writeFileSync(path.join(root, 'pipelines/notes.txt'), 'changed!');
    const c = await store.create(root);
    expect(c.newBytes).toBe('changed!'.length);
    expect(c.treeHash).not.toBe(a.treeHash);
    expect((await store.readFile(a.id, 'pipelines/notes.txt')).toString()).toBe('hello');
    expect((await store.readFile(c.id, 'pipelines/notes.txt')).toString()).toBe('changed!');
    await store.delete(a.id);
    expect((await store.list()).map((r) => r.id)).toEqual([b.id, c.id]);
    expect((await store.readFile(b.id, 'pipelines/notes.txt')).toString()).toBe('hello');
  });

  it('reports progress up to a final report that matches the record', async () => {
    const root = tempDir();
    writeTree(root, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`d${i % 7}/f${i}.txt`, `file ${i}`])));
    const store = newStore();
    const seen: SnapshotProgress[] = [];
    const rec = await store.create(root, { onProgress: (p) => seen.push(p) });
    const last = seen.at(-1);
    expect(last?.phase).toBe('done');
    expect(last).toMatchObject({ files: 300, bytes: rec.logicalBytes, filesDone: 300, bytesDone: rec.logicalBytes, filesHashed: 300 });
    const stores = seen.filter((p) => p.phase === 'store');
    expect(stores.length).toBeGreaterThan(2);
    for (let i = 1; i < stores.length; i++) expect(stores[i]!.filesDone).toBeGreaterThanOrEqual(stores[i - 1]!.filesDone);
  });

  it('survives a progress callback that throws, and logs it', async () => {
    const root = tempDir();
    writeTree(root, { 'a.txt': 'a' });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const store = newStore({ logger });
    const rec = await store.create(root, {
      onProgress: () => {
        throw new Error('buggy progress bar');
      },
    });
    expect(rec.fileCount).toBe(1);
    expect(warnings).toContain('snapshot: onProgress threw');
  });

  it('skips and reports sockets, FIFOs and devices', async () => {
    const root = tempDir();
    writeTree(root, { 'a.txt': 'a', 'ignored/x': 'x', '.gitignore': 'ignored/\n*.sock-ignored\n' });
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    execFileSync('mkfifo', [path.join(root, 'x.sock-ignored')]);
    // Device nodes need root; where the tests run unprivileged, only the others are checked.
    const devices = process.getuid?.() === 0;
    if (devices) {
      execFileSync('mknod', [path.join(root, 'null-dev'), 'c', '1', '3']);
      execFileSync('mknod', [path.join(root, 'loop-dev'), 'b', '7', '0']);
    }
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(root, 'app.sock'), resolve));
    try {
      const store = newStore();
      const rec = await store.create(root);
      expect([...rec.skipped].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
        { path: 'app.sock', reason: SkipReason.SOCKET },
        ...(devices ? [{ path: 'loop-dev', reason: SkipReason.BLOCK_DEVICE }, { path: 'null-dev', reason: SkipReason.CHARACTER_DEVICE }] : []),
        { path: 'pipe', reason: SkipReason.FIFO },
      ]);
      expect(await snapshotFiles(store, rec.id)).toEqual(['.gitignore', 'a.txt']);
      expect((await store.get(rec.id))?.skipped).toEqual(rec.skipped);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('leaves out .git, the data directory, the store inside the project, and extra patterns', async () => {
    const root = tempDir();
    writeTree(root, {
      '.git/config': 'x',
      'sub/.git': 'gitdir: elsewhere',
      'sub/code.py': 'x',
      'data/big.csv': 'x',
      'sub/data/kept.csv': 'x',
      'model.parquet': 'x',
      'keep.parquet': 'x',
      '.gitignore': 'secret.txt\n',
      'secret.txt': 'x',
    });
    const store = new SnapshotStore({ root: path.join(root, '.snapshots'), dataDir: 'data', exclude: ['*.parquet'] });
    const rec = await store.create(root, { exclude: ['!keep.parquet', '!secret.txt'] });
    expect(await snapshotFiles(store, rec.id)).toEqual(['.gitignore', 'keep.parquet', 'secret.txt', 'sub/code.py', 'sub/data/kept.csv']);
    // A second snapshot does not pick up the store's own files either.
    const again = await store.create(root, { dataDir: null });
    expect(await snapshotFiles(store, again.id)).toContain('data/big.csv');
    expect((await snapshotFiles(store, again.id)).some((p) => p.startsWith('.snapshots'))).toBe(false);
  });
});

describe('SnapshotStore.readFile', () => {
  it('reads files, through symlinks inside the snapshot', async () => {
    const root = tempDir();
    writeTree(root, { 'conf/a.json': '{"a":1}', 'link.json': { link: 'conf/a.json' }, 'confdir': { link: 'conf' } });
    const store = newStore();
    const rec = await store.create(root);
    expect((await store.readFile(rec.id, 'conf/a.json')).toString()).toBe('{"a":1}');
    expect((await store.readFile(rec.id, 'link.json')).toString()).toBe('{"a":1}');
    expect((await store.readFile(rec.id, 'confdir/a.json')).toString()).toBe('{"a":1}');
  });

  it('refuses bad paths and unknown files with typed errors', async () => {
    const root = tempDir();
    writeTree(root, { 'conf/a.json': '{}' });
    const store = newStore();
    const rec = await store.create(root);
    for (const bad of ['', '/etc/passwd', '../x', 'conf/../conf/a.json', 'conf//a.json', './conf/a.json']) {
      await expect(store.readFile(rec.id, bad)).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID_PATH', path: 'path', value: bad });
    }
    await expect(store.readFile(rec.id, 'conf/b.json')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.readFile(rec.id, 'conf/b.json')).rejects.toMatchObject({ code: 'SNAPSHOT_FILE_NOT_FOUND' });
    await expect(store.readFile(rec.id, 'conf')).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_A_FILE' });
  });
});

describe('bad input is refused and changes nothing', () => {
  it('rejects invalid constructor options with OptionsError naming the option', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ root: '' }, 'root'],
      [{ root: '/tmp/x', maxFiles: 0 }, 'maxFiles'],
      [{ root: '/tmp/x', maxBytes: 1.5 }, 'maxBytes'],
      [{ root: '/tmp/x', symlinks: 'follow' }, 'symlinks'],
      [{ root: '/tmp/x', exclude: 'a' }, 'exclude'],
      [{ root: '/tmp/x', exclude: ['a\nb'] }, 'exclude[0]'],
      [{ root: '/tmp/x', dataDir: '../data' }, 'dataDir'],
      [{ root: '/tmp/x', concurrency: -1 }, 'concurrency'],
      [{ root: '/tmp/x', clock: {} }, 'clock'],
    ];
    for (const [opts, name] of cases) {
      const make = (): SnapshotStore => new SnapshotStore(opts as never);
      expect(make).toThrow(OptionsError);
      try {
        make();
      } catch (e) {
        expect(e).toMatchObject({ code: 'SNAPSHOT_INVALID_OPTION', path: name });
      }
    }
  });

  it('rejects a missing or non-directory project, and bad create options, storing nothing', async () => {
    const root = tempDir();
    writeTree(root, { 'file.txt': 'x' });
    const store = newStore();
    await expect(store.create(path.join(root, 'nope'))).rejects.toMatchObject({ code: 'SNAPSHOT_PROJECT_NOT_FOUND', path: 'projectDir' });
    await expect(store.create(path.join(root, 'file.txt'))).rejects.toMatchObject({ code: 'SNAPSHOT_PROJECT_NOT_DIRECTORY' });
    await expect(store.create(root, { maxFiles: 0 })).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID_OPTION', path: 'maxFiles' });
    await expect(store.create(root, { symlinks: 'x' as never })).rejects.toMatchObject({ path: 'symlinks' });
    expect(await store.list()).toEqual([]);
    expect(objectsIn(store.root)).toEqual([]);
  });

  it('reports unknown ids: get resolves undefined, the others throw NotFoundError', async () => {
    const store = newStore();
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await store.get(unknown)).toBeUndefined();
    expect(await store.get('../../etc/passwd')).toBeUndefined();
    for (const id of [unknown, '../../etc/passwd']) {
      await expect(store.readFile(id, 'a')).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND', path: 'id' });
      await expect(store.materialize(id, tempDir())).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.delete(id)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      await expect(store.verify(id)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    }
  });

  it('refuses a store directory of another format, or a non-empty directory, writing nothing there', async () => {
    const dir = tempDir('store-');
    writeFileSync(path.join(dir, 'format.json'), '{"format":"something-else","version":9}');
    const store = new SnapshotStore({ root: dir });
    await expect(store.list()).rejects.toBeInstanceOf(SnapshotError);
    await expect(store.list()).rejects.toMatchObject({ code: 'SNAPSHOT_STORE_FORMAT', path: 'root' });
    expect(readdirSync(dir)).toEqual(['format.json']);

    const home = tempDir();
    writeTree(home, { 'thesis.tex': 'x' });
    await expect(new SnapshotStore({ root: home }).list()).rejects.toMatchObject({ code: 'SNAPSHOT_STORE_FORMAT' });
    expect(readdirSync(home)).toEqual(['thesis.tex']);
  });

  it('detects a damaged manifest', async () => {
    const root = tempDir();
    writeTree(root, { 'a.txt': 'a', 'b.txt': 'b' });
    const store = newStore();
    const rec = await store.create(root);
    const file = path.join(store.root, 'snapshots', `${rec.id}.snap`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"a.txt"', '"c.txt"'));
    const fresh = new SnapshotStore({ root: store.root });
    await expect(fresh.readFile(rec.id, 'b.txt')).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  });

  it('an empty project is a snapshot of nothing, and its copy an empty directory', async () => {
    const store = newStore();
    const rec = await store.create(tempDir());
    expect(rec).toMatchObject({ fileCount: 0, logicalBytes: 0, newBytes: 0, pipelines: [] });
    const work = path.join(tempDir(), 'w');
    await store.materialize(rec.id, work);
    expect(readdirSync(work)).toEqual([]);
  });

  it('list() skips a damaged manifest and logs it; get() reports it', async () => {
    const root = tempDir();
    writeTree(root, { 'a.txt': 'a' });
    const errors: string[] = [];
    const store = newStore({ logger: { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) } });
    const good = await store.create(root);
    const bad = await store.create(root);
    writeFileSync(path.join(store.root, 'snapshots', `${bad.id}.snap`), 'not json\n');
    expect((await store.list()).map((r) => r.id)).toEqual([good.id]);
    expect(errors).toEqual(['snapshot: skipping a damaged manifest in list()']);
    await expect(store.get(bad.id)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  });

  it('symlinked project directories are resolved to their real path', async () => {
    const real = tempDir();
    writeTree(real, { 'a.txt': 'a' });
    const link = path.join(tempDir(), 'proj');
    symlinkSync(real, link);
    const store = newStore();
    const rec = await store.create(link);
    expect(rec.sourceDir).toBe(real);
  });
});
