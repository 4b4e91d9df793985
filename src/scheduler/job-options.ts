import { OptionsError } from '../errors.js';
import { BASE_SETTINGS, type RunOverrides, resolveRunSettings } from '../run/options.js';
import type { JobOptions } from './types.js';

const KNOWN = new Set([
  'maxRetainedRuns',
  'keepLogs',
  'ledgerRetention',
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
  const oneOf = (key: keyof JobOptions, values: string[]): void => {
    const v = input[key];
    if (v !== undefined && !values.includes(v as string)) {
      throw new OptionsError('JOB_OPTIONS_INVALID', `Unknown \`${key}\``, { path: `options.${key}`, value: v, hint: `Use one of: ${values.join(', ')}` });
    }
  };
  oneOf('onInterrupted', ['fail', 'rerun']);
  if (input.keepLogs !== undefined && typeof input.keepLogs !== 'boolean') {
    throw new OptionsError('JOB_OPTIONS_INVALID', 'Expected `keepLogs` to be true or false', { path: 'options.keepLogs', value: input.keepLogs });
  }
  checkLedgerRetentionOption(input.ledgerRetention);
  // What a run does with them is checked by the run module's own validator, the one
  // every run applies: refused here, at creation or update, instead of failing each run.
  resolveRunSettings(runOverridesOf(input), BASE_SETTINGS, 'options');
  return structuredClone(input);
}

/** The executor overrides of a job's options (what `RunExecutor` checks and applies per run). */
export function runOverridesOf(o: JobOptions): RunOverrides {
  return {
    ...(o.failurePolicy === undefined ? {} : { failurePolicy: o.failurePolicy }),
    ...(o.maxParallelism === undefined ? {} : { maxParallelism: o.maxParallelism }),
    ...(o.retries === undefined ? {} : { retries: o.retries }),
    ...(o.stepTimeoutMs === undefined ? {} : { stepTimeoutMs: o.stepTimeoutMs }),
    ...(o.runTimeoutMs === undefined ? {} : { runTimeoutMs: o.runTimeoutMs }),
    ...(o.outputs === undefined ? {} : { outputs: o.outputs }),
    ...(o.keepWorkingCopy === undefined ? {} : { keepWorkingCopy: o.keepWorkingCopy }),
  };
}


/** Checks `options.ledgerRetention` (`null` or an object of known, valid limits). */
function checkLedgerRetentionOption(r: JobOptions['ledgerRetention']): void {
  if (r === undefined || r === null) return;
  const path = 'options.ledgerRetention';
  if (typeof r !== 'object' || Array.isArray(r)) throw new OptionsError('JOB_OPTIONS_INVALID', 'Expected `ledgerRetention` to be an object or null', { path, value: r, hint: 'e.g. { maxRecords: 1000, maxAgeMs: 7 * 86_400_000 }' });
  for (const key of Object.keys(r)) {
    if (key !== 'maxRecords' && key !== 'maxAgeMs') throw new OptionsError('JOB_OPTIONS_INVALID', `Unknown ledgerRetention option "${key}"`, { path: `${path}.${key}`, value: (r as Record<string, unknown>)[key], hint: 'Known: maxRecords, maxAgeMs' });
  }
  if (r.maxRecords !== undefined && (typeof r.maxRecords !== 'number' || !Number.isSafeInteger(r.maxRecords) || r.maxRecords < 1)) {
    throw new OptionsError('JOB_OPTIONS_INVALID', 'Expected `ledgerRetention.maxRecords` to be a whole number >= 1', { path: `${path}.maxRecords`, value: r.maxRecords, hint: 'The newest record is always kept' });
  }
  if (r.maxAgeMs !== undefined && (typeof r.maxAgeMs !== 'number' || !Number.isFinite(r.maxAgeMs) || r.maxAgeMs < 0)) {
    throw new OptionsError('JOB_OPTIONS_INVALID', 'Expected `ledgerRetention.maxAgeMs` to be a number >= 0', { path: `${path}.maxAgeMs`, value: r.maxAgeMs });
  }
}
