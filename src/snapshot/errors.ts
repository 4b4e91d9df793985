import { NotFoundError, OptionsError, SnapshotError } from '../errors.js';

/**
 * The stable codes of the snapshot family. `SnapshotError` unless noted:
 * `SNAPSHOT_NOT_FOUND` and `SNAPSHOT_FILE_NOT_FOUND` are `NotFoundError`s,
 * `SNAPSHOT_INVALID_OPTION` is an `OptionsError`.
 */
export const SnapshotErrorCode = {
  /** An option of the store or of a call is invalid (`path` names the option). */
  INVALID_OPTION: 'SNAPSHOT_INVALID_OPTION',
  /** The project directory does not exist. */
  PROJECT_NOT_FOUND: 'SNAPSHOT_PROJECT_NOT_FOUND',
  /** The project path is not a directory. */
  PROJECT_NOT_DIRECTORY: 'SNAPSHOT_PROJECT_NOT_DIRECTORY',
  /** A symlink points outside the project (or is absolute). */
  ESCAPING_SYMLINK: 'SNAPSHOT_ESCAPING_SYMLINK',
  /** A symlink's target does not exist, or is not part of the snapshot. */
  DANGLING_SYMLINK: 'SNAPSHOT_DANGLING_SYMLINK',
  /** More files than `maxFiles`. */
  TOO_MANY_FILES: 'SNAPSHOT_TOO_MANY_FILES',
  /** More bytes than `maxBytes`. */
  TOO_LARGE: 'SNAPSHOT_TOO_LARGE',
  /** A file or directory of the project cannot be read. */
  UNREADABLE: 'SNAPSHOT_UNREADABLE',
  /** A file kept changing while it was being read. */
  FILE_CHANGING: 'SNAPSHOT_FILE_CHANGING',
  /** An I/O error in the store itself (disk full, permissions). */
  IO_ERROR: 'SNAPSHOT_IO_ERROR',
  /** No snapshot with that id (`NotFoundError`). */
  NOT_FOUND: 'SNAPSHOT_NOT_FOUND',
  /** No such file in the snapshot (`NotFoundError`). */
  FILE_NOT_FOUND: 'SNAPSHOT_FILE_NOT_FOUND',
  /** A path given to `readFile` is not a plain relative path. */
  INVALID_PATH: 'SNAPSHOT_INVALID_PATH',
  /** The path names a directory, not a file. */
  NOT_A_FILE: 'SNAPSHOT_NOT_A_FILE',
  /** The target of `materialize` exists and is not an empty directory. */
  TARGET_NOT_EMPTY: 'SNAPSHOT_TARGET_NOT_EMPTY',
  /** Stored content a snapshot needs is missing (see `verify`). */
  OBJECT_MISSING: 'SNAPSHOT_OBJECT_MISSING',
  /** Stored content or a manifest does not match its hash (see `verify`). */
  CORRUPT: 'SNAPSHOT_CORRUPT',
  /** The store directory holds a format this version does not know. */
  STORE_FORMAT: 'SNAPSHOT_STORE_FORMAT',
  /**
   * `createJob` failed after taking its snapshot, and removing that snapshot failed too:
   * `cause` is the first error, `value` the snapshot left behind (remove it with
   * `SnapshotStore.delete`).
   */
  CLEANUP_FAILED: 'SNAPSHOT_CLEANUP_FAILED',
} as const;
export type SnapshotErrorCode = (typeof SnapshotErrorCode)[keyof typeof SnapshotErrorCode];

interface Details {
  path?: string;
  value?: unknown;
  hint?: string;
  cause?: unknown;
}

/** A `SnapshotError` with one of the family's codes. */
export function snapshotError(code: SnapshotError['code'], message: string, details: Details = {}): SnapshotError {
  return new SnapshotError(code, message, details);
}

/** An unknown snapshot id. */
export function snapshotNotFound(id: string): NotFoundError {
  return new NotFoundError(SnapshotErrorCode.NOT_FOUND, 'No snapshot with this id', {
    path: 'id',
    value: id,
    hint: 'list() shows the snapshots there are; a deleted snapshot is gone for good',
  });
}

/** An invalid option: `path` is the option's name. */
export function invalidOption(path: string, expected: string, value: unknown): OptionsError {
  return new OptionsError(SnapshotErrorCode.INVALID_OPTION, `Expected \`${path}\` to be ${expected}`, { path, value });
}

/** Whether `e` is a Node system error with one of the given `code`s. */
export function isErrno(e: unknown, ...codes: string[]): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && codes.includes((e as NodeJS.ErrnoException).code as string);
}
