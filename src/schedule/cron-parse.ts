import type { ScheduleErrorCode } from '../error-codes.js';
import { ScheduleError } from '../errors.js';
import { maxDaysInMonth } from './civil.js';

/**
 * A parsed cron expression: the set of values each field allows. Produced by
 * {@link parseCron}; matched by `CronMatcher`.
 */
export interface CronFields {
  /** The expression, trimmed, with single spaces. */
  readonly source: string;
  /** 0-59, sorted, unique (`[0]` for a 5-field expression). */
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** 1-31 (numbers only; `L` is {@link lastDayOfMonth}). */
  readonly daysOfMonth: readonly number[];
  /** `L` in the day-of-month field: the last day of the month. */
  readonly lastDayOfMonth: boolean;
  /** 1-12. */
  readonly months: readonly number[];
  /** 0-6, Sunday = 0 (7 is read as 0). */
  readonly daysOfWeek: readonly number[];
  /** `5L`: the last Friday of the month (weekdays 0-6). */
  readonly lastWeekdaysOfMonth: readonly number[];
  /** `5#3`: the third Friday of the month. */
  readonly nthWeekday: { readonly weekday: number; readonly nth: number } | null;
  /**
   * The day-of-month field is exactly `*` or `?`. When both day fields are restricted a
   * day matches if either does (Vixie cron, cron-parser); `*\/1` counts as restricted,
   * as in cron-parser.
   */
  readonly dayOfMonthWildcard: boolean;
  readonly dayOfWeekWildcard: boolean;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly nameOffset?: number;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameOffset: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES, nameOffset: 0 },
];

/** Shorthands accepted in place of the fields. */
const MACROS: Readonly<Record<string, string>> = Object.freeze({
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
});

const MAX_LENGTH = 1024;
const ITEM = /^(\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/;
const FIELD_HINT =
  'Use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. "0 9 * * MON-FRI" or "30 0 9 * * *"';

/**
 * Parses a cron expression of 5 fields (`minute hour day-of-month month day-of-week`)
 * or 6 (seconds first), or one of `@yearly @annually @monthly @weekly @daily @midnight
 * @hourly`. Fields take `*`, numbers, names (`JAN`, `MON`), ranges `a-b`, steps `*\/n`,
 * `a-b/n`, `a/n`, lists `a,b`; `?` as `*` in the day fields; `L` (last day) in
 * day-of-month; `5L` (last Friday) and `5#3` (third Friday, alone in its field) in
 * day-of-week, where 0 and 7 are Sunday.
 *
 * @throws {ScheduleError} `SCHEDULE_CRON_FIELD_COUNT`, `SCHEDULE_CRON_SYNTAX`,
 *   `SCHEDULE_CRON_RANGE`, or `SCHEDULE_NEVER_FIRES` (a day that no month has,
 *   such as February 30), with `path` and the whole expression as `value`.
 */
export function parseCron(expression: unknown, path = 'schedule.cron'): CronFields {
  if (typeof expression !== 'string') {
    throw new ScheduleError('SCHEDULE_CRON_SYNTAX', 'A cron expression must be a string', {
      path,
      value: expression,
      hint: FIELD_HINT,
    });
  }
  const source = expression.trim().split(/\s+/).join(' ');
  const fail = (code: ScheduleErrorCode, message: string, hint: string): never => {
    throw new ScheduleError(code, message, { path, value: expression, hint });
  };
  if (source.length > MAX_LENGTH) fail('SCHEDULE_CRON_SYNTAX', 'The cron expression is too long', `At most ${MAX_LENGTH} characters`);
  let text = source;
  if (text.startsWith('@')) {
    const expanded = MACROS[text.toLowerCase()];
    if (expanded === undefined) {
      fail('SCHEDULE_CRON_SYNTAX', `Unknown cron shorthand ${text}`, `Known: ${Object.keys(MACROS).join(', ')}`);
    }
    text = expanded as string;
  }
  const parts = text === '' ? [] : text.split(' ');
  if (parts.length !== 5 && parts.length !== 6) {
    fail('SCHEDULE_CRON_FIELD_COUNT', `A cron expression has 5 or 6 fields, this one has ${parts.length}`, FIELD_HINT);
  }
  const raw = parts.length === 5 ? ['0', ...parts] : parts;
  const sets: number[][] = [];
  let lastDayOfMonth = false;
  const lastWeekdaysOfMonth: number[] = [];
  let nthWeekday: CronFields['nthWeekday'] = null;

  for (let i = 0; i < 6; i++) {
    const spec = FIELDS[i] as FieldSpec;
    const field = raw[i] as string;
    const where = `${spec.name} field "${field}"`;
    const values = new Set<number>();
    if (i === 5 && field.includes('#')) {
      const m = /^([0-9A-Za-z]+)#(\d+)$/.exec(field);
      if (!m) fail('SCHEDULE_CRON_SYNTAX', `Bad ${where}`, 'Write "n#k" alone in the field, e.g. "5#3" for the third Friday');
      const wd = readValue(spec, (m as RegExpExecArray)[1] as string, where, fail) % 7;
      const nth = Number((m as RegExpExecArray)[2]);
      if (nth < 1 || nth > 5) fail('SCHEDULE_CRON_RANGE', `Bad ${where}`, 'The k of "n#k" is 1 to 5');
      nthWeekday = { weekday: wd, nth };
      values.add(wd);
      sets.push([...values]);
      continue;
    }
    for (const item of field.split(',')) {
      if (i === 3 && item.toUpperCase() === 'L') {
        lastDayOfMonth = true;
        continue;
      }
      if (i === 5 && /^[0-9A-Za-z]+L$/i.test(item) && !/^[0-9A-Za-z]+-/.test(item)) {
        lastWeekdaysOfMonth.push(readValue(spec, item.slice(0, -1), where, fail) % 7);
        continue;
      }
      const m = ITEM.exec(item);
      if (!m) {
        fail('SCHEDULE_CRON_SYNTAX', `Bad ${where}`, `Expected *, a value, a range a-b or a step */n; ${spec.name} takes ${spec.min}-${spec.max}`);
      }
      const [, body, stepText] = m as RegExpExecArray;
      const step = stepText === undefined ? 1 : Number(stepText);
      if (step < 1) fail('SCHEDULE_CRON_RANGE', `Bad ${where}`, 'A step must be at least 1');
      let lo: number;
      let hi: number;
      if (body === '*' || body === '?') {
        if (body === '?' && i !== 3 && i !== 5) fail('SCHEDULE_CRON_SYNTAX', `Bad ${where}`, '"?" is only allowed in the day fields');
        lo = spec.min;
        hi = i === 5 ? 6 : spec.max;
      } else {
        const [a, b] = (body as string).split('-') as [string, string | undefined];
        lo = readValue(spec, a, where, fail);
        hi = b !== undefined ? readValue(spec, b, where, fail) : stepText !== undefined ? spec.max : lo;
        if (lo > hi) fail('SCHEDULE_CRON_RANGE', `Bad ${where}: the range ${body} runs backwards`, `Write the smaller value first`);
      }
      for (let v = lo; v <= hi; v += step) values.add(i === 5 ? v % 7 : v);
    }
    sets.push([...values].sort((x, y) => x - y));
  }

  const [seconds, minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [number[], number[], number[], number[], number[], number[]];
  const dayOfMonthWildcard = raw[3] === '*' || raw[3] === '?';
  const dayOfWeekWildcard = raw[5] === '*' || raw[5] === '?';
  if (!dayOfMonthWildcard && dayOfWeekWildcard && !lastDayOfMonth) {
    // Only the day of month restricts the day: it must exist in one of the months.
    const possible = months.some((mo) => daysOfMonth.some((d) => d <= maxDaysInMonth(mo)));
    if (!possible) {
      fail(
        'SCHEDULE_NEVER_FIRES',
        `The cron expression never fires: no month of ${raw[4]} has day ${raw[3]}`,
        'Check the day-of-month and month fields (February has at most 29 days; April, June, September and November 30)',
      );
    }
  }
  return {
    source,
    seconds,
    minutes,
    hours,
    daysOfMonth,
    lastDayOfMonth,
    months,
    daysOfWeek,
    lastWeekdaysOfMonth: [...new Set(lastWeekdaysOfMonth)].sort((x, y) => x - y),
    nthWeekday,
    dayOfMonthWildcard,
    dayOfWeekWildcard,
  };
}

function readValue(spec: FieldSpec, token: string, where: string, fail: (code: ScheduleErrorCode, message: string, hint: string) => never): number {
  let v: number;
  if (/^\d+$/.test(token)) {
    v = Number(token);
  } else {
    const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
    if (index < 0) {
      const names = spec.names ? ` or a name (${spec.names[0]}-${spec.names[spec.names.length - 1]})` : '';
      return fail('SCHEDULE_CRON_SYNTAX', `Bad ${where}: "${token}" is not a value`, `${spec.name} takes a number ${spec.min}-${spec.max}${names}`);
    }
    v = index + (spec.nameOffset ?? 0);
  }
  if (v < spec.min || v > spec.max) {
    fail('SCHEDULE_CRON_RANGE', `Bad ${where}: ${token} is out of range`, `${spec.name} takes ${spec.min}-${spec.max}`);
  }
  return v;
}
