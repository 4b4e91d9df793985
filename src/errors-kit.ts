/**
 * `pipeline-jobs/errors`: every error class with its family's code map, for code that
 * branches on codes by name (`err.code === OptionsErrorCode.JOB_SPEC_INVALID`). The error
 * classes are in the root too; codes are plain strings, so comparing with a literal
 * (`err.code === 'JOB_SPEC_INVALID'`) needs nothing from here. Each code belongs to
 * exactly one class, chosen by what went wrong: bad input is an `OptionsError`, a bad
 * state a `JobStateError`, an unknown id a `NotFoundError`.
 * @packageDocumentation
 * @module pipeline-jobs/errors
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
