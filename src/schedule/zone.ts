import { DAY, SECOND, yearOf } from './civil.js';

/**
 * A stretch of time with one UTC offset: `[start, end)` in epoch ms. `before` is the
 * offset just before `start` and `after` the offset from `end` on; a boundary where the
 * offset does not change (`before === offset`) is only a seam in the cache.
 * Offsets are milliseconds to add to an instant to get its wall time.
 */
export interface ZoneSegment {
  /** First instant of the stretch (epoch ms). */
  readonly start: number;
  /** First instant after the stretch (epoch ms, exclusive). */
  readonly end: number;
  /** The UTC offset inside the stretch (ms). */
  readonly offset: number;
  /** The UTC offset just before `start` (ms). */
  readonly before: number;
  /** The UTC offset from `end` on (ms). */
  readonly after: number;
}

interface Transition {
  /** First instant with the new offset. */
  readonly at: number;
  readonly offset: number;
}

interface YearRules {
  /** The offset just before the year starts (UTC). */
  readonly initial: number;
  /** Transitions in `[yearStart, nextYearStart)`, in order. */
  readonly transitions: readonly Transition[];
}

/**
 * The UTC offsets of one IANA time zone, learned from `Intl` once per UTC year and kept:
 * every transition of a year is found by sampling the offset daily and bisecting to the
 * second (two transitions less than a day apart that cancel out would be missed; no
 * zone has had such a pair since 1970). After that, an offset or segment lookup is a
 * short array search, with no `Intl` call.
 */
export class ZoneRules {
  /** The zone's canonical IANA name (`Europe/Amsterdam`, `UTC`). */
  readonly zone: string;
  readonly #format: Intl.DateTimeFormat | null;
  readonly #years = new Map<number, YearRules>();

  /** @param zone a name `Intl` accepts (checked by {@link ZoneCache.get}). */
  constructor(zone: string) {
    this.zone = zone;
    this.#format =
      zone === 'UTC'
        ? null
        : new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          });
  }

  /** The offset (ms, wall = instant + offset) in force at `instant`. */
  offsetAt(instant: number): number {
    const rules = this.#year(yearOf(instant));
    let offset = rules.initial;
    for (const t of rules.transitions) {
      if (t.at > instant) break;
      offset = t.offset;
    }
    return offset;
  }

  /** The segment of constant offset that contains `instant`. */
  segmentAt(instant: number): ZoneSegment {
    const y = yearOf(instant);
    const rules = this.#year(y);
    let i = -1;
    for (let k = 0; k < rules.transitions.length; k++) {
      if ((rules.transitions[k] as Transition).at <= instant) i = k;
      else break;
    }
    let start: number;
    let before: number;
    let offset: number;
    if (i >= 0) {
      const t = rules.transitions[i] as Transition;
      start = t.at;
      offset = t.offset;
      before = i > 0 ? (rules.transitions[i - 1] as Transition).offset : rules.initial;
    } else {
      offset = rules.initial;
      const prev = this.#year(y - 1).transitions;
      const last = prev[prev.length - 1];
      if (last !== undefined) {
        start = last.at;
        before = prev.length > 1 ? (prev[prev.length - 2] as Transition).offset : this.#year(y - 1).initial;
      } else {
        start = Date.UTC(y, 0, 1);
        before = offset;
      }
    }
    let end: number;
    let after: number;
    const next = rules.transitions[i + 1] ?? this.#year(y + 1).transitions[0];
    if (next !== undefined) {
      end = next.at;
      after = next.offset;
    } else {
      end = Date.UTC(y + 2, 0, 1);
      after = offset;
    }
    return { start, end, offset, before, after };
  }

  #year(y: number): YearRules {
    let rules = this.#years.get(y);
    if (rules === undefined) {
      rules = this.#computeYear(y);
      this.#years.set(y, rules);
    }
    return rules;
  }

  #computeYear(y: number): YearRules {
    const yearStart = Date.UTC(y, 0, 1);
    const nextStart = Date.UTC(y + 1, 0, 1);
    if (this.#format === null) return { initial: 0, transitions: [] };
    const initial = this.#intlOffset(yearStart - SECOND);
    const transitions: Transition[] = [];
    let prevAt = yearStart - SECOND;
    let prevOffset = initial;
    for (let p = yearStart; prevAt < nextStart - SECOND; p += DAY) {
      const q = Math.min(p, nextStart - SECOND);
      const o = this.#intlOffset(q);
      // Bisect (to the second) for each change between the samples.
      while (o !== prevOffset) {
        let lo = prevAt;
        let hi = q;
        while (hi - lo > SECOND) {
          const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
          if (this.#intlOffset(mid) === prevOffset) lo = mid;
          else hi = mid;
        }
        const offset = this.#intlOffset(hi);
        transitions.push({ at: hi, offset });
        prevAt = hi;
        prevOffset = offset;
      }
      prevAt = q;
    }
    return { initial, transitions };
  }

  #intlOffset(instant: number): number {
    // format() and a fixed en-US pattern ("1/31/2026, 23:05:09") cost half of formatToParts().
    const m = WALL.exec((this.#format as Intl.DateTimeFormat).format(instant));
    if (m === null) throw new Error(`Unexpected Intl output for ${this.zone}`);
    const [, mo, d, y, h, mi, s] = m;
    // Years before 100 would need more care (Date.UTC maps them to 19xx); schedules live
    // far from them.
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h) % 24, Number(mi), Number(s)) - Math.floor(instant / SECOND) * SECOND;
  }
}

const WALL = /^(\d+)\/(\d+)\/(\d+),?\s+(\d+):(\d+):(\d+)$/;

/** Thrown by {@link ZoneCache.get} for a name `Intl` does not know. */
export class UnknownZoneError extends RangeError {}

/**
 * Owns the offset rules of each time zone used, so the `Intl` work is done once per
 * zone and year. Give one instance to everything that computes occurrences (one per
 * scheduler). Not shared between instances; no module-level state.
 */
export class ZoneCache {
  readonly #zones = new Map<string, ZoneRules>();

  /**
   * The rules of `zone` (an IANA name; case-insensitive, links resolved the way `Intl`
   * resolves them).
   * @throws {UnknownZoneError} when `Intl` does not know the zone.
   * @internal
   */
  get(zone: string): ZoneRules {
    let rules = this.#zones.get(zone);
    if (rules === undefined) {
      const canonical = canonicalZone(zone);
      rules = this.#zones.get(canonical) ?? new ZoneRules(canonical);
      this.#zones.set(canonical, rules);
      this.#zones.set(zone, rules);
    }
    return rules;
  }
}

/**
 * The name `Intl` resolves `zone` to (`utc` -> `UTC`).
 * @throws {UnknownZoneError} when `Intl` does not know the zone.
 */
export function canonicalZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch (error) {
    // Intl throws a RangeError for an unknown zone; anything else is unexpected.
    if (error instanceof RangeError) throw new UnknownZoneError(`Unknown time zone ${JSON.stringify(zone)}`, { cause: error });
    throw error;
  }
}
