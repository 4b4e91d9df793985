/**
 * Garbage collection: mark every object a manifest references, sweep the rest, and clear
 * what interrupted operations left (temporary files, stale lock markers). It runs under
 * the exclusive lock, so no `create` is between writing objects and publishing its
 * manifest. It bumps the store's generation before removing anything, which tells stat
 * caches that objects they remember may be gone.
 */
import { readFileSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import type { Logger } from '../logger.js';
import { isErrno } from './errors.js';
import type { Layout } from './layout.js';
import { writeAtomic } from './layout.js';
import type { StoreLock } from './lock.js';
import { readManifest } from './manifest.js';
import type { GcReport } from './types.js';

/** The current gc generation (0 before the first gc). */
export function readGeneration(layout: Layout): number {
  try {
    const n = Number(readFileSync(layout.generation, 'utf8').trim());
    return Number.isSafeInteger(n) ? n : -1;
  } catch (e) {
    // No gc has run yet.
    if (isErrno(e, 'ENOENT')) return 0;
    throw e;
  }
}

function bumpGeneration(layout: Layout): void {
  const next = Math.max(0, readGeneration(layout)) + 1;
  writeAtomic(layout.tmpFile('generation'), layout.generation, String(next), true);
}

/** The hashes of every object that a manifest references. */
async function markLive(layout: Layout): Promise<Set<string>> {
  const live = new Set<string>();
  for (const name of readdirSync(layout.snapshots)) {
    if (!name.endsWith('.snap')) continue;
    // A damaged manifest throws: better no gc than removing content a snapshot may need.
    const m = await readManifest(`${layout.snapshots}/${name}`, name.slice(0, -'.snap'.length));
    if (m === undefined) continue;
    for (const e of m.entries) if (e.type === 'file') live.add(e.hash);
  }
  return live;
}

export interface GcContext {
  readonly layout: Layout;
  readonly lock: StoreLock;
  readonly logger: Logger;
}

/**
 * Runs a gc. With `wait: false` it gives up (resolves `undefined`) when a `create` is
 * running or another gc holds the lock.
 */
export async function collectGarbage(ctx: GcContext, wait: boolean, signal: AbortSignal | undefined): Promise<GcReport | undefined> {
  const { layout, lock } = ctx;
  let removedTemp = 0;
  const held = await lock.exclusive(wait, signal, () => removedTemp++);
  if (held === undefined) return undefined;
  try {
    bumpGeneration(layout);
    const live = await markLive(layout);
    signal?.throwIfAborted();
    let removedObjects = 0;
    let removedBytes = 0;
    let keptObjects = 0;
    for (let i = 0; i < 256; i++) {
      const dir = `${layout.objects}/${i.toString(16).padStart(2, '0')}`;
      const prefix = dir.slice(-2);
      for (const name of readdirSync(dir)) {
        if (live.has(prefix + name)) {
          keptObjects++;
          continue;
        }
        const file = `${dir}/${name}`;
        const st = statSync(file, { throwIfNoEntry: false });
        unlinkSync(file);
        // `.tmp-*`: an object an interrupted create was still writing.
        if (name.startsWith('.')) {
          removedTemp++;
        } else {
          removedObjects++;
          removedBytes += st?.size ?? 0;
        }
      }
      if (i % 32 === 31) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // No create runs now, so everything in tmp/ was left by one that was interrupted.
    for (const name of readdirSync(layout.tmp)) {
      rmSync(`${layout.tmp}/${name}`, { recursive: true, force: true });
      removedTemp++;
    }
    removedTemp += lock.sweepScratch();
    const report: GcReport = { removedObjects, removedBytes, removedTemp, keptObjects };
    ctx.logger.info('snapshot: gc done', { ...report });
    return report;
  } finally {
    held.release();
  }
}
