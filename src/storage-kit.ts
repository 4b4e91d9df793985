/**
 * `pipeline-jobs/storage`: what a storage adapter author needs: the {@link Storage} port,
 * its record and input types, and the errors an adapter throws. The contract suite every
 * adapter must pass is in `pipeline-jobs/storage/contract` (it imports vitest, so it is a
 * separate, ESM-only entry; `pipeline-jobs/testing/contracts` still exports it too).
 * @packageDocumentation
 * @module pipeline-jobs/storage
 */
export type {
  CancelTarget,
  ClaimInput,
  CreateBatchInput,
  FinishAndClaimResult,
  FinishRun,
  HeartbeatResult,
  JobExpectation,
  JobFilter,
  LedgerPrune,
  LedgerRetention,
  PageRequest,
  RecoveredRun,
  RunEnd,
  RunFilter,
  SkipInput,
  Storage,
  StorageEvent,
} from './storage/port.js';
export type {
  BatchRecord,
  BatchTrigger,
  BatchTriggerKind,
  ErrorInfo,
  Json,
  JobCounters,
  JobPatch,
  JobRecord,
  NewRun,
  OccurrenceRecord,
  Page,
  RunReason,
  RunRecord,
  StepStateRecord,
} from './storage/records.js';
export { JobStatus } from './status.js';
export { RunStatus, StepStatus } from './run/status.js';
export { SkipReason } from './schedule/types.js';
export { StorageError, JobStateError, NotFoundError, OptionsError } from './errors.js';
export { StorageErrorCode, JobErrorCode, NotFoundErrorCode, OptionsErrorCode } from './error-codes.js';
