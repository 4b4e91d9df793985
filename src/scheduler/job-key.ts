import { createHash } from 'node:crypto';
import { JobStateError, OptionsError } from '../errors.js';
import type { JobRecord } from '../storage/records.js';
import type { JobSpec } from './types.js';

/** The longest key `createJob` takes. */
export const MAX_JOB_KEY_LENGTH = 200;

/** A spec's idempotency key with the fingerprint of the rest of the spec. */
export interface JobKey {
  readonly key: string;
  readonly fingerprint: string;
}

/**
 * The spec's key and fingerprint, or `null` without a key. The fingerprint is SHA-256 of
 * the spec as given, without `key`, in canonical JSON: object keys sorted, absent
 * (`undefined`) fields left out, dates as ISO 8601. So two specs are "the same" when they
 * say the same thing, however their objects were built; a project directory is compared
 * as the path given (its files are not read).
 */
export function jobKeyOf(spec: JobSpec): JobKey | null {
  const key = (spec as { key?: unknown }).key;
  if (key === undefined) return null;
  if (typeof key !== 'string' || key === '' || key.length > MAX_JOB_KEY_LENGTH) {
    throw new OptionsError('JOB_SPEC_INVALID', `A job key must be a non-empty string of at most ${MAX_JOB_KEY_LENGTH} characters`, {
      path: 'key',
      value: key,
      hint: 'Use an id the caller derives from the request it retries (a request id, a hash of its input)',
    });
  }
  const { key: _omit, ...rest } = spec;
  return { key, fingerprint: createHash('sha256').update(canonicalJson(rest)).digest('hex') };
}

/**
 * The job a key already names, when its spec matches; a typed error when it does not
 * (another job has the key) or when the job predates keys' fingerprints.
 */
export function sameJobOrThrow(existing: JobRecord, key: JobKey): JobRecord {
  if (existing.specFingerprint === key.fingerprint) return existing;
  throw new JobStateError('JOB_KEY_CONFLICT', `Job "${existing.id}" was created with the key "${key.key}" from another spec`, {
    path: 'key',
    value: key.key,
    hint: 'A key names one job: retry with the spec of the first create, use a new key for a new job, or delete that job first',
  });
}

/** JSON with object keys sorted at every level; `undefined` left out; dates as ISO strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}
