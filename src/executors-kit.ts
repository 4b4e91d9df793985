/**
 * `pipeline-jobs/executors`: for integrators who write their own step executor, log store
 * or environment resolver, or drive `RunExecutor` directly: the ports, what a run is
 * asked to do and what it reports, and the run policies as const objects (job options
 * take the same values as plain strings). Test your executor with
 * `describeStepExecutorContract` of `pipeline-jobs/testing/contracts`.
 * @packageDocumentation
 * @module pipeline-jobs/executors
 */
// The ports and what crosses them
export type {
  StepExecutor,
  StepInvocation,
  StepContext,
  StepOutcome,
  StepProcessInfo,
  StepResult,
  StepAttempt,
  SerializedError,
  RunRequest,
  RunOverrides,
  StepOverrides,
  RetryPolicy,
  StepExecutorChooser,
  RunSource,
  RunResult,
  LogStore,
  LogKey,
  LogStream,
  LogWriter,
} from './run/index.js';
export type { EnvironmentResolver } from './environment.js';
export type { RunRunner, RunLeftovers } from './scheduler/runner.js';
export { parallelLayers, type DagNode } from './pipeline/index.js';

// The options and reports of RunExecutor and of the shipped executors and log stores
export type {
  RunExecutorOptions,
  ExecuteOptions,
  PurgeOptions,
  Leftovers,
  RunProcesses,
  TerminateReport,
  RunExecutorEvents,
  RunExecutorEventName,
  RunExecutorListener,
  ProcessStepExecutorOptions,
  BubblewrapStepExecutorOptions,
  FunctionStepExecutorOptions,
  FileLogStoreOptions,
} from './run/index.js';
export type { RootEntry } from './run/bwrap-executor.js';
export type { StaticEnvironmentResolverOptions, EnvironmentDefinition } from './scheduler/static-environments.js';

// The run policies as const objects (job options take the same values as plain strings)
export { FailurePolicy, LogOverflowPolicy, LogErrorPolicy, KeepWorkingCopy } from './run/index.js';
export { InterruptedPolicy } from './scheduler/index.js';
