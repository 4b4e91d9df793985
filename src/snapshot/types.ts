import type { SnapshotRecord } from './port.js';

/** Why an entry of the project was left out although no ignore rule excludes it. */
export const SkipReason = {
  /** A Unix socket: not a file. */
  SOCKET: 'socket',
  /** A named pipe: not a file. */
  FIFO: 'fifo',
  /** A block device: not a file. */
  BLOCK_DEVICE: 'block-device',
  /** A character device: not a file. */
  CHARACTER_DEVICE: 'character-device',
  /** A symlink pointing outside the project, skipped under `symlinks: 'skip'`. */
  ESCAPING_SYMLINK: 'escaping-symlink',
  /** A symlink whose target is missing or excluded, skipped under `symlinks: 'skip'`. */
  DANGLING_SYMLINK: 'dangling-symlink',
  /** A name that is not valid UTF-8 (Node cannot address it reliably). */
  UNSUPPORTED_NAME: 'unsupported-name',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

/** An entry left out of a snapshot, and why. */
export interface SkippedEntry {
  /** Relative to the project root, `/`-separated. */
  readonly path: string;
  /** Why it was left out. */
  readonly reason: SkipReason;
  /** The link target, for skipped symlinks. */
  readonly target?: string;
}

/** What to do with a symlink that points outside the project or dangles. */
export const SymlinkPolicy = {
  /** Refuse the snapshot with an error naming the link (default). */
  ERROR: 'error',
  /** Leave the link out and report it in `skipped`. */
  SKIP: 'skip',
} as const;
export type SymlinkPolicy = (typeof SymlinkPolicy)[keyof typeof SymlinkPolicy];

/** The record `SnapshotStore` keeps: the port's record plus what the store knows. */
export interface StoredSnapshotRecord extends SnapshotRecord {
  /** SHA-256 of the manifest's entries: two snapshots of the same tree have the same one. */
  readonly treeHash: string;
  /** Entries left out though not ignored (special files; symlinks under `symlinks: 'skip'`). */
  readonly skipped: readonly SkippedEntry[];
}

/** A progress report of `create` (or `materialize`), for progress bars. */
export interface SnapshotProgress {
  /** `scan`: walking the tree; `store`: reading and storing files; `done`: finished. */
  readonly phase: 'scan' | 'store' | 'done';
  /** Files found so far (`scan`) or in total. */
  readonly files: number;
  /** Total bytes of those files (0 while scanning). */
  readonly bytes: number;
  /** Files stored so far. */
  readonly filesDone: number;
  /** Bytes of those files. */
  readonly bytesDone: number;
  /** Files actually read and hashed (the rest came from the stat cache). */
  readonly filesHashed: number;
  /** Bytes of the files read and hashed. */
  readonly bytesHashed: number;
}

/** What `gc()` did. */
export interface GcReport {
  /** Objects no snapshot references, removed. */
  readonly removedObjects: number;
  /** Their total size in bytes. */
  readonly removedBytes: number;
  /** Leftovers of interrupted operations (temporary files, stale locks), removed. */
  readonly removedTemp: number;
  /** Objects still referenced. */
  readonly keptObjects: number;
}

/** What `verify(id)` found. */
export interface VerifyReport {
  /** The snapshot checked. */
  readonly id: string;
  /** True when every object is present and matches its hash. */
  readonly ok: boolean;
  /** Distinct objects checked. */
  readonly checkedObjects: number;
  /** Their total size in bytes. */
  readonly checkedBytes: number;
  /** Files whose object is gone. */
  readonly missing: ReadonlyArray<{
    /** The file, relative to the project root. */
    readonly path: string;
    /** The object it names. */
    readonly hash: string;
  }>;
  /** Files whose object's content no longer matches its hash. */
  readonly corrupt: ReadonlyArray<{
    /** The file, relative to the project root. */
    readonly path: string;
    /** The hash it should have. */
    readonly hash: string;
  }>;
}

/** Disk use of the store. */
export interface StoreStats {
  /** Snapshots in the store. */
  readonly snapshots: number;
  /** Sum of `logicalBytes` over the snapshots: what plain copies would take. */
  readonly logicalBytes: number;
  /** Distinct objects stored, and their total size. */
  readonly objects: number;
  /** The total size of those objects in bytes (each distinct content once). */
  readonly storedBytes: number;
  /** Blocks the store's files use on disk (objects, manifests, caches), in bytes. */
  readonly diskBytes: number;
}
