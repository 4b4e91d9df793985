/**
 * Diagnostics of the library itself (not step output). Silent by default; pass
 * `console` or an adapter for pino/winston. Each call gets a message and one object
 * of structured fields.
 */
export interface Logger {
  /** Detail for troubleshooting (each claim, timer and process). */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Something worth knowing happened (a run recovered, a migration ran). */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something went wrong and was handled (a listener threw, a retry follows). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Background work failed (it is also emitted as `scheduler:error`). */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
