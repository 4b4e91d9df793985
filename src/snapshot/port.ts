import type { SnapshotRules } from './options.js';

/**
 * The `Snapshots` port: what a job needs from a project snapshot. `SnapshotStore` (a
 * content-addressed store on local disk) implements it; a host may plug in its own (an
 * object store), and everything the library does with snapshots goes through this.
 *
 * Must hold: a snapshot is immutable once `create` resolves, and invisible (not in `list`,
 * `get` resolves `undefined`) until then; `materialize` gives a directory whose changes
 * never reach the snapshot; `delete` of one snapshot never affects another.
 */
export interface Snapshots {
  /** Takes a snapshot of `projectDir` (ignore rules applied) and resolves when it is complete. */
  create(projectDir: string, options?: SnapshotCreateOptions): Promise<SnapshotRecord>;
  /** The snapshot's record, or `undefined` when there is none with that id. */
  get(id: string): Promise<SnapshotRecord | undefined>;
  /** Every complete snapshot. */
  list(): Promise<SnapshotRecord[]>;
  /**
   * Reads one file of the snapshot (path relative to the project root, `/`-separated).
   * Rejects with an error whose `code` is `'SNAPSHOT_FILE_NOT_FOUND'` (a `NotFoundError`)
   * when the snapshot has no such file, so callers can tell "absent" from other failures;
   * `'ENOENT'` is accepted too, for adapters that pass on a file system's error.
   */
  readFile(id: string, path: string): Promise<Buffer>;
  /** Writes a working copy of the snapshot into `targetDir` (created; must be empty or absent). */
  materialize(id: string, targetDir: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Removes the snapshot; its stored content goes when no other snapshot uses it. */
  delete(id: string): Promise<void>;
}

/**
 * Options of {@link Snapshots.create}. The rules (`exclude`, `maxFiles`...) come from a
 * job's `snapshotOptions`, on top of the store's own; an adapter that cannot apply a rule
 * refuses it with an `OptionsError` naming it. Adapters may accept more.
 */
export interface SnapshotCreateOptions extends SnapshotRules {
  /** Cancels the snapshot; nothing is left visible. @default none */
  signal?: AbortSignal;
}

/** What a complete snapshot is. */
export interface SnapshotRecord {
  /** The snapshot's id (what jobs store as `snapshotId`). */
  readonly id: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** The project directory it was taken from (real path). */
  readonly sourceDir: string;
  /** How many files it holds. */
  readonly fileCount: number;
  /** Sum of the sizes of the files it holds. */
  readonly logicalBytes: number;
  /** Bytes this snapshot added to the store (content not already there). */
  readonly newBytes: number;
  /** Paths of the `.orchest` pipeline files it holds, relative to the project root, sorted. */
  readonly pipelines: readonly string[];
}
