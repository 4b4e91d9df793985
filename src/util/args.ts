import { OptionsError } from '../errors.js';

/**
 * Run-time checks of the arguments of public functions, for callers in plain JavaScript
 * (TypeScript callers are checked by the compiler). Each throws an `OptionsError`
 * (`OPTIONS_INVALID`, or `OPTIONS_MISSING` for `undefined`) naming the argument, the value
 * and what to pass, instead of a `TypeError` from deep inside.
 */

function fail(path: string, value: unknown, expected: string, where: string): never {
  const code = value === undefined ? 'OPTIONS_MISSING' : 'OPTIONS_INVALID';
  throw new OptionsError(code, `${where}: \`${path}\` must be ${expected}`, { path, value, hint: `Pass ${expected}` });
}

/** `value` is a plain object (not null, not an array). */
export function argObject(value: unknown, path: string, where: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, value, 'an object', where);
}

/** `value` is an object or `undefined` (an optional options argument). */
export function argOptionalObject(value: unknown, path: string, where: string): void {
  if (value !== undefined) argObject(value, path, where);
}

/** `value` is a function. */
export function argFunction(value: unknown, path: string, where: string, expected = 'a function'): void {
  if (typeof value !== 'function') fail(path, value, expected, where);
}

/** `value` is a string (non-empty unless `allowEmpty`). */
export function argString(value: unknown, path: string, where: string, allowEmpty = false): void {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) fail(path, value, allowEmpty ? 'a string' : 'a non-empty string', where);
}

/** `value` is an array. */
export function argArray(value: unknown, path: string, where: string, expected = 'an array'): void {
  if (!Array.isArray(value)) fail(path, value, expected, where);
}

/** `value` is a pipeline (from `definePipeline`, `parsePipeline` or `loadPipeline`). */
export function argPipeline(value: unknown, path: string, where: string): void {
  if (value === null || typeof value !== 'object' || !Array.isArray((value as { steps?: unknown }).steps)) {
    fail(path, value, 'a pipeline from definePipeline, parsePipeline or loadPipeline', where);
  }
}
