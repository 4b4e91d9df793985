import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  countOccurrences,
  nextOccurrence,
  normalizeSchedule,
  occurrencesBetween,
  preview,
  type NormalizedSchedule,
} from '../../src/schedule/index.js';
import { NOW, at, cron, expectError, listIso, utc, zones } from './helpers.js';

describe('queries in UTC', () => {
  const weekdays = cron({ cron: '0 9 * * MON-FRI' });

  it('nextOccurrence is strictly after the reference time', () => {
    expect(nextOccurrence(weekdays, at('2026-03-06T08:59:59.999Z'))?.time).toBe(at('2026-03-06T09:00:00Z'));
    expect(nextOccurrence(weekdays, at('2026-03-06T09:00:00Z'))?.time).toBe(at('2026-03-09T09:00:00Z'));
    expect(nextOccurrence(weekdays, new Date('2026-03-06T09:00:00Z'))?.wallClock).toBe('2026-03-09T09:00:00');
  });

  it('occurrencesBetween is [from, to), limited', () => {
    expect(occurrencesBetween(weekdays, at('2026-03-06T09:00:00Z'), at('2026-03-10T09:00:00Z')).map((o) => o.time)).toEqual([
      at('2026-03-06T09:00:00Z'),
      at('2026-03-09T09:00:00Z'),
    ]);
    expect(occurrencesBetween(weekdays, at('2026-03-01T00:00:00Z'), at('2026-04-01T00:00:00Z'), { limit: 3 })).toHaveLength(3);
    expect(countOccurrences(weekdays, at('2026-03-01T00:00:00Z'), at('2026-04-01T00:00:00Z'))).toBe(22);
  });

  it('preview lists the next n', () => {
    expect(preview(weekdays, 3, at('2026-03-06T12:00:00Z')).map((o) => o.wallClock)).toEqual([
      '2026-03-09T09:00:00',
      '2026-03-10T09:00:00',
      '2026-03-11T09:00:00',
    ]);
  });

  it('accepts a normalised schedule without compiling it first', () => {
    const n = normalizeSchedule({ type: 'cron', cron: '0 12 * * *', timezone: 'Asia/Tokyo' }, { now: NOW });
    expect(nextOccurrence(n, at('2026-01-01T00:00:00Z'))?.time).toBe(at('2026-01-01T12:00:00+09:00'));
    expect(nextOccurrence(n, at('2026-01-01T00:00:00Z'), { zones })?.time).toBe(at('2026-01-01T12:00:00+09:00'));
  });

  it('day of month and day of week restricted together: either matches (as cron-parser)', () => {
    expect(listIso(cron({ cron: '0 0 13 * FRI' }), '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z')).toEqual(
      utc('2026-02-06T00:00:00Z', '2026-02-13T00:00:00Z', '2026-02-20T00:00:00Z', '2026-02-27T00:00:00Z'),
    );
  });

  it('L, nL and n#k', () => {
    expect(listIso(cron({ cron: '0 0 L * *' }), '2028-01-15T00:00:00Z', '2028-04-01T00:00:00Z')).toEqual(
      utc('2028-01-31T00:00:00Z', '2028-02-29T00:00:00Z', '2028-03-31T00:00:00Z'),
    );
    expect(listIso(cron({ cron: '0 0 * * 5L' }), '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z')).toEqual(utc('2026-01-30T00:00:00Z', '2026-02-27T00:00:00Z'));
    expect(listIso(cron({ cron: '0 0 * * 1#2' }), '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z')).toEqual(utc('2026-01-12T00:00:00Z', '2026-02-09T00:00:00Z'));
  });

  it('finds a sparse schedule years ahead (February 29)', () => {
    expect(nextOccurrence(cron({ cron: '0 0 29 2 *' }), at('2028-03-01T00:00:00Z'))?.time).toBe(at('2032-02-29T00:00:00Z'));
    // 2100 is not a leap year.
    expect(nextOccurrence(cron({ cron: '0 0 29 2 *' }), at('2096-03-01T00:00:00Z'))?.time).toBe(at('2104-02-29T00:00:00Z'));
  });
});

describe('bounds', () => {
  const bounded = cron({ cron: '0 * * * *', startAt: '2026-03-01T10:00:00Z', endAt: '2026-03-01T13:00:00Z' });

  it('startAt and endAt are inclusive; nothing outside', () => {
    expect(listIso(bounded, '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')).toEqual(
      utc('2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z', '2026-03-01T12:00:00Z', '2026-03-01T13:00:00Z'),
    );
    expect(nextOccurrence(bounded, at('2025-01-01T00:00:00Z'))?.time).toBe(at('2026-03-01T10:00:00Z'));
    expect(nextOccurrence(bounded, at('2026-03-01T13:00:00Z'))).toBeNull();
    expect(countOccurrences(bounded, 0, at('2030-01-01T00:00:00Z'))).toBe(4);
  });

  it('a startAt between occurrences starts at the next one', () => {
    const c = cron({ cron: '0 * * * *', startAt: '2026-03-01T10:00:00.001Z' });
    expect(nextOccurrence(c, 0)?.time).toBe(at('2026-03-01T11:00:00Z'));
  });
});

describe('one-offs', () => {
  const oneOff: NormalizedSchedule = { type: 'at', at: at('2026-05-01T12:00:00Z') };
  it('answers its instant while it is ahead, then nothing', () => {
    expect(nextOccurrence(oneOff, at('2026-01-01T00:00:00Z'))).toEqual({ time: oneOff.at, wallClock: '2026-05-01T12:00:00' });
    expect(nextOccurrence(oneOff, oneOff.at)).toBeNull();
    expect(preview(oneOff, 5, 0)).toHaveLength(1);
    expect(countOccurrences(oneOff, 0, oneOff.at)).toBe(0);
    expect(countOccurrences(oneOff, 0, oneOff.at + 1)).toBe(1);
  });
});

describe('agreement with cron-parser where it has no DST to handle (UTC)', () => {
  const value = (min: number, max: number) => fc.integer({ min, max });
  const item = (min: number, max: number, names?: string[]) =>
    fc.oneof(
      fc.constant('*'),
      value(min, max).map(String),
      fc.tuple(value(min, max), value(min, max)).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.tuple(value(1, Math.max(1, max - min))).map(([s]) => `*/${s}`),
      fc.tuple(value(min, max), value(min, max), value(1, 7)).map(([a, b, s]) => `${Math.min(a, b)}-${Math.max(a, b)}/${s}`),
      ...(names ? [fc.constantFrom(...names)] : []),
    );
  const field = (min: number, max: number, names?: string[]) =>
    fc.array(item(min, max, names), { minLength: 1, maxLength: 3 }).map((items) => (items.includes('*') ? '*' : items.join(',')));
  const expression = fc.tuple(
    fc.option(field(0, 59), { nil: undefined }),
    field(0, 59),
    field(0, 23),
    fc.oneof(field(1, 31), fc.constant('L'), fc.constant('15,L')),
    field(1, 12, ['JAN', 'JUN', 'DEC']),
    fc.oneof(field(0, 7, ['MON', 'FRI']), fc.constant('5L'), fc.constant('2#3'), fc.constant('?')),
  );

  it('gives the same next 12 occurrences for random expressions', () => {
    fc.assert(
      fc.property(expression, fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2035-01-01T00:00:00Z') }), ([s, ...rest], from) => {
        const text = [s, ...rest].filter((x) => x !== undefined).join(' ');
        let n: NormalizedSchedule;
        try {
          n = normalizeSchedule({ type: 'cron', cron: text }, { now: from, zones });
        } catch (error) {
          // Our parser refuses what can never fire (a day no month has); skip those.
          if ((error as { code?: string }).code === 'SCHEDULE_NEVER_FIRES') return;
          throw error;
        }
        let parsed: ReturnType<typeof CronExpressionParser.parse>;
        try {
          parsed = CronExpressionParser.parse(text, { tz: 'UTC', currentDate: new Date(from) });
        } catch (error) {
          // cron-parser refuses overlapping list items ("1-5,3"); we take their union.
          if (String(error).includes('duplicate values')) return;
          throw error;
        }
        const theirs = parsed.take(12).map((d) => d.getTime());
        const ours = preview(n, theirs.length, from, { zones }).map((o) => o.time);
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300, seed: 20260308 },
    );
  });
});

describe('bad query input', () => {
  it('a reference time that is not a finite instant gives a typed error', () => {
    const c = cron({ cron: '0 * * * *' });
    expectError(() => nextOccurrence(c, Number.NaN), 'SCHEDULE_QUERY_INVALID_TIME', 'after');
    expectError(() => occurrencesBetween(c, 0, new Date(Number.NaN)), 'SCHEDULE_QUERY_INVALID_TIME', 'to');
    expectError(() => preview(c, 3, Number.NEGATIVE_INFINITY), 'SCHEDULE_QUERY_INVALID_TIME', 'from');
  });
});
