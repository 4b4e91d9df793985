/**
 * A working copy of a snapshot for one run. Files are copies of the objects, never hard
 * links (a run writing to its copy must not reach the store): a clone
 * (`COPYFILE_FICLONE`) where the file system supports reflinks, else a plain copy; each
 * file gets its recorded mode (the umask does not apply). Symlinks are recreated as links.
 * A failure or a cancel removes what was written: the target is left as it was found.
 */
import { mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { isErrno, snapshotError, SnapshotErrorCode } from './errors.js';
import type { Layout } from './layout.js';
import type { FileEntry, Manifest } from './manifest.js';
import type { SnapshotProgress } from './types.js';
import { batches, isSmallJob, WorkerPool } from './worker-pool.js';

export interface MaterializeContext {
  readonly layout: Layout;
  readonly logger: Logger;
  readonly concurrency: number;
}

/** Checks the target: absent (created, `true`) or an empty directory (`false`). */
function prepareTarget(target: string, given: string): boolean {
  const st = statSync(target, { throwIfNoEntry: false });
  if (st === undefined) {
    mkdirSync(target, { recursive: true });
    return true;
  }
  if (!st.isDirectory() || readdirSync(target).length > 0) {
    throw snapshotError(SnapshotErrorCode.TARGET_NOT_EMPTY, 'The target of materialize must be absent or an empty directory', {
      path: 'targetDir',
      value: given,
      hint: 'use a fresh directory per run',
    });
  }
  return false;
}

function clear(target: string, created: boolean): void {
  if (created) {
    rmSync(target, { recursive: true, force: true });
    return;
  }
  for (const name of readdirSync(target)) rmSync(path.join(target, name), { recursive: true, force: true });
}

export async function materializeSnapshot(
  ctx: MaterializeContext,
  manifest: Manifest,
  targetDir: string,
  signal: AbortSignal | undefined,
  onProgress: ((p: SnapshotProgress) => void) | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  const target = path.resolve(targetDir);
  const created = prepareTarget(target, targetDir);
  const pool = new WorkerPool(ctx.concurrency);
  try {
    const dirs = new Set<string>();
    for (const e of manifest.entries) {
      if (e.type === 'dir') dirs.add(e.path);
      const i = e.path.lastIndexOf('/');
      if (i > 0) dirs.add(e.path.slice(0, i));
    }
    for (const d of [...dirs].sort()) mkdirSync(`${target}/${d}`, { recursive: true });

    const files = manifest.entries.filter((e): e is FileEntry => e.type === 'file');
    const totalBytes = files.reduce((s, f) => s + f.size, 0);
    const fileBatches = batches(files, 256, 16 * 1024 * 1024, (f) => f.size);
    let filesDone = 0;
    let bytesDone = 0;
    const report = (phase: SnapshotProgress['phase']): void => {
      try {
        onProgress?.({ phase, files: files.length, bytes: totalBytes, filesDone, bytesDone, filesHashed: 0, bytesHashed: 0 });
      } catch (e) {
        // A progress bar's bug must not fail the run's copy.
        ctx.logger.warn('snapshot: onProgress threw', { error: String(e) });
      }
    };
    await pool.run<boolean>(
      'copy',
      { objects: ctx.layout.objects, target },
      fileBatches.map((b) => b.map((f) => [f.path, f.hash, f.mode])),
      signal,
      (i) => {
        for (const f of fileBatches[i] as FileEntry[]) {
          filesDone++;
          bytesDone += f.size;
        }
        report('store');
      },
      isSmallJob(files.length, totalBytes),
    );
    for (const e of manifest.entries) {
      if (e.type === 'symlink') symlinkSync(e.target, `${target}/${e.path}`);
    }
    signal?.throwIfAborted();
    report('done');
  } catch (e) {
    try {
      clear(target, created);
    } catch (cleanupError) {
      // The copy failed anyway; say what could not be cleaned and report the first error.
      ctx.logger.warn('snapshot: could not clean a failed working copy', { target, error: String(cleanupError) });
    }
    if (isErrno(e, 'ENOSPC', 'EDQUOT')) {
      throw snapshotError(SnapshotErrorCode.IO_ERROR, 'No space left for the working copy', { path: 'targetDir', value: targetDir, cause: e });
    }
    throw e;
  } finally {
    await pool.close();
  }
}
