import { OptionsError } from '../errors.js';
import type { JobOptions } from './types.js';

const KNOWN = new Set([
  'maxRetainedRuns',
  'maxConcurrentRuns',
  'onInterrupted',
  'failurePolicy',
  'maxParallelism',
  'retries',
  'stepTimeoutMs',
  'runTimeoutMs',
  'outputs',
  'keepWorkingCopy',
]);

/** Checks a job's options; returns a JSON-safe copy. */
export function checkJobOptions(input: JobOptions): JobOptions {
  if (input === null || typeof input !== 'object') throw new OptionsError('JOB_OPTIONS_INVALID', 'Job options must be an object', { path: 'options', value: input });
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new OptionsError('JOB_OPTIONS_INVALID', `Unknown job option "${key}"`, { path: `options.${key}`, value: (input as Record<string, unknown>)[key], hint: `Known: ${[...KNOWN].join(', ')}` });
  }
  const count = (key: keyof JobOptions, allowNull = false): void => {
    const v = input[key];
    if (v === undefined || (allowNull && v === null)) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new OptionsError('JOB_OPTIONS_INVALID', `Expected \`${key}\` to be a whole number >= 0`, { path: `options.${key}`, value: v });
    }
  };
  count('maxRetainedRuns', true);
  count('maxConcurrentRuns');
  count('maxParallelism');
  count('retries');
  count('stepTimeoutMs');
  count('runTimeoutMs');
  const oneOf = (key: keyof JobOptions, values: string[]): void => {
    const v = input[key];
    if (v !== undefined && !values.includes(v as string)) {
      throw new OptionsError('JOB_OPTIONS_INVALID', `Unknown \`${key}\``, { path: `options.${key}`, value: v, hint: `Use one of: ${values.join(', ')}` });
    }
  };
  oneOf('onInterrupted', ['fail', 'rerun']);
  oneOf('failurePolicy', ['fail-fast', 'continue']);
  oneOf('keepWorkingCopy', ['never', 'always', 'on-failure']);
  if (input.outputs !== undefined && (!Array.isArray(input.outputs) || input.outputs.some((x) => typeof x !== 'string'))) {
    throw new OptionsError('JOB_OPTIONS_INVALID', 'Expected `outputs` to be a list of glob patterns', { path: 'options.outputs', value: input.outputs });
  }
  return structuredClone(input);
}
