/**
 * pipeline-jobs: run data pipelines as jobs. The public API, listed explicitly and kept
 * small (test/api/root-exports.txt lists it; test/api/surface.test.ts guards it).
 *
 * Subpaths: `pipeline-jobs/schedule` (pure schedule queries: preview, next occurrence),
 * `pipeline-jobs/storage` (for storage adapter authors: the port, its records and the
 * contract suite), `pipeline-jobs/sqlite`, `pipeline-jobs/postgres` (adapters),
 * `pipeline-jobs/testing` (fake clock, in-memory adapters).
 * @packageDocumentation
 */

// Errors and their code maps: each code belongs to one class.
export {
  PipelineJobsError,
  PipelineError,
  ParameterError,
  ScheduleError,
  SnapshotError,
  ExecutionError,
  JobStateError,
  NotFoundError,
  OptionsError,
  StorageError,
} from './errors.js';
export {
  PipelineErrorCode,
  ScheduleErrorCode,
  JobErrorCode,
  NotFoundErrorCode,
  OptionsErrorCode,
  ExecutionErrorCode,
  StorageErrorCode,
} from './error-codes.js';
export { ParameterErrorCode } from './parameters/codes.js';
export { SnapshotErrorCode } from './snapshot/errors.js';
export { StepErrorCode, RunErrorCode } from './run/result.js';

// The four classes
export { JobScheduler } from './scheduler/job-scheduler.js';
export { ParameterGrid, readFromDirectory, readFromSnapshot } from './parameters/index.js';
export { SnapshotStore } from './snapshot/index.js';
export { RunExecutor } from './run/index.js';

// Shipped adapters, executors, clock
export { MemoryStorage } from './storage/index.js';
export {
  ProcessStepExecutor,
  BubblewrapStepExecutor,
  FunctionStepExecutor,
  FileLogStore,
  MemoryLogStore,
} from './run/index.js';
export { StaticEnvironmentResolver } from './scheduler/index.js';
export { SystemClock, type Clock } from './clock.js';
export type { Logger } from './logger.js';
export type { EnvironmentResolver } from './environment.js';

// Pipelines
export {
  definePipeline,
  loadPipeline,
  parsePipeline,
  parallelLayers,
  type Pipeline,
  type PipelineDefinition,
  type PipelineStep,
  type StepDefinition,
} from './pipeline/index.js';

// What the scheduler's listings return (besides Job and Run)
export type { BatchRecord, OccurrenceRecord, Page } from './storage/index.js';
export type { BatchTriggerKind, LedgerRetention } from './storage/index.js';
export type { RunOccurrence, RunTrigger } from './run/request.js';

// Statuses and policies (each a const object and a type of the same name)
export { JobStatus } from './status.js';
export { RunStatus, StepStatus, FailurePolicy, LogOverflowPolicy, LogErrorPolicy, KeepWorkingCopy } from './run/index.js';
export { GapPolicy, RepeatPolicy, MissedPolicy, OverlapPolicy, SkipReason } from './schedule/index.js';
export { SymlinkPolicy } from './snapshot/index.js';
export { InterruptedPolicy } from './scheduler/index.js';

// Types a user writes or reads
export type {
  Job,
  JobOptions,
  JobSchedulerOptions,
  JobSpec,
  JobUpdate,
  Run,
  SchedulerEvents,
  SelectionInput,
  FollowLogOptions,
  ParametersInput,
} from './scheduler/index.js';
export type { ScheduleSpec } from './schedule/index.js';
export type { ParameterSpec } from './parameters/index.js';
export type {
  RunRequest,
  RunResult,
  StepResult,
  StepExecutor,
  StepInvocation,
  StepContext,
  StepOutcome,
  StepFunction,
  FunctionStepContext,
  LogStore,
} from './run/index.js';
