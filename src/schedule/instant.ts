import { ScheduleError } from '../errors.js';
import { daysInMonth } from './civil.js';

const MAX_TIME = 8.64e15;
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const HINT = 'Give a Date, epoch milliseconds, or an ISO 8601 string with Z or an offset, e.g. "2026-03-08T09:30:00Z"';

/**
 * Reads an instant: a valid `Date`, integer epoch milliseconds, or an ISO 8601 date-time
 * string with `Z` or an offset. A string without a zone is refused: JavaScript would read
 * it in the host's zone, so the same job would mean different instants on different hosts.
 *
 * @throws {ScheduleError} `SCHEDULE_INVALID_DATE` naming `path`.
 */
export function parseInstant(value: unknown, path: string): number {
  let ms = NaN;
  if (value instanceof Date) {
    ms = value.getTime();
  } else if (typeof value === 'number') {
    ms = Number.isInteger(value) ? value : NaN;
  } else if (typeof value === 'string') {
    ms = parseIso(value);
  }
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME) {
    throw new ScheduleError('SCHEDULE_INVALID_DATE', 'Not a valid instant', { path, value, hint: HINT });
  }
  return ms;
}

function parseIso(text: string): number {
  const m = ISO.exec(text.trim());
  if (!m) return NaN;
  const [, ys, mos, ds, hs, mis, ss, frac, z, sign, oh, om] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return NaN;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let offset = 0;
  if (z === undefined) {
    const hours = Number(oh);
    const minutes = Number(om);
    if (hours > 23 || minutes > 59) return NaN;
    offset = (sign === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  const d0 = new Date(0);
  d0.setUTCFullYear(y, mo - 1, d);
  d0.setUTCHours(h, mi, s, ms);
  return d0.getTime() - offset;
}
