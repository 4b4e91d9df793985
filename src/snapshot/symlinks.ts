/**
 * The symlink rule: a link is kept (as a link, never followed) only when it resolves to
 * something that is itself in the snapshot, so a working copy never reaches outside
 * itself. Checked two ways: lexically (the target, joined to the link's directory, must
 * not leave the root: `../project/x` would point back into the live project from a copy)
 * and on disk (the real path must be inside the root and included). Absolute targets
 * escape by definition: in a working copy they would point at the original tree.
 */
import { readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { isErrno, snapshotError, SnapshotErrorCode } from './errors.js';
import { SkipReason, SymlinkPolicy, type SkippedEntry } from './types.js';

export interface KeptLink {
  readonly path: string;
  readonly target: string;
}

interface Problem {
  readonly path: string;
  readonly target: string;
  readonly escaping: boolean;
  readonly why: string;
}

function inspect(root: string, rel: string, included: (rel: string) => boolean): KeptLink | Problem | undefined {
  const abs = `${root}/${rel}`;
  let target: string;
  try {
    target = readlinkSync(abs);
  } catch (e) {
    // Removed (or replaced by a non-link) since the walk: nothing to keep.
    if (isErrno(e, 'ENOENT', 'EINVAL')) return undefined;
    throw snapshotError(SnapshotErrorCode.UNREADABLE, 'Cannot read a symlink', { path: rel, cause: e });
  }
  if (path.isAbsolute(target)) return { path: rel, target, escaping: true, why: 'its target is absolute' };
  const lexical = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
  if (lexical === '..' || lexical.startsWith('../')) return { path: rel, target, escaping: true, why: 'its target leaves the project' };
  let real: string;
  try {
    real = realpathSync.native(abs);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ELOOP', 'ENOTDIR')) return { path: rel, target, escaping: false, why: 'its target does not exist' };
    throw snapshotError(SnapshotErrorCode.UNREADABLE, 'Cannot resolve a symlink', { path: rel, value: target, cause: e });
  }
  if (real !== root && !real.startsWith(`${root}/`)) {
    return { path: rel, target, escaping: true, why: `it resolves to ${real}, outside the project` };
  }
  const realRel = real === root ? '' : real.slice(root.length + 1);
  if (!included(realRel)) return { path: rel, target, escaping: false, why: `its target ${realRel} is excluded from the snapshot` };
  return { path: rel, target };
}

/**
 * Sorts the walked symlinks into kept links and problems. Under `error` the first problem
 * is thrown (the others are counted in the hint); under `skip` they are returned as skipped.
 */
export function checkSymlinks(
  root: string,
  links: readonly string[],
  included: (rel: string) => boolean,
  policy: SymlinkPolicy,
): { kept: KeptLink[]; skipped: SkippedEntry[] } {
  const kept: KeptLink[] = [];
  const problems: Problem[] = [];
  for (const rel of links) {
    const r = inspect(root, rel, included);
    if (r === undefined) continue;
    if ('escaping' in r) problems.push(r);
    else kept.push(r);
  }
  if (problems.length > 0 && policy === SymlinkPolicy.ERROR) {
    const first = problems[0] as Problem;
    const others = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1, 4).map((p) => p.path).join(', ')})` : '';
    throw snapshotError(
      first.escaping ? SnapshotErrorCode.ESCAPING_SYMLINK : SnapshotErrorCode.DANGLING_SYMLINK,
      `Symlink refused: ${first.why}${others}`,
      {
        path: first.path,
        value: first.target,
        hint: "make the link relative and inside the project, add it to .gitignore, or pass symlinks: 'skip'",
      },
    );
  }
  const skipped = problems.map((p) => ({
    path: p.path,
    reason: p.escaping ? SkipReason.ESCAPING_SYMLINK : SkipReason.DANGLING_SYMLINK,
    target: p.target,
  }));
  return { kept, skipped };
}
