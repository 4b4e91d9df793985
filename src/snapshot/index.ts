/** Project snapshots: the `Snapshots` port and its local-disk implementation. */
export { SnapshotStore } from './store.js';
export type { Snapshots, SnapshotCreateOptions, SnapshotRecord } from './port.js';
export type { SnapshotStoreOptions, StoreCreateOptions, MaterializeOptions, SnapshotRules } from './options.js';
export { SkipReason, SymlinkPolicy } from './types.js';
export type { SkippedEntry, StoredSnapshotRecord, SnapshotProgress, GcReport, VerifyReport, StoreStats } from './types.js';
export { SnapshotErrorCode } from './errors.js';
export type { Contributor } from './limits.js';
export type { ManifestEntry as SnapshotEntry, FileEntry as SnapshotFileEntry, LinkEntry as SnapshotLinkEntry, DirEntry as SnapshotDirEntry } from './manifest.js';
