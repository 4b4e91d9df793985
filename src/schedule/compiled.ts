import { ScheduleError } from '../errors.js';
import { DAY, formatWall } from './civil.js';
import { CronMatcher } from './cron-match.js';
import { parseCron } from './cron-parse.js';
import { CronTimes, type RawOccurrence } from './cron-times.js';
import type { NormalizedSchedule, Occurrence } from './types.js';
import { UnknownZoneError, ZoneCache, type ZoneRules } from './zone.js';

/** How far ahead a search for the next occurrence looks before answering "none". */
export const SEARCH_HORIZON_MS = 100 * 366 * DAY;

/**
 * A normalised schedule made ready for queries: the cron parsed once, the zone's
 * offsets cached in the given {@link ZoneCache}. Immutable; keep one per job (building
 * one costs a parse, microseconds). All queries are pure: they take the reference time.
 *
 * Bounds: occurrences lie in `[startAt, endAt]` (both inclusive).
 */
export class CompiledSchedule {
  /** The normalised schedule it answers for. */
  readonly schedule: NormalizedSchedule;
  readonly #cron: CronTimes | null;
  readonly #low: number;
  readonly #high: number;

  /**
   * Parses the cron expression once.
   * @param zones share one per scheduler; a new one is made when absent.
   */
  constructor(schedule: NormalizedSchedule, zones: ZoneCache = new ZoneCache()) {
    this.schedule = schedule;
    if (schedule.type === 'cron') {
      const matcher = new CronMatcher(parseCron(schedule.cron));
      this.#cron = new CronTimes(matcher, zoneRules(zones, schedule.timezone), schedule.gap, schedule.repeat);
      this.#low = schedule.startAt ?? -Infinity;
      this.#high = schedule.endAt ?? Infinity;
    } else {
      this.#cron = null;
      this.#low = schedule.at;
      this.#high = schedule.at;
    }
  }

  /** The first occurrence strictly after `after`; `null` when none (within 100 years). */
  next(after: number, options: { includeSkipped?: boolean } = {}): Occurrence | null {
    const raw = this.#next(after, Infinity, options.includeSkipped ?? false);
    return raw === null ? null : toOccurrence(raw);
  }

  /** The time of the first occurrence that runs with `after < time <= limit`, or `NaN`. */
  nextTime(after: number, limit = Infinity): number {
    return this.#next(after, limit, false)?.time ?? NaN;
  }

  /** Occurrences with `after < time <= to`, in order, at most `limit`. */
  list(after: number, to: number, limit: number, includeSkipped: boolean): Occurrence[] {
    const out: Occurrence[] = [];
    let a = after;
    while (out.length < limit) {
      const raw = this.#next(a, to, includeSkipped);
      if (raw === null) break;
      out.push(toOccurrence(raw));
      a = raw.time;
    }
    return out;
  }

  /** How many occurrences that run have `after < time <= to` (without visiting each). */
  count(after: number, to: number): number {
    const a = Math.max(after, this.#low - 1);
    const b = Math.min(to, this.#high);
    if (!(a < b)) return 0;
    if (this.#cron === null) return 1;
    return this.#cron.count(a, b);
  }

  /** The last occurrence that runs with `after < time <= to`, or `NaN` (a bisection over {@link nextTime}). */
  lastTime(after: number, to: number): number {
    if (Number.isNaN(this.nextTime(after, to))) return NaN;
    let lo = Math.floor(after);
    let hi = Math.floor(to);
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (Number.isNaN(this.nextTime(mid, to))) hi = mid;
      else lo = mid;
    }
    return this.nextTime(lo, to);
  }

  /** The `dst` skips (`gap: 'skip'`) with `after < time <= to`. */
  skips(after: number, to: number): Occurrence[] {
    const a = Math.max(after, this.#low - 1);
    const b = Math.min(to, this.#high);
    if (this.#cron === null || !(a < b)) return [];
    return this.#cron.skips(a, b).map(toOccurrence);
  }

  #next(after: number, limit: number, includeSkipped: boolean): RawOccurrence | null {
    const a = Math.max(after, this.#low - 1);
    const b = Math.min(limit, this.#high, after + SEARCH_HORIZON_MS);
    if (!(a < b)) return null;
    if (this.#cron === null) return { time: this.#low, wall: this.#low, dst: undefined, skipped: false };
    return this.#cron.next(a, b, includeSkipped);
  }
}

/** A stored zone the runtime no longer knows (an older ICU) is a typed schedule error too. */
function zoneRules(zones: ZoneCache, zone: string): ZoneRules {
  try {
    return zones.get(zone);
  } catch (error) {
    if (error instanceof UnknownZoneError) {
      throw new ScheduleError('SCHEDULE_UNKNOWN_TIMEZONE', 'Unknown time zone', {
        path: 'schedule.timezone',
        value: zone,
        hint: 'This runtime\'s Intl does not know the zone; use an IANA name it knows',
        cause: error,
      });
    }
    throw error;
  }
}

function toOccurrence(raw: RawOccurrence): Occurrence {
  const base = { time: raw.time, wallClock: formatWall(raw.wall) };
  if (raw.dst === undefined) return base;
  return raw.skipped ? { ...base, dst: raw.dst, skipped: 'dst' } : { ...base, dst: raw.dst };
}
