/**
 * The stable error codes of each family, as `const` maps (a value and a type of the same
 * name). Each code belongs to exactly one error class, chosen by what went wrong: bad
 * input is the input's family (or `OptionsError`), a forbidden action in the current
 * state is a `JobStateError`, an unknown id is a `NotFoundError`. Each class's constructor
 * takes only its own codes, so the compiler refuses a code thrown with the wrong class.
 * test/api/error-codes.test.ts checks every `new XError('CODE'` in src/ as well.
 *
 * The parameter, snapshot, step and run families keep their maps beside their code
 * (`ParameterErrorCode`, `SnapshotErrorCode`, `StepErrorCode`, `RunErrorCode`).
 */

/** {@link PipelineError}: a pipeline file or a pipeline defined in code is invalid. */
export const PipelineErrorCode = {
  MALFORMED_JSON: 'PIPELINE_MALFORMED_JSON',
  INVALID_FIELD: 'PIPELINE_INVALID_FIELD',
  EMPTY: 'PIPELINE_EMPTY',
  DUPLICATE_STEP: 'PIPELINE_DUPLICATE_STEP',
  DUPLICATE_CONNECTION: 'PIPELINE_DUPLICATE_CONNECTION',
  UNKNOWN_CONNECTION: 'PIPELINE_UNKNOWN_CONNECTION',
  CYCLE: 'PIPELINE_CYCLE',
  UUID_MISMATCH: 'PIPELINE_UUID_MISMATCH',
  ABSOLUTE_FILE_PATH: 'PIPELINE_ABSOLUTE_FILE_PATH',
  FILE_OUTSIDE_PROJECT: 'PIPELINE_FILE_OUTSIDE_PROJECT',
  OUTSIDE_PROJECT: 'PIPELINE_OUTSIDE_PROJECT',
} as const;
export type PipelineErrorCode = (typeof PipelineErrorCode)[keyof typeof PipelineErrorCode];

/** {@link ScheduleError}: a schedule (cron, time zone, start/end, policy) is invalid. */
export const ScheduleErrorCode = {
  NOT_OBJECT: 'SCHEDULE_NOT_OBJECT',
  UNKNOWN_TYPE: 'SCHEDULE_UNKNOWN_TYPE',
  UNKNOWN_OPTION: 'SCHEDULE_UNKNOWN_OPTION',
  UNKNOWN_POLICY: 'SCHEDULE_UNKNOWN_POLICY',
  UNKNOWN_TIMEZONE: 'SCHEDULE_UNKNOWN_TIMEZONE',
  INVALID_DATE: 'SCHEDULE_INVALID_DATE',
  INVALID_NUMBER: 'SCHEDULE_INVALID_NUMBER',
  END_BEFORE_START: 'SCHEDULE_END_BEFORE_START',
  NEVER_FIRES: 'SCHEDULE_NEVER_FIRES',
  CRON_SYNTAX: 'SCHEDULE_CRON_SYNTAX',
  CRON_FIELD_COUNT: 'SCHEDULE_CRON_FIELD_COUNT',
  CRON_RANGE: 'SCHEDULE_CRON_RANGE',
} as const;
export type ScheduleErrorCode = (typeof ScheduleErrorCode)[keyof typeof ScheduleErrorCode];

/** {@link JobStateError}: the action is not allowed in the job's or run's current state. */
export const JobErrorCode = {
  ACTION_NOT_ALLOWED: 'JOB_ACTION_NOT_ALLOWED',
  FIELD_NOT_UPDATABLE: 'JOB_FIELD_NOT_UPDATABLE',
  /** Cancelling a run that already ended. */
  RUN_ALREADY_FINISHED: 'RUN_ALREADY_FINISHED',
  /** Deleting a run that has not ended. */
  RUN_NOT_FINISHED: 'RUN_NOT_FINISHED',
  /** Starting a scheduler that was stopped. */
  SCHEDULER_STOPPED: 'SCHEDULER_STOPPED',
  /** Waiting on a scheduler that was never started. */
  SCHEDULER_NOT_STARTED: 'SCHEDULER_NOT_STARTED',
  /** Deleting a job whose runs are still stopping. */
  JOB_RUNS_STOPPING: 'JOB_RUNS_STOPPING',
  /** `createJob` with a key another job holds, from another spec. */
  JOB_KEY_CONFLICT: 'JOB_KEY_CONFLICT',
} as const;
export type JobErrorCode = (typeof JobErrorCode)[keyof typeof JobErrorCode];

/** {@link NotFoundError}: an id is unknown (snapshot ids: `SnapshotErrorCode.NOT_FOUND`). */
export const NotFoundErrorCode = {
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  RUN_NOT_FOUND: 'RUN_NOT_FOUND',
  /** A step kept no executed notebook (the dashboard's notebook view). */
  NOTEBOOK_NOT_FOUND: 'NOTEBOOK_NOT_FOUND',
} as const;
export type NotFoundErrorCode = (typeof NotFoundErrorCode)[keyof typeof NotFoundErrorCode];

/** {@link OptionsError}: an options object, a job spec or an argument is invalid. */
export const OptionsErrorCode = {
  /** An argument or option has the wrong type or value (`path` names it). */
  INVALID: 'OPTIONS_INVALID',
  /** A required argument or option is missing. */
  MISSING: 'OPTIONS_MISSING',
  JOB_SPEC_INVALID: 'JOB_SPEC_INVALID',
  JOB_OPTIONS_INVALID: 'JOB_OPTIONS_INVALID',
  JOB_BAD_PARAMETERS_INPUT: 'JOB_BAD_PARAMETERS_INPUT',
  JOB_BAD_SELECTION: 'JOB_BAD_SELECTION',
  JOB_PIPELINE_NOT_FOUND: 'JOB_PIPELINE_NOT_FOUND',
  /** A step's file is outside the project. */
  JOB_STEP_FILE_OUTSIDE: 'JOB_STEP_FILE_OUTSIDE',
  /** A step's file is not in the snapshot. */
  JOB_STEP_FILE_NOT_FOUND: 'JOB_STEP_FILE_NOT_FOUND',
  JOB_PROJECT_NOT_FOUND: 'JOB_PROJECT_NOT_FOUND',
  /** A job defined in code has no project directory, but a step or the parameters name a file. */
  JOB_NO_PROJECT: 'JOB_NO_PROJECT',
  ENVIRONMENT_INVALID: 'ENVIRONMENT_INVALID',
  ENVIRONMENT_UNKNOWN: 'ENVIRONMENT_UNKNOWN',
  ENVIRONMENT_INTERPRETER_MISSING: 'ENVIRONMENT_INTERPRETER_MISSING',
  PLAN_INVALID_INPUT: 'PLAN_INVALID_INPUT',
  SCHEDULE_QUERY_INVALID_TIME: 'SCHEDULE_QUERY_INVALID_TIME',
} as const;
export type OptionsErrorCode = (typeof OptionsErrorCode)[keyof typeof OptionsErrorCode];

/** {@link ExecutionError}: a run could not be executed as asked (besides the `StepErrorCode`s). */
export const ExecutionErrorCode = {
  ALREADY_RUNNING: 'RUN_ALREADY_RUNNING',
  INVALID_REQUEST: 'RUN_INVALID_REQUEST',
  INVALID_ENV: 'RUN_INVALID_ENV',
  RESERVED_ENV: 'RUN_RESERVED_ENV',
} as const;
export type ExecutionErrorCode = (typeof ExecutionErrorCode)[keyof typeof ExecutionErrorCode];

/** {@link StorageError}: the storage backend failed or holds data this version cannot use. */
export const StorageErrorCode = {
  BUSY: 'STORAGE_BUSY',
  CLOSED: 'STORAGE_CLOSED',
  CONFLICT: 'STORAGE_CONFLICT',
  CORRUPT: 'STORAGE_CORRUPT',
  DUPLICATE_ID: 'STORAGE_DUPLICATE_ID',
  FAILED: 'STORAGE_FAILED',
  INVALID_CURSOR: 'STORAGE_INVALID_CURSOR',
  INVALID_INPUT: 'STORAGE_INVALID_INPUT',
  NOT_FOUND: 'STORAGE_NOT_FOUND',
  NOT_INITIALISED: 'STORAGE_NOT_INITIALISED',
  SCHEMA_TOO_NEW: 'STORAGE_SCHEMA_TOO_NEW',
  UNAVAILABLE: 'STORAGE_UNAVAILABLE',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];
