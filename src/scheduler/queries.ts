import { OptionsError } from '../errors.js';
import { JobStatus, RunState } from '../status.js';
import type { JobFilter, RunFilter, Storage } from '../storage/port.js';
import type { StepStateRecord } from '../storage/records.js';
import type { JobQuery, OneOrMany, PageOptions, PreviewJobOptions, RunQuery } from './types.js';

/** The most occurrences one `previewJob` lists. */
const MAX_PREVIEW = 10_000;
const RUN_STATUSES: readonly string[] = Object.values(RunState);
const JOB_STATUSES: readonly string[] = Object.values(JobStatus);

/** The storage filter of `listJobs`' query, checked: statuses as a list. */
export function jobFilterOf(query: JobQuery | undefined): JobFilter {
  const q = objectOf(query, 'filter');
  const out: { -readonly [K in keyof JobFilter]: JobFilter[K] } = { ...pageOf(q) };
  if (q.projectId !== undefined) out.projectId = nonEmpty(q.projectId, 'filter.projectId');
  if (q.key !== undefined) out.key = nonEmpty(q.key, 'filter.key');
  if (q.status !== undefined) out.status = statusesOf(q.status, JOB_STATUSES, 'filter.status') as JobFilter['status'];
  return out;
}

/** The storage filter of `listRuns`' query, checked: statuses as a list. */
export function runFilterOf(query: RunQuery | undefined): RunFilter {
  const q = objectOf(query, 'filter');
  const out: { -readonly [K in keyof RunFilter]: RunFilter[K] } = { ...pageOf(q) };
  if (q.status !== undefined) out.status = statusesOf(q.status, RUN_STATUSES, 'filter.status') as RunFilter['status'];
  if (q.batchIndex !== undefined) {
    if (!Number.isSafeInteger(q.batchIndex) || q.batchIndex < 0) throw new OptionsError('OPTIONS_INVALID', 'Expected `batchIndex` to be an integer >= 0', { path: 'filter.batchIndex', value: q.batchIndex });
    out.batchIndex = q.batchIndex;
  }
  return out;
}

/** `limit` and `cursor` of a listing, checked. */
export function pageOf(q: PageOptions | undefined, at = 'filter'): PageOptions {
  const page = objectOf(q, at);
  const out: PageOptions = {};
  if (page.limit !== undefined) {
    if (!Number.isSafeInteger(page.limit) || page.limit <= 0) throw new OptionsError('OPTIONS_INVALID', 'Expected `limit` to be an integer > 0', { path: `${at}.limit`, value: page.limit });
    out.limit = page.limit;
  }
  if (page.cursor !== undefined && page.cursor !== null) {
    if (typeof page.cursor !== 'string') throw new OptionsError('OPTIONS_INVALID', 'Expected `cursor` to be the `nextCursor` of a previous page', { path: `${at}.cursor`, value: page.cursor });
    out.cursor = page.cursor;
  }
  return out;
}

/** Step states of a page of runs, in one read when the store can (`getStepStatesOf`). */
export async function stepStatesOf(storage: Storage, runIds: readonly string[]): Promise<Map<string, StepStateRecord[]>> {
  if (runIds.length === 0) return new Map();
  if (storage.getStepStatesOf) return storage.getStepStatesOf(runIds);
  const all = await Promise.all(runIds.map(async (id) => [id, await storage.getStepStates(id)] as const));
  return new Map(all);
}

function statusesOf(value: OneOrMany<string>, allowed: readonly string[], at: string): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as readonly string[])] : undefined;
  if (!list) throw new OptionsError('OPTIONS_INVALID', 'Expected a status or a list of statuses', { path: at, value, hint: `One of ${allowed.join(', ')}` });
  list.forEach((s, i) => {
    if (!allowed.includes(s)) throw new OptionsError('OPTIONS_INVALID', 'Unknown status', { path: typeof value === 'string' ? at : `${at}[${i}]`, value: s, hint: `One of ${allowed.join(', ')}` });
  });
  return list;
}

function objectOf<T extends object>(value: T | undefined, at: string): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new OptionsError('OPTIONS_INVALID', 'Expected an options object', { path: at, value });
  return value;
}

function nonEmpty(value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') throw new OptionsError('OPTIONS_INVALID', 'Expected a non-empty string', { path: at, value });
  return value;
}

/** `previewJob`'s arguments, checked: `from` as epoch ms. */
export function previewOptionsOf(n: unknown, options: PreviewJobOptions | undefined): { from: number | undefined; includeSkipped: boolean } {
  if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > MAX_PREVIEW) {
    throw new OptionsError('OPTIONS_INVALID', `Expected \`n\` to be an integer from 0 to ${MAX_PREVIEW}`, { path: 'n', value: n, hint: 'Page through a longer range with options.from' });
  }
  const o = objectOf(options, 'options');
  let from: number | undefined;
  if (o.from !== undefined) {
    from = o.from instanceof Date ? o.from.getTime() : o.from;
    if (typeof from !== 'number' || !Number.isFinite(from)) throw new OptionsError('OPTIONS_INVALID', 'Expected `from` to be an instant (epoch ms or a Date)', { path: 'options.from', value: o.from });
  }
  if (o.includeSkipped !== undefined && typeof o.includeSkipped !== 'boolean') throw new OptionsError('OPTIONS_INVALID', 'Expected `includeSkipped` to be a boolean', { path: 'options.includeSkipped', value: o.includeSkipped });
  return { from, includeSkipped: o.includeSkipped ?? true };
}
