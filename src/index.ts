/**
 * pipeline-jobs: run data pipelines as jobs. The public API, listed explicitly.
 * @packageDocumentation
 */
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
export { SystemClock, type Clock, type TimerHandle } from './clock.js';
export { silentLogger, type Logger } from './logger.js';
export type { EnvironmentResolver, PinnedEnvironment } from './environment.js';
export {
  definePipeline,
  findStep,
  loadPipeline,
  parallelLayers,
  parsePipeline,
  topologicalOrder,
  validateDag,
  type DagNode,
  type ParsePipelineOptions,
  type Pipeline,
  type PipelineDefinition,
  type PipelineSettings,
  type PipelineStep,
  type RunParameters,
  type StepDefinition,
  type StepKernel,
} from './pipeline/index.js';
export type { Snapshots, SnapshotCreateOptions, SnapshotRecord } from './snapshot/port.js';
