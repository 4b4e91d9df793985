import { OptionsError } from '../errors.js';
import { CompiledSchedule } from './compiled.js';
import { planSchedule } from './plan.js';
import type { DuePlan, NormalizedSchedule, Occurrence, PlanInput } from './types.js';
import type { ZoneCache } from './zone.js';

/** A schedule to query: compiled (fast: keep one per job) or normalised (compiled per call). */
export type ScheduleLike = CompiledSchedule | NormalizedSchedule;

/** Options shared by the query functions. */
export interface QueryOptions {
  /**
   * Where zone offsets are cached when a `NormalizedSchedule` is given (a compiled
   * schedule has its own). Pass the scheduler's one: a fresh cache asks `Intl` again.
   * @default a new ZoneCache per call
   */
  zones?: ZoneCache;
}

/**
 * Compiles a normalised schedule for repeated queries.
 * @param zones share one per scheduler. @default a new ZoneCache
 */
export function compileSchedule(schedule: NormalizedSchedule, zones?: ZoneCache): CompiledSchedule {
  return new CompiledSchedule(schedule, zones);
}

function compiled(schedule: ScheduleLike, options: QueryOptions | undefined): CompiledSchedule {
  if (!(schedule instanceof CompiledSchedule) && (schedule === null || typeof schedule !== 'object' || typeof (schedule as { type?: unknown }).type !== 'string')) {
    throw new OptionsError('OPTIONS_INVALID', 'A schedule query needs a normalized or compiled schedule', {
      path: 'schedule',
      value: schedule,
      hint: 'Pass normalizeSchedule(spec, { now }) or compileSchedule(...)',
    });
  }
  return schedule instanceof CompiledSchedule ? schedule : new CompiledSchedule(schedule, options?.zones);
}

function ms(t: number | Date, path: string): number {
  const value = t instanceof Date ? t.getTime() : t;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new OptionsError('SCHEDULE_QUERY_INVALID_TIME', 'A reference time must be a finite epoch ms or a valid Date', { path, value: t });
  }
  return value;
}

/**
 * The first occurrence strictly after `after` that runs (with `includeSkipped`, a `dst`
 * skip too); `null` when none will come (past `endAt`, a one-off's `at` passed, or none
 * within 100 years). For a one-off: its `at` when `after < at`.
 * @param schedule a normalized schedule (`normalizeSchedule`) or a compiled one
 * @param after the reference instant (epoch ms or `Date`)
 * @param options a zone cache to share, and whether DST skips count
 * @throws OptionsError (from `pipeline-jobs`) `OPTIONS_INVALID` for a schedule that is not normalized,
 *   `SCHEDULE_QUERY_INVALID_TIME` for an `after` that is not a finite time
 */
export function nextOccurrence(
  schedule: ScheduleLike,
  after: number | Date,
  options?: QueryOptions & {
    /** Also answer `dst` skips (`gap: 'skip'`). @default false */
    includeSkipped?: boolean;
  },
): Occurrence | null {
  return compiled(schedule, options).next(ms(after, 'after'), { includeSkipped: options?.includeSkipped ?? false });
}

/** Options of {@link preview} (and of the scheduler's own listing of occurrences between two instants). */
export interface ListOptions extends QueryOptions {
  /** Include `dst` skips, marked `skipped: 'dst'`. @default true */
  includeSkipped?: boolean;
}

/**
 * Occurrences with `from <= time < to` (half-open), in increasing time, at most
 * `options.limit` of them (default 10,000).
 */
export function occurrencesBetween(
  schedule: ScheduleLike,
  from: number | Date,
  to: number | Date,
  options?: ListOptions & { limit?: number },
): Occurrence[] {
  const limit = options?.limit ?? 10_000;
  return compiled(schedule, options).list(Math.ceil(ms(from, 'from')) - 1, Math.ceil(ms(to, 'to')) - 1, limit, options?.includeSkipped ?? true);
}

/** How many occurrences that run have `from <= time < to`, computed without listing them. */
export function countOccurrences(schedule: ScheduleLike, from: number | Date, to: number | Date, options?: QueryOptions): number {
  return compiled(schedule, options).count(Math.ceil(ms(from, 'from')) - 1, Math.ceil(ms(to, 'to')) - 1);
}

/**
 * The next `n` occurrences strictly after `from` (a job's "preview"), with DST labels;
 * skipped ones included unless `options.includeSkipped` is false.
 * @param schedule a normalized schedule (`normalizeSchedule`) or a compiled one
 * @param n how many occurrences at most
 * @param from the reference instant (epoch ms or `Date`)
 * @throws OptionsError (from `pipeline-jobs`) `OPTIONS_INVALID` for a schedule that is not normalized,
 *   `SCHEDULE_QUERY_INVALID_TIME` for a `from` that is not a finite time
 */
export function preview(schedule: ScheduleLike, n: number, from: number | Date, options?: ListOptions): Occurrence[] {
  return compiled(schedule, options).list(ms(from, 'from'), Infinity, n, options?.includeSkipped ?? true);
}

/**
 * What the timer loop does with the occurrences in `(cursor, now]`: runs and skips (see
 * `planSchedule` for the rules), the new cursor, and when to wake up next.
 */
export function planDue(schedule: ScheduleLike, input: PlanInput, options?: QueryOptions): DuePlan {
  return planSchedule(compiled(schedule, options), input);
}
