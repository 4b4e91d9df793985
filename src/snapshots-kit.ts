/**
 * `pipeline-jobs/snapshots`: what `SnapshotStore` takes and reports, for code that drives
 * snapshots directly (create, materialize, verify, collect garbage) or writes its own
 * snapshot backend behind the `Snapshots` port. The class itself is in the root; most
 * users only meet snapshots through `createJob`, which makes one per job.
 * @packageDocumentation
 * @module pipeline-jobs/snapshots
 */
export type {
  Snapshots,
  SnapshotCreateOptions,
  SnapshotRecord,
  SnapshotStoreOptions,
  StoreCreateOptions,
  MaterializeOptions,
  SnapshotRules,
  SkippedEntry,
  StoredSnapshotRecord,
  SnapshotProgress,
  GcReport,
  VerifyReport,
  StoreStats,
  Contributor,
  SnapshotEntry,
  SnapshotFileEntry,
  SnapshotLinkEntry,
  SnapshotDirEntry,
} from './snapshot/index.js';
export { SymlinkPolicy, SkipReason as SnapshotSkipReason } from './snapshot/index.js';
