/**
 * Calendar arithmetic on "wall" milliseconds: a wall-clock date-time written as if it
 * were UTC (`Date.UTC(y, m - 1, d, h, mi, s)`). Pure integer maths, no `Date` objects,
 * so the matcher's hot loop allocates nothing.
 */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). H. Hinnant's algorithm. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date `[year, month 1-12, day]` of a day number (days since 1970-01-01). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** Day of the week of a day number: 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Days in month `m` (1-12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeapYear(y) ? 29 : (MONTH_DAYS[m - 1] ?? 31);
}

/** The most days month `m` (1-12) ever has (February: 29). */
export function maxDaysInMonth(m: number): number {
  return m === 2 ? 29 : (MONTH_DAYS[m - 1] ?? 31);
}

/** Rounds up to a whole second. */
export function ceilSecond(ms: number): number {
  return Math.ceil(ms / SECOND) * SECOND;
}

/** The UTC calendar year of an instant (or of a wall time). */
export function yearOf(ms: number): number {
  return civilFromDays(Math.floor(ms / DAY))[0];
}

/** Formats wall milliseconds as `YYYY-MM-DDTHH:mm:ss` (no zone: it is a wall-clock label). */
export function formatWall(wall: number): string {
  const days = Math.floor(wall / DAY);
  const [y, m, d] = civilFromDays(days);
  const tod = wall - days * DAY;
  const h = Math.floor(tod / HOUR);
  const mi = Math.floor((tod % HOUR) / MINUTE);
  const s = Math.floor((tod % MINUTE) / SECOND);
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
