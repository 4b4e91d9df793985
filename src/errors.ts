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

/** A pipeline file or a pipeline defined in code is invalid. */
export class PipelineError extends PipelineJobsError {}
/** A parameter spec, a parameters file or a selection is invalid. */
export class ParameterError extends PipelineJobsError {}
/** A schedule (cron, time zone, start/end, policy) is invalid. */
export class ScheduleError extends PipelineJobsError {}
/** A snapshot could not be taken, found or used. */
export class SnapshotError extends PipelineJobsError {}
/** A run or step could not be executed as asked (bad options, missing file, unknown type). */
export class ExecutionError extends PipelineJobsError {}
/** An action is not allowed in the current state (see the lifecycle table). */
export class JobStateError extends PipelineJobsError {}
/** A job, run, batch or snapshot id is unknown. */
export class NotFoundError extends PipelineJobsError {}
/** An options object given to a constructor or method is invalid. */
export class OptionsError extends PipelineJobsError {}
/** The storage backend failed or holds data this version cannot use. */
export class StorageError extends PipelineJobsError {}

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
