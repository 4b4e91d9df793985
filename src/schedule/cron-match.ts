import { DAY, HOUR, MINUTE, SECOND, ceilSecond, civilFromDays, daysFromCivil, daysInMonth, weekday } from './civil.js';
import type { CronFields } from './cron-parse.js';

/**
 * Pure matching of cron fields against wall-clock times (no time zone: wall milliseconds,
 * see `civil.ts`). Finds the next match by jumping field by field (a sparse schedule costs
 * a few steps, not a scan of every minute), and counts matches in a span arithmetically
 * (per day, then hour, minute, second), so a long outage of a per-second schedule is
 * counted without visiting each second. Immutable once built.
 */
export class CronMatcher {
  readonly fields: CronFields;
  /** The hour field allows every hour: the schedule runs at every real instant that matches. */
  readonly everyHour: boolean;
  readonly #nextSecond: Int8Array;
  readonly #nextMinute: Int8Array;
  readonly #nextHour: Int8Array;
  readonly #secondsBelow: Uint8Array;
  readonly #minutesBelow: Uint8Array;
  readonly #hoursBelow: Uint8Array;
  readonly #month: Uint8Array;
  readonly #dayOfMonth: Uint8Array;
  readonly #dayOfWeek: Uint8Array;
  readonly #lastWeekday: Uint8Array;
  readonly #firstMonth: number;
  readonly #perHour: number;
  readonly #perDay: number;

  constructor(fields: CronFields) {
    this.fields = fields;
    this.everyHour = fields.hours.length === 24;
    this.#nextSecond = nextTable(fields.seconds, 60);
    this.#nextMinute = nextTable(fields.minutes, 60);
    this.#nextHour = nextTable(fields.hours, 24);
    this.#secondsBelow = belowTable(fields.seconds, 60);
    this.#minutesBelow = belowTable(fields.minutes, 60);
    this.#hoursBelow = belowTable(fields.hours, 24);
    this.#month = flags(fields.months, 13);
    this.#dayOfMonth = flags(fields.daysOfMonth, 32);
    this.#dayOfWeek = flags(fields.daysOfWeek, 7);
    this.#lastWeekday = flags(fields.lastWeekdaysOfMonth, 7);
    this.#firstMonth = fields.months[0] ?? 1;
    this.#perHour = fields.seconds.length * fields.minutes.length;
    this.#perDay = this.#perHour * fields.hours.length;
  }

  /** Whether the date (day number `days` = `y-m-d`) matches the month and day fields. */
  dateMatches(days: number, y: number, m: number, d: number): boolean {
    return this.#month[m] === 1 && this.#dayMatches(days, y, m, d);
  }

  /** Whether the wall time (whole second) matches every field. */
  matchesWall(wall: number): boolean {
    const days = Math.floor(wall / DAY);
    const tod = wall - days * DAY;
    if (tod % SECOND !== 0) return false;
    const [y, m, d] = civilFromDays(days);
    if (!this.dateMatches(days, y, m, d)) return false;
    return this.#countBeforeTod(tod + SECOND) - this.#countBeforeTod(tod) === 1;
  }

  /** The first matching wall time (a whole second) at or after `from` and before `limit`; `NaN` when none. */
  nextWall(from: number, limit: number): number {
    const start = ceilSecond(from);
    if (!(start < limit)) return NaN;
    let days = Math.floor(start / DAY);
    const tod = start - days * DAY;
    let h = Math.floor(tod / HOUR);
    let mi = Math.floor((tod % HOUR) / MINUTE);
    let s = Math.floor((tod % MINUTE) / SECOND);
    let [y, m, d] = civilFromDays(days);
    const nextDay = (): void => {
      days += 1;
      d += 1;
      if (d > daysInMonth(y, m)) {
        d = 1;
        m += 1;
        if (m > 12) {
          m = 1;
          y += 1;
        }
      }
      h = 0;
      mi = 0;
      s = 0;
    };
    for (;;) {
      if (days * DAY >= limit) return NaN;
      if (this.#month[m] !== 1) {
        let next = m + 1;
        while (next <= 12 && this.#month[next] !== 1) next += 1;
        if (next > 12) {
          y += 1;
          next = this.#firstMonth;
        }
        m = next;
        d = 1;
        days = daysFromCivil(y, m, 1);
        h = 0;
        mi = 0;
        s = 0;
        continue;
      }
      if (!this.#dayMatches(days, y, m, d)) {
        nextDay();
        continue;
      }
      const hh = this.#nextHour[h] as number;
      if (hh < 0) {
        nextDay();
        continue;
      }
      if (hh !== h) {
        h = hh;
        mi = 0;
        s = 0;
      }
      const mm = this.#nextMinute[mi] as number;
      if (mm < 0) {
        h += 1;
        mi = 0;
        s = 0;
        if (h === 24) nextDay();
        continue;
      }
      if (mm !== mi) {
        mi = mm;
        s = 0;
      }
      const ss = this.#nextSecond[s] as number;
      if (ss < 0) {
        mi += 1;
        s = 0;
        if (mi === 60) {
          mi = 0;
          h += 1;
          if (h === 24) nextDay();
        }
        continue;
      }
      const wall = days * DAY + h * HOUR + mi * MINUTE + ss * SECOND;
      return wall < limit ? wall : NaN;
    }
  }

  /** How many matching wall times (whole seconds) lie in `[from, to)`. */
  countWall(from: number, to: number): number {
    const a = ceilSecond(from);
    const b = ceilSecond(to);
    if (!(a < b)) return 0;
    const da = Math.floor(a / DAY);
    const db = Math.floor(b / DAY);
    let [y, m, d] = civilFromDays(da);
    let total = -this.#countBefore(da, y, m, d, a - da * DAY);
    for (let days = da; days < db; days++) {
      if (this.dateMatches(days, y, m, d)) total += this.#perDay;
      d += 1;
      if (d > daysInMonth(y, m)) {
        d = 1;
        m += 1;
        if (m > 12) {
          m = 1;
          y += 1;
        }
      }
    }
    return total + this.#countBefore(db, y, m, d, b - db * DAY);
  }

  #countBefore(days: number, y: number, m: number, d: number, tod: number): number {
    return tod > 0 && this.dateMatches(days, y, m, d) ? this.#countBeforeTod(tod) : 0;
  }

  /** Matches in a matching day strictly before the time of day `tod` (ms, whole seconds). */
  #countBeforeTod(tod: number): number {
    if (tod >= DAY) return this.#perDay;
    const h = Math.floor(tod / HOUR);
    const mi = Math.floor((tod % HOUR) / MINUTE);
    const s = Math.floor((tod % MINUTE) / SECOND);
    let n = (this.#hoursBelow[h] as number) * this.#perHour;
    if (this.#nextHour[h] === h) {
      n += (this.#minutesBelow[mi] as number) * this.fields.seconds.length;
      if (this.#nextMinute[mi] === mi) n += this.#secondsBelow[s] as number;
    }
    return n;
  }

  #dayMatches(days: number, y: number, m: number, d: number): boolean {
    const f = this.fields;
    if (f.dayOfMonthWildcard && f.dayOfWeekWildcard) return true;
    const dim = daysInMonth(y, m);
    const domMatch = this.#dayOfMonth[d] === 1 || (f.lastDayOfMonth && d === dim);
    if (f.dayOfWeekWildcard) return domMatch;
    const wd = weekday(days);
    const nth = f.nthWeekday;
    const dowMatch =
      (nth === null ? this.#dayOfWeek[wd] === 1 : wd === nth.weekday && Math.ceil(d / 7) === nth.nth) ||
      (this.#lastWeekday[wd] === 1 && d + 7 > dim);
    if (f.dayOfMonthWildcard) return dowMatch;
    return domMatch || dowMatch;
  }
}

/** `t[v]` = the smallest allowed value >= v, or -1; `t[size]` = -1. */
function nextTable(values: readonly number[], size: number): Int8Array {
  const t = new Int8Array(size + 1).fill(-1);
  let next = -1;
  const allowed = flags(values, size);
  for (let v = size - 1; v >= 0; v--) {
    if (allowed[v] === 1) next = v;
    t[v] = next;
  }
  return t;
}

/** `t[v]` = how many allowed values are < v. */
function belowTable(values: readonly number[], size: number): Uint8Array {
  const t = new Uint8Array(size + 1);
  const allowed = flags(values, size);
  for (let v = 1; v <= size; v++) t[v] = (t[v - 1] as number) + (allowed[v - 1] as number);
  return t;
}

function flags(values: readonly number[], size: number): Uint8Array {
  const t = new Uint8Array(size);
  for (const v of values) t[v] = 1;
  return t;
}
