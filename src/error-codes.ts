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
  /** The pipeline file is not valid JSON. */
  MALFORMED_JSON: 'PIPELINE_MALFORMED_JSON',
  /** A field of the pipeline or of a step is missing or has the wrong type (`path` names it). */
  INVALID_FIELD: 'PIPELINE_INVALID_FIELD',
  /** The pipeline has no steps. */
  EMPTY: 'PIPELINE_EMPTY',
  /** Two steps have the same uuid. */
  DUPLICATE_STEP: 'PIPELINE_DUPLICATE_STEP',
  /** A step lists the same incoming step twice. */
  DUPLICATE_CONNECTION: 'PIPELINE_DUPLICATE_CONNECTION',
  /** A step depends on a step uuid the pipeline does not have. */
  UNKNOWN_CONNECTION: 'PIPELINE_UNKNOWN_CONNECTION',
  /** The steps' connections form a cycle (the message names it). */
  CYCLE: 'PIPELINE_CYCLE',
  /** A step's key in the pipeline file differs from the `uuid` inside it. */
  UUID_MISMATCH: 'PIPELINE_UUID_MISMATCH',
  /** A step's `file_path` is absolute; it must be relative to the pipeline file. */
  ABSOLUTE_FILE_PATH: 'PIPELINE_ABSOLUTE_FILE_PATH',
  /** A step's `file_path` leaves the project directory. */
  FILE_OUTSIDE_PROJECT: 'PIPELINE_FILE_OUTSIDE_PROJECT',
  /** The pipeline file is not inside the project directory. */
  OUTSIDE_PROJECT: 'PIPELINE_OUTSIDE_PROJECT',
} as const;
export type PipelineErrorCode = (typeof PipelineErrorCode)[keyof typeof PipelineErrorCode];

/** {@link ScheduleError}: a schedule (cron, time zone, start/end, policy) is invalid. */
export const ScheduleErrorCode = {
  /** The schedule is not an object. */
  NOT_OBJECT: 'SCHEDULE_NOT_OBJECT',
  /** The schedule's `type` is not `now`, `at` or `cron`. */
  UNKNOWN_TYPE: 'SCHEDULE_UNKNOWN_TYPE',
  /** The schedule has a field its type does not know (or one its type does not allow). */
  UNKNOWN_OPTION: 'SCHEDULE_UNKNOWN_OPTION',
  /** A missed-occurrence or overlap policy name (or options object) is unknown. */
  UNKNOWN_POLICY: 'SCHEDULE_UNKNOWN_POLICY',
  /** The time zone is empty or not an IANA zone this Node knows. */
  UNKNOWN_TIMEZONE: 'SCHEDULE_UNKNOWN_TIMEZONE',
  /** An instant (`at`, `start`, `end`, `now`) is not a valid date. */
  INVALID_DATE: 'SCHEDULE_INVALID_DATE',
  /** A number (lateness, catch-up window, count) is not an integer in range. */
  INVALID_NUMBER: 'SCHEDULE_INVALID_NUMBER',
  /** The schedule's `end` is before its `start`. */
  END_BEFORE_START: 'SCHEDULE_END_BEFORE_START',
  /** The schedule has no occurrence at all (`0 0 31 2 *`, every time in a DST gap, none before `end`). */
  NEVER_FIRES: 'SCHEDULE_NEVER_FIRES',
  /** The cron expression is not a string, too long, or not valid cron syntax. */
  CRON_SYNTAX: 'SCHEDULE_CRON_SYNTAX',
  /** The cron expression has neither 5 nor 6 fields. */
  CRON_FIELD_COUNT: 'SCHEDULE_CRON_FIELD_COUNT',
  /** A cron field's value, range or step is out of bounds. */
  CRON_RANGE: 'SCHEDULE_CRON_RANGE',
} as const;
export type ScheduleErrorCode = (typeof ScheduleErrorCode)[keyof typeof ScheduleErrorCode];

/** {@link JobStateError}: the action is not allowed in the job's or run's current state. */
export const JobErrorCode = {
  /**
   * The action (pause, resume, cancel, trigger, update, ...) is not allowed in the job's status.
   */
  ACTION_NOT_ALLOWED: 'JOB_ACTION_NOT_ALLOWED',
  /** The field cannot change in the job's status (e.g. a started job's schedule type). */
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
  /** No job has this id (or it was deleted while waited for). */
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  /** No run has this id (or it was deleted while waited for). */
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
  /** The job spec is not an object, or a field of it (name, project, pipeline, ...) is invalid. */
  JOB_SPEC_INVALID: 'JOB_SPEC_INVALID',
  /** The job's `options` are not an object or hold an unknown or invalid option. */
  JOB_OPTIONS_INVALID: 'JOB_OPTIONS_INVALID',
  /**
   * The job's `parameters` input is not one of the known forms (`auto`, `file`, `strategy`, ...).
   */
  JOB_BAD_PARAMETERS_INPUT: 'JOB_BAD_PARAMETERS_INPUT',
  /** The job's run selection is not one of the known forms. */
  JOB_BAD_SELECTION: 'JOB_BAD_SELECTION',
  /** The job's pipeline file is not in the project snapshot. */
  JOB_PIPELINE_NOT_FOUND: 'JOB_PIPELINE_NOT_FOUND',
  /** A step's file is outside the project. */
  JOB_STEP_FILE_OUTSIDE: 'JOB_STEP_FILE_OUTSIDE',
  /** A step's file is not in the snapshot. */
  JOB_STEP_FILE_NOT_FOUND: 'JOB_STEP_FILE_NOT_FOUND',
  /** The job's project directory does not exist. */
  JOB_PROJECT_NOT_FOUND: 'JOB_PROJECT_NOT_FOUND',
  /** A job defined in code has no project directory, but a step or the parameters name a file. */
  JOB_NO_PROJECT: 'JOB_NO_PROJECT',
  /** An environment definition is invalid (e.g. an interpreter without a command). */
  ENVIRONMENT_INVALID: 'ENVIRONMENT_INVALID',
  /** A step names an environment the resolver does not define. */
  ENVIRONMENT_UNKNOWN: 'ENVIRONMENT_UNKNOWN',
  /** An environment's interpreter command is not installed. */
  ENVIRONMENT_INTERPRETER_MISSING: 'ENVIRONMENT_INTERPRETER_MISSING',
  /** The occurrence planner was given an invalid input (`path` names it). */
  PLAN_INVALID_INPUT: 'PLAN_INVALID_INPUT',
  /** A schedule query's reference time is not a finite epoch ms or a valid `Date`. */
  SCHEDULE_QUERY_INVALID_TIME: 'SCHEDULE_QUERY_INVALID_TIME',
} as const;
export type OptionsErrorCode = (typeof OptionsErrorCode)[keyof typeof OptionsErrorCode];

/** {@link ExecutionError}: a run could not be executed as asked (besides the `StepErrorCode`s). */
export const ExecutionErrorCode = {
  /** The run is already executing in this process (or its files are in use by it). */
  ALREADY_RUNNING: 'RUN_ALREADY_RUNNING',
  /** The run request (or a run id) is invalid (`path` names the field). */
  INVALID_REQUEST: 'RUN_INVALID_REQUEST',
  /**
   * Step environment variables are not an object of strings, or a name is empty or holds `=` or NUL.
   */
  INVALID_ENV: 'RUN_INVALID_ENV',
  /** An environment variable name is reserved for the ones the library sets itself (see the hint). */
  RESERVED_ENV: 'RUN_RESERVED_ENV',
} as const;
export type ExecutionErrorCode = (typeof ExecutionErrorCode)[keyof typeof ExecutionErrorCode];

/** {@link StorageError}: the storage backend failed or holds data this version cannot use. */
export const StorageErrorCode = {
  /** The SQLite file stayed locked by another connection past the busy timeout. */
  BUSY: 'STORAGE_BUSY',
  /** The storage was closed; create a new one. */
  CLOSED: 'STORAGE_CLOSED',
  /** A write broke a uniqueness rule of the backend. */
  CONFLICT: 'STORAGE_CONFLICT',
  /** The database is damaged or holds a value this version cannot read. */
  CORRUPT: 'STORAGE_CORRUPT',
  /** A job or run with this id already exists. */
  DUPLICATE_ID: 'STORAGE_DUPLICATE_ID',
  /** The backend failed in a way no other code describes (`cause` holds its error). */
  FAILED: 'STORAGE_FAILED',
  /** A page cursor is not one returned by the same listing. */
  INVALID_CURSOR: 'STORAGE_INVALID_CURSOR',
  /** An input to a port method breaks the port's rules (`path` names the field). */
  INVALID_INPUT: 'STORAGE_INVALID_INPUT',
  /** A job or batch the write refers to does not exist. */
  NOT_FOUND: 'STORAGE_NOT_FOUND',
  /** A method was called before `await storage.init()`. */
  NOT_INITIALISED: 'STORAGE_NOT_INITIALISED',
  /** The database's schema version is newer than this version of pipeline-jobs knows. */
  SCHEMA_TOO_NEW: 'STORAGE_SCHEMA_TOO_NEW',
  /** The backend cannot be reached or opened for writing (transient: the scheduler retries). */
  UNAVAILABLE: 'STORAGE_UNAVAILABLE',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];
