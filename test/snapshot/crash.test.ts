/** A crash or a cancel in the middle of create leaves no visible snapshot, and gc cleans up. */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SnapshotStore, type SnapshotProgress } from '../../src/snapshot/index.js';
import { filesUnder, objectsIn, tempDir, writeTree } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const child = path.join(repo, 'test/snapshot/fixtures/create-child.ts');

function project(n: number): string {
  const src = tempDir();
  writeTree(src, Object.fromEntries(Array.from({ length: n }, (_, i) => [`d${i % 11}/f${i}.dat`, `payload ${i} `.repeat(400)])));
  return src;
}

function leftovers(root: string): { tmp: string[]; markers: string[]; snapshots: string[] } {
  return {
    tmp: readdirSync(path.join(root, 'tmp')),
    markers: readdirSync(path.join(root, 'locks/shared')),
    snapshots: readdirSync(path.join(root, 'snapshots')),
  };
}

describe('crash safety', () => {
  it('a cancel in the middle leaves nothing visible and nothing behind', async () => {
    const src = project(1500);
    const store = new SnapshotStore({ root: tempDir('store-') });
    const ac = new AbortController();
    const err = await store
      .create(src, { signal: ac.signal, onProgress: (p) => (p.phase === 'store' && p.filesHashed > 0 ? ac.abort(new Error('cancelled')) : undefined) })
      .catch((e: unknown) => e);
    expect(err).toEqual(new Error('cancelled'));
    expect(await store.list()).toEqual([]);
    // The failed create cleaned up after itself (no other create was running).
    expect(objectsIn(store.root)).toEqual([]);
    expect(leftovers(store.root)).toEqual({ tmp: [], markers: [], snapshots: [] });
  });

  it('a process killed (SIGKILL) in the middle leaves no snapshot; gc removes what it wrote', async () => {
    const src = project(3000);
    const root = tempDir('store-');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, root, src], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    let killedAt: SnapshotProgress | undefined;
    for await (const line of createInterface({ input: proc.stdout })) {
      const msg = JSON.parse(line) as SnapshotProgress | { done: string };
      if ('done' in msg) break;
      if (msg.phase === 'store' && msg.filesHashed > 0) {
        killedAt = msg;
        proc.kill('SIGKILL');
        break;
      }
    }
    expect(await exited, stderr).toBe('SIGKILL');
    expect(killedAt?.filesHashed).toBeGreaterThan(0);
    expect(killedAt?.filesHashed).toBeLessThan(3000);

    const store = new SnapshotStore({ root });
    expect(await store.list()).toEqual([]);
    const written = objectsIn(root).length;
    expect(written).toBeGreaterThan(0);
    expect(leftovers(root).markers).toHaveLength(1); // the dead create's marker
    const report = await store.gc();
    expect(report.removedObjects).toBe(written);
    expect(filesUnder(path.join(root, 'objects'))).toEqual([]);
    expect(leftovers(root)).toEqual({ tmp: [], markers: [], snapshots: [] });

    const rec = await store.create(src);
    expect(rec.fileCount).toBe(3000);
    expect((await store.verify(rec.id)).ok).toBe(true);
  }, 60_000);
});
