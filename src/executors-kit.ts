/**
 * `pipeline-jobs/executors`: for integrators who write their own step executor, log store
 * or environment resolver, or drive `RunExecutor` directly: the ports, what a run is
 * asked to do and what it reports, and the run policies as const objects (job options
 * take the same values as plain strings). Test your executor with
 * `describeStepExecutorContract` of `pipeline-jobs/testing/contracts`.
 * @packageDocumentation
 * @module pipeline-jobs/executors
 */
export type {
  StepExecutor,
  StepInvocation,
  StepContext,
  StepOutcome,
  StepResult,
  RunRequest,
  RunResult,
  LogStore,
} from './run/index.js';
export type { EnvironmentResolver } from './environment.js';
export { parallelLayers } from './pipeline/index.js';
export { FailurePolicy, LogOverflowPolicy, LogErrorPolicy, KeepWorkingCopy } from './run/index.js';
export { SymlinkPolicy } from './snapshot/index.js';
export { InterruptedPolicy } from './scheduler/index.js';
