/**
 * pipeline-jobs: run data pipelines as jobs. The public API, listed explicitly and kept
 * small (test/api/root-exports.txt lists it; test/api/surface.test.ts guards it).
 *
 * Subpaths: `pipeline-jobs/schedule` (pure schedule queries: preview, next occurrence),
 * `pipeline-jobs/storage` (for storage adapter authors: the port, its records and the
 * contract suite), `pipeline-jobs/sqlite`, `pipeline-jobs/postgres` (adapters),
 * `pipeline-jobs/testing` (fake clock, in-memory adapters), `pipeline-jobs/errors` (the code
 * maps), `pipeline-jobs/executors` (ports and options for executors, log stores and
 * `RunExecutor`), `pipeline-jobs/snapshots` and `pipeline-jobs/parameters` (the options and
 * reports of `SnapshotStore` and `ParameterGrid`), `pipeline-jobs/dashboard`.
 * @packageDocumentation
 * @module pipeline-jobs
 */

// Errors (their code maps are in pipeline-jobs/errors): each code belongs to one class.
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
export { SystemClock, type Clock, type TimerHandle } from './clock.js';
export type { Logger } from './logger.js';

// Pipelines
export {
  definePipeline,
  loadPipeline,
  parsePipeline,
  type Pipeline,
  type PipelineDefinition,
  type PipelineStep,
  type PipelineSettings,
  type StepKernel,
  type StepDefinition,
  type ParsePipelineOptions,
  type RunParameters,
} from './pipeline/index.js';
export type { PinnedEnvironment } from './environment.js';

// What the scheduler's listings return (besides Job and Run)
export type { BatchRecord, OccurrenceRecord, Page } from './storage/index.js';
export type { RunOccurrence, RunTrigger } from './run/request.js';

// Statuses (each a const object and a type of the same name). Policies are plain strings
// in job options; their const objects are in pipeline-jobs/schedule and /executors.
export { JobStatus } from './status.js';
export { RunStatus, StepStatus } from './run/index.js';

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
  JobQuery,
  RunQuery,
  PageOptions,
  PreviewJobOptions,
  OneOrMany,
} from './scheduler/index.js';
export type { ScheduleSpec } from './schedule/index.js';
export type { ParameterSpec } from './parameters/index.js';
export type { StepFunction, FunctionStepContext, LogStore } from './run/index.js';
