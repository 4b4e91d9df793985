import type {
  ExecutionErrorCode,
  JobErrorCode,
  NotFoundErrorCode,
  OptionsErrorCode,
  PipelineErrorCode,
  ScheduleErrorCode,
  StorageErrorCode,
} from './error-codes.js';
import type { ParameterErrorCode } from './parameters/codes.js';
import type { StepErrorCode } from './run/result.js';
import type { SnapshotErrorCode } from './snapshot/errors.js';

/**
 * Every error the library throws on bad input or a forbidden action is a
 * {@link PipelineJobsError}: a stable `code` to branch on, the offending `path`
 * (`steps["a1"].incoming_connections[0]`), the offending `value`, and a `hint` on how
 * to fix it. Subclasses group the codes by family so `instanceof` works too.
 */
export class PipelineJobsError extends Error {
  /** Stable, machine-readable code, e.g. `PIPELINE_CYCLE`. Never changes between versions. */
  readonly code: string;
  /** Where in the input the problem is (`$` for the whole input); empty when not about input. */
  readonly path: string;
  /** The offending value, when there is one. */
  readonly value: unknown;
  /** How to fix it. */
  readonly hint: string | undefined;

  /**
   * Builds the message from its parts: `message (at path), got value. hint`.
   * @param code a stable code of the error's family (the family's `const` map)
   * @param message what went wrong, in a sentence
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(
    code: string,
    message: string,
    details: { path?: string; value?: unknown; hint?: string; cause?: unknown } = {},
  ) {
    const full = [
      message,
      details.path ? ` (at ${details.path})` : '',
      'value' in details ? `, got ${describeValue(details.value)}` : '',
      details.hint ? `. ${details.hint}` : '',
    ].join('');
    super(full, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = details.path ?? '';
    this.value = details.value;
    this.hint = details.hint;
  }

  /** A plain object for logs and storage: `{ name, code, message, path, hint }`. */
  toJSON(): {
    /** The class name (`PipelineError`). */
    name: string;
    /** See {@link PipelineJobsError.code}. */
    code: string;
    /** The full message. */
    message: string;
    /** See {@link PipelineJobsError.path}. */
    path: string;
    /** See {@link PipelineJobsError.hint}; absent when there is none. */
    hint?: string;
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      path: this.path,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}

/**
 * What every subclass's constructor takes after its code and message: where (`path`),
 * what (`value`), how to fix it (`hint`), and the underlying `cause`.
 * @inline
 */
type Details = { path?: string; value?: unknown; hint?: string; cause?: unknown };

/**
 * The snapshot codes a {@link NotFoundError} carries (an unknown snapshot or file).
 * @inline
 */
type SnapshotNotFoundCode = typeof import('./snapshot/errors.js').SnapshotErrorCode.NOT_FOUND | typeof import('./snapshot/errors.js').SnapshotErrorCode.FILE_NOT_FOUND;
/**
 * The snapshot code an {@link OptionsError} carries (a bad snapshot option).
 * @inline
 */
type SnapshotOptionCode = typeof import('./snapshot/errors.js').SnapshotErrorCode.INVALID_OPTION;

/** A pipeline file or a pipeline defined in code is invalid (codes: `PipelineErrorCode`). */
export class PipelineError extends PipelineJobsError {
  declare readonly code: PipelineErrorCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link PipelineErrorCode}
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: PipelineErrorCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** A parameter spec, a parameters file or a selection is invalid (codes: `ParameterErrorCode`). */
export class ParameterError extends PipelineJobsError {
  declare readonly code: ParameterErrorCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link ParameterErrorCode}
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: ParameterErrorCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** A schedule (cron, time zone, start/end, policy) is invalid (codes: `ScheduleErrorCode`). */
export class ScheduleError extends PipelineJobsError {
  declare readonly code: ScheduleErrorCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link ScheduleErrorCode}
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: ScheduleErrorCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** A snapshot could not be taken or used (codes: `SnapshotErrorCode`, but for its not-found and option codes). */
export class SnapshotError extends PipelineJobsError {
  declare readonly code: Exclude<SnapshotErrorCode, SnapshotNotFoundCode | SnapshotOptionCode>;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link SnapshotErrorCode} (but `NOT_FOUND`, `FILE_NOT_FOUND`, `INVALID_OPTION`)
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: Exclude<SnapshotErrorCode, SnapshotNotFoundCode | SnapshotOptionCode>, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** A run or step could not be executed as asked (codes: `ExecutionErrorCode`, `StepErrorCode`). */
export class ExecutionError extends PipelineJobsError {
  declare readonly code: ExecutionErrorCode | StepErrorCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link ExecutionErrorCode} or StepErrorCode
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: ExecutionErrorCode | StepErrorCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** An action is not allowed in the current state, see the lifecycle table (codes: `JobErrorCode`). */
export class JobStateError extends PipelineJobsError {
  declare readonly code: JobErrorCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link JobErrorCode}
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: JobErrorCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** A job, run or snapshot id is unknown (codes: `NotFoundErrorCode`, `SnapshotErrorCode.NOT_FOUND`/`FILE_NOT_FOUND`). */
export class NotFoundError extends PipelineJobsError {
  declare readonly code: NotFoundErrorCode | SnapshotNotFoundCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link NotFoundErrorCode}, or SnapshotErrorCode `NOT_FOUND` / `FILE_NOT_FOUND`
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: NotFoundErrorCode | SnapshotNotFoundCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** An options object, job spec or argument is invalid (codes: `OptionsErrorCode`, `SnapshotErrorCode.INVALID_OPTION`). */
export class OptionsError extends PipelineJobsError {
  declare readonly code: OptionsErrorCode | SnapshotOptionCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link OptionsErrorCode}, or SnapshotErrorCode `INVALID_OPTION`
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: OptionsErrorCode | SnapshotOptionCode, message: string, details?: Details) {
    super(code, message, details);
  }
}
/** The storage backend failed or holds data this version cannot use (codes: `StorageErrorCode`). */
export class StorageError extends PipelineJobsError {
  declare readonly code: StorageErrorCode;
  /**
   * Builds the message from its parts, as {@link PipelineJobsError}'s constructor does.
   * @param code a code of {@link StorageErrorCode}
   * @param message what went wrong, in a sentence; `path`, `value` and `hint` are appended
   * @param details where (`path`), what (`value`), how to fix it (`hint`), and the `cause`
   */
  constructor(code: StorageErrorCode, message: string, details?: Details) {
    super(code, message, details);
  }
}

/** Renders a value for an error message: `` `-1` (number) ``, cut to 120 characters. */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    // Circular or BigInt values cannot be JSON-encoded; String() always works.
    text = String(value);
  }
  if (text.length > 120) text = `${text.slice(0, 117)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${text}\` (${type})`;
}

/** Formats a property access for an error path: `.name` or `["a-b"]`. */
export function pathKey(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Joins a base path and keys: `joinPath('steps', 'a1', 'x')` is `steps["a1"].x`. */
export function joinPath(base: string, ...keys: Array<string | number>): string {
  let out = base;
  for (const k of keys) {
    const part = pathKey(k);
    out = out === '' && part.startsWith('.') ? part.slice(1) : out + part;
  }
  return out;
}
