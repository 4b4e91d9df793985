import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/schedule/cron-parse.js';
import { expectError } from './helpers.js';

const range = (a: number, b: number, step = 1): number[] => Array.from({ length: Math.floor((b - a) / step) + 1 }, (_, i) => a + i * step);

describe('parseCron', () => {
  it('reads 5 fields with seconds at 0, and 6 fields with seconds first', () => {
    const five = parseCron('30 9 * * *');
    expect([five.seconds, five.minutes, five.hours]).toEqual([[0], [30], [9]]);
    expect(five.daysOfMonth).toEqual(range(1, 31));
    expect(five.months).toEqual(range(1, 12));
    expect(five.daysOfWeek).toEqual(range(0, 6));
    expect(five.dayOfMonthWildcard && five.dayOfWeekWildcard).toBe(true);
    const six = parseCron('15 30 9 * * *');
    expect([six.seconds, six.minutes, six.hours]).toEqual([[15], [30], [9]]);
  });

  it('reads lists, ranges, steps, names and Sunday as 0 or 7', () => {
    const f = parseCron('  */15  8-18/5 1,15,L JAN-MAR,dec mon-FRI,7 ');
    expect(f.source).toBe('*/15 8-18/5 1,15,L JAN-MAR,dec mon-FRI,7');
    expect(f.minutes).toEqual([0, 15, 30, 45]);
    expect(f.hours).toEqual([8, 13, 18]);
    expect(f.daysOfMonth).toEqual([1, 15]);
    expect(f.lastDayOfMonth).toBe(true);
    expect(f.months).toEqual([1, 2, 3, 12]);
    expect(f.daysOfWeek).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parseCron('0 0 * * 5-7').daysOfWeek).toEqual([0, 5, 6]);
    expect(parseCron('5/20 * * * *').minutes).toEqual([5, 25, 45]);
  });

  it('reads "5L" and "5#3" in the day-of-week field, and "?" as a wildcard there', () => {
    expect(parseCron('0 0 * * 5L').lastWeekdaysOfMonth).toEqual([5]);
    expect(parseCron('0 0 * * FRI#3').nthWeekday).toEqual({ weekday: 5, nth: 3 });
    const q = parseCron('0 0 ? * MON');
    expect(q.dayOfMonthWildcard).toBe(true);
    expect(q.dayOfWeekWildcard).toBe(false);
    expect(parseCron('0 0 */1 * *').dayOfMonthWildcard).toBe(false);
  });

  it('expands the @ shorthands', () => {
    expect(parseCron('@hourly').hours).toHaveLength(24);
    expect(parseCron('@daily')).toMatchObject({ minutes: [0], hours: [0], source: '@daily' });
    expect(parseCron('@weekly').daysOfWeek).toEqual([0]);
  });

  it.each([
    ['* * * *', 'SCHEDULE_CRON_FIELD_COUNT'],
    ['0 0 0 * * * *', 'SCHEDULE_CRON_FIELD_COUNT'],
    ['', 'SCHEDULE_CRON_FIELD_COUNT'],
    ['60 * * * *', 'SCHEDULE_CRON_RANGE'],
    ['0 24 * * *', 'SCHEDULE_CRON_RANGE'],
    ['0 0 0 * *', 'SCHEDULE_CRON_RANGE'],
    ['0 0 32 * *', 'SCHEDULE_CRON_RANGE'],
    ['0 0 * 13 *', 'SCHEDULE_CRON_RANGE'],
    ['0 0 * * 8', 'SCHEDULE_CRON_RANGE'],
    ['*/0 * * * *', 'SCHEDULE_CRON_RANGE'],
    ['30-10 * * * *', 'SCHEDULE_CRON_RANGE'],
    ['0 0 * * 5#6', 'SCHEDULE_CRON_RANGE'],
    ['a * * * *', 'SCHEDULE_CRON_SYNTAX'],
    ['0 0 * FOO *', 'SCHEDULE_CRON_SYNTAX'],
    ['0 0 * MON *', 'SCHEDULE_CRON_SYNTAX'],
    ['1,,2 * * * *', 'SCHEDULE_CRON_SYNTAX'],
    ['? * * * *', 'SCHEDULE_CRON_SYNTAX'],
    ['0 0 LW * *', 'SCHEDULE_CRON_SYNTAX'],
    ['0 0 * * 1,5#3', 'SCHEDULE_CRON_SYNTAX'],
    ['H * * * *', 'SCHEDULE_CRON_SYNTAX'],
    ['@reboot', 'SCHEDULE_CRON_SYNTAX'],
    ['0 0 30 2 *', 'SCHEDULE_NEVER_FIRES'],
    ['0 0 31 4,6,9,11 *', 'SCHEDULE_NEVER_FIRES'],
  ])('refuses %j with %s', (expr, code) => {
    const e = expectError(() => parseCron(expr, 'job.schedule.cron'), code, 'job.schedule.cron');
    expect(e.value).toBe(expr);
    expect(e.hint).toBeTruthy();
  });

  it('accepts February 29 and day 31 when one month has it', () => {
    expect(parseCron('0 0 29 2 *').daysOfMonth).toEqual([29]);
    expect(parseCron('0 0 31 2,3 *').daysOfMonth).toEqual([31]);
    // Both day fields restricted: either matches, so the day 30 of February does not block it.
    expect(parseCron('0 0 30 2 MON').daysOfWeek).toEqual([1]);
  });

  it('refuses a non-string', () => {
    expectError(() => parseCron(5), 'SCHEDULE_CRON_SYNTAX', 'schedule.cron');
  });
});
