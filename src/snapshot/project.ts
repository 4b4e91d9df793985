/**
 * The project side of a snapshot: its real root, and the rules that do not come from its
 * `.gitignore` files (`.git/info/exclude`, caller patterns, the data directory and the
 * store itself when they lie inside the project).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { isErrno, snapshotError, SnapshotErrorCode } from './errors.js';
import { parseIgnoreFile, parsePatternStrings, type PatternList } from './ignore/gitignore.js';
import type { RuleSet } from './ignore/rules.js';

/** The real path of the project directory, or a typed error. */
export function resolveProject(projectDir: string): string {
  let root: string;
  try {
    root = realpathSync.native(path.resolve(projectDir));
  } catch (e) {
    if (!isErrno(e, 'ENOENT', 'ENOTDIR')) throw e;
    throw snapshotError(SnapshotErrorCode.PROJECT_NOT_FOUND, 'The project directory does not exist', { path: 'projectDir', value: projectDir });
  }
  if (!statSync(root).isDirectory()) {
    throw snapshotError(SnapshotErrorCode.PROJECT_NOT_DIRECTORY, 'The project path is not a directory', { path: 'projectDir', value: projectDir });
  }
  return root;
}

function readInfoExclude(root: string): PatternList | undefined {
  try {
    return parseIgnoreFile(readFileSync(`${root}/.git/info/exclude`), '', '.git/info/exclude');
  } catch (e) {
    // Not a git repository (or no exclude file): nothing to obey.
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** The directory-independent pattern lists. */
export function projectRules(root: string, exclude: readonly string[]): RuleSet {
  return {
    extra: exclude.length > 0 ? parsePatternStrings(exclude, 'option exclude') : undefined,
    infoExclude: readInfoExclude(root),
  };
}

/** Paths left out whatever the patterns say: the data directory and the store itself. */
export function hardExcludes(root: string, dataDir: string | null, storeRoot: string): Set<string> {
  const out = new Set<string>();
  const add = (abs: string): void => {
    let real = abs;
    try {
      real = realpathSync.native(abs);
    } catch (e) {
      // Not there (yet): compare the path as given.
      if (!isErrno(e, 'ENOENT', 'ENOTDIR')) throw e;
    }
    const rel = path.relative(root, real);
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) out.add(rel.split(path.sep).join('/'));
  };
  if (dataDir !== null) add(path.resolve(root, dataDir));
  add(storeRoot);
  return out;
}
