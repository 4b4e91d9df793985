/** Running one pipeline run: RunExecutor, the StepExecutor and LogStore ports, the shipped adapters. */
export { RunExecutor, type ExecuteOptions, type PurgeOptions, type Leftovers } from './run-executor.js';
export { endRunProcesses, listRunProcesses, type RunProcesses, type EndRunProcessesOptions } from './run-processes.js';
export type { RunOccurrence, RunRequest, RunTrigger } from './request.js';
export type { RunExecutorOptions, RunOverrides, RetryPolicy, StepOverrides } from './options.js';
export { RunStatus, StepStatus, FailurePolicy, LogOverflowPolicy, LogErrorPolicy, KeepWorkingCopy } from './status.js';
export {
  StepErrorCode,
  RunErrorCode,
  serializeError,
  type RunResult,
  type StepResult,
  type StepAttempt,
  type SerializedError,
} from './result.js';
export type { RunExecutorEvents, RunExecutorEventName, RunExecutorListener } from './events.js';
export type {
  StepExecutor,
  StepExecutorChooser,
  StepInvocation,
  StepContext,
  StepOutcome,
  StepProcessInfo,
  LogWriter,
} from './step-executor.js';
export type { LogStore, LogKey, LogStream } from './log-store.js';
export { MemoryLogStore } from './memory-log-store.js';
export { FileLogStore, type FileLogStoreOptions } from './file-log-store.js';
export { SYSTEM_LINE_PREFIX } from './step-log.js';
export { ProcessStepExecutor, type ProcessStepExecutorOptions } from './process-executor.js';
export { BubblewrapStepExecutor, SANDBOX_DATA_DIR, SANDBOX_PROJECT_DIR, type BubblewrapStepExecutorOptions } from './bwrap-executor.js';
export { FunctionStepExecutor, type FunctionStepExecutorOptions, type FunctionStepContext, type StepFunction } from './function-executor.js';
export { DEFAULT_INTERPRETERS, DEFAULT_KERNELS, FILE_PLACEHOLDER, notebookKernel } from './command.js';
export {
  HOST_ENV_PASSTHROUGH,
  RESERVED_ENV_PREFIXES,
  StepEnvVar,
  isReservedEnvName,
  validateJobEnv,
  buildRunEnvironment,
  stepEnvironment,
  type RunEnvironmentInput,
} from './step-environment.js';
export {
  killStepProcesses,
  findStepProcesses,
  terminateStepProcesses,
  canScanProcesses,
  type KillStepProcessesOptions,
  type StepProcessTarget,
  type TerminateReport,
} from './processes.js';
export { runStepProcess, type ProcessExit } from './spawn.js';
export { runPipelineDocument, runPipelineFilePath, CODE_PIPELINE_DIR } from './pipeline-file.js';
export type { RunSource } from './workspace.js';
