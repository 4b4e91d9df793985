import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { objectsIn, tempDir, writeTree } from './helpers.js';

function files(n: number, tag: string, from = 0): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${tag}/d${(i + from) % 9}/f${i + from}.txt`, `${tag} ${i + from} `.repeat(50)]));
}

/** A process id that is certainly not running any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('gc', () => {
  it('removes only what no snapshot references', async () => {
    const src = tempDir();
    writeTree(src, { ...files(20, 'common'), 'only-a.txt': 'a' });
    const store = new SnapshotStore({ root: tempDir('store-'), reclaimOnDelete: false });
    const a = await store.create(src);
    writeFileSync(path.join(src, 'only-a.txt'), 'b!');
    const b = await store.create(src);
    expect(objectsIn(store.root)).toHaveLength(22);
    await store.delete(a.id);
    expect(objectsIn(store.root)).toHaveLength(22);
    const report = await store.gc();
    expect(report).toMatchObject({ removedObjects: 1, removedBytes: 1, keptObjects: 21 });
    expect((await store.verify(b.id)).ok).toBe(true);
    await store.delete(b.id);
    expect((await store.gc()).removedObjects).toBe(21);
    expect(objectsIn(store.root)).toEqual([]);
  });

  it('delete reclaims at once by default', async () => {
    const src = tempDir();
    writeTree(src, files(10, 'x'));
    const store = new SnapshotStore({ root: tempDir('store-') });
    const a = await store.create(src);
    const b = await store.create(src);
    await store.delete(a.id);
    expect(objectsIn(store.root)).toHaveLength(10);
    await store.delete(b.id);
    expect(objectsIn(store.root)).toEqual([]);
    expect(await store.stats()).toMatchObject({ snapshots: 0, objects: 0, storedBytes: 0 });
  });

  it('waits for a create that reuses content no snapshot references yet', async () => {
    // The dangerous case: a create takes its hashes from the stat cache, for objects that
    // only a deleted snapshot referenced. A gc running in between would remove them.
    const src = tempDir();
    writeTree(src, files(60, 'old'));
    const root = tempDir('store-');
    const creator = new SnapshotStore({ root, reclaimOnDelete: false });
    const collector = new SnapshotStore({ root }); // another instance: as another process would
    const first = await creator.create(src);
    await creator.delete(first.id);
    writeTree(src, files(700, 'new'));
    const order: string[] = [];
    let gc: Promise<unknown> | undefined;
    const second = await creator.create(src, {
      onProgress: (p) => {
        if (gc === undefined && p.phase === 'store' && p.filesHashed > 0) gc = collector.gc().then((r) => order.push('gc') && r);
      },
    });
    order.push('create');
    const report = await gc;
    expect(order).toEqual(['create', 'gc']);
    expect(report).toMatchObject({ removedObjects: 0 });
    expect(await creator.verify(second.id)).toMatchObject({ ok: true, missing: [], corrupt: [] });
  });

  it('runs safely during materialize, and two creates run at once', async () => {
    const src = tempDir();
    writeTree(src, files(800, 'm'));
    const root = tempDir('store-');
    const s1 = new SnapshotStore({ root });
    const s2 = new SnapshotStore({ root });
    const [a, b] = await Promise.all([s1.create(src), s2.create(src)]);
    expect(a.treeHash).toBe(b.treeHash);
    const work = path.join(tempDir(), 'w');
    let gc: Promise<unknown> | undefined;
    await s1.materialize(a.id, work, {
      onProgress: (p) => {
        if (gc === undefined && p.filesDone > 0) gc = s2.delete(b.id).then(() => s2.gc());
      },
    });
    await gc;
    expect(readdirSync(work).sort()).toEqual(['m']);
    expect(await s1.verify(a.id)).toMatchObject({ ok: true });
    expect(await s2.list()).toHaveLength(1);
  });

  it('clears the markers of dead holders and leftovers of interrupted work', async () => {
    const root = tempDir('store-');
    const store = new SnapshotStore({ root });
    await store.list();
    const marker = path.join(root, 'locks/shared/dead.json');
    writeFileSync(marker, JSON.stringify({ token: 'dead', pid: deadPid(), host: hostname(), kind: 'create', heartbeatAt: Date.now() }));
    writeFileSync(path.join(root, 'tmp/obj-left-over'), 'partial');
    const report = await store.gc();
    expect(report.removedTemp).toBe(2);
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('a create proceeds past the gc lock of a dead process', async () => {
    const root = tempDir('store-');
    const store = new SnapshotStore({ root });
    await store.list();
    const lock = path.join(root, 'locks/gc.lock');
    writeFileSync(lock, JSON.stringify({ token: 't', pid: deadPid(), host: hostname(), kind: 'gc', heartbeatAt: Date.now() }));
    const src = tempDir();
    writeTree(src, { 'a.txt': 'a' });
    await store.create(src);
    expect(existsSync(lock)).toBe(false);
  });

  /** A logger that counts the lock's "waiting" messages, and lets a test await the next ones. */
  function waitLog(): { logger: Logger; polls(n: number): Promise<void> } {
    let count = 0;
    const waiters: Array<{ at: number; resolve: () => void }> = [];
    const logger: Logger = {
      ...silentLogger,
      debug: (m: string) => {
        if (!m.includes('waits')) return;
        count++;
        for (const w of waiters.filter((x) => x.at <= count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      },
    };
    return { logger, polls: (n) => new Promise<void>((resolve) => waiters.push({ at: count + n, resolve })) };
  }

  it('takes a marker without heartbeat for staleLockMs as stale (another host), and waits for a live one', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const root = tempDir('store-');
    const { logger, polls } = waitLog();
    const store = new SnapshotStore({ root, clock, logger, staleLockMs: 60_000, lockPollMs: 5 });
    await store.list();
    const marker = path.join(root, 'locks/shared/remote.json');
    const write = (heartbeatAt: number): void =>
      writeFileSync(marker, JSON.stringify({ token: 'r', pid: 1, host: 'another-host', kind: 'create', heartbeatAt }));

    write(clock.now() - 60_001);
    expect((await store.gc()).removedTemp).toBe(1);

    write(clock.now() - 1_000);
    let finished = false;
    const gc = store.gc().then(() => (finished = true));
    await polls(3);
    expect(finished).toBe(false);
    expect(existsSync(path.join(root, 'locks/gc.lock'))).toBe(true);
    await clock.advance(59_000); // 60 s without a heartbeat: not yet over the limit
    await polls(3);
    expect(finished).toBe(false);
    await clock.advance(1_000);
    await gc;
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(root, 'locks/gc.lock'))).toBe(false);
  });

  it('never takes a marker of this process as stale; a waiting gc honours its signal and releases the lock', async () => {
    const clock = new FakeClock(0);
    const root = tempDir('store-');
    const { logger, polls } = waitLog();
    const store = new SnapshotStore({ root, clock, logger, lockPollMs: 5 });
    await store.list();
    writeFileSync(path.join(root, 'locks/shared/live.json'), JSON.stringify({ token: 'l', pid: process.pid, host: hostname(), kind: 'create', heartbeatAt: 0 }));
    await clock.advance(3_600_000); // an hour without heartbeat: still ours, still alive
    const ac = new AbortController();
    const gc = store.gc({ signal: ac.signal });
    await polls(2);
    ac.abort(new Error('enough'));
    await expect(gc).rejects.toThrow('enough');
    expect(existsSync(path.join(root, 'locks/gc.lock'))).toBe(false);
  });
});
