import { describe, expect, it } from 'vitest';
import { ScheduleError } from '../../src/errors.js';
import { normalizeSchedule, SCHEDULE_DEFAULTS } from '../../src/schedule/index.js';
import { NOW, at, expectError, zones } from './helpers.js';

const ctx = { now: NOW, zones };

describe('normalizeSchedule', () => {
  it('fills every default of a cron schedule and is JSON-safe and idempotent', () => {
    const n = normalizeSchedule({ type: 'cron', cron: ' 0  9 * * MON-FRI ' }, ctx);
    expect(n).toEqual({
      type: 'cron',
      cron: '0 9 * * MON-FRI',
      timezone: 'UTC',
      startAt: null,
      endAt: null,
      gap: 'shift',
      repeat: 'first',
      lateness: 60_000,
      missed: { policy: 'latest', window: 604_800_000, cap: 100 },
      overlap: 'allow',
    });
    expect(JSON.parse(JSON.stringify(n))).toEqual(n);
    expect(normalizeSchedule(n, ctx)).toEqual(n);
    expect(SCHEDULE_DEFAULTS.missed.window).toBe(604_800_000);
  });

  it('keeps given options, reads instants in every accepted form, resolves the zone name', () => {
    const spec = {
      type: 'cron',
      cron: '*/5 * * * *',
      timezone: 'europe/berlin',
      startAt: new Date('2026-02-01T00:00:00Z'),
      endAt: '2026-12-31T23:00:00+01:00',
      gap: 'skip',
      repeat: 'both',
      lateness: 0,
      missed: { policy: 'all', window: 3_600_000, cap: 5 },
      overlap: 'queue',
    } as const;
    const copy = structuredClone(spec);
    const n = normalizeSchedule(spec, ctx);
    expect(n).toMatchObject({
      timezone: 'Europe/Berlin',
      startAt: at('2026-02-01T00:00:00Z'),
      endAt: at('2026-12-31T22:00:00Z'),
      gap: 'skip',
      repeat: 'both',
      lateness: 0,
      missed: { policy: 'all', window: 3_600_000, cap: 5 },
      overlap: 'queue',
    });
    expect(spec).toEqual(copy);
    expect(normalizeSchedule({ type: 'cron', cron: '0 0 * * *', missed: 'skip' }, ctx)).toMatchObject({ missed: { policy: 'skip', cap: 100 } });
  });

  it('normalises one-offs: now is the given time; at in any form, in the past too', () => {
    expect(normalizeSchedule({ type: 'now' }, ctx)).toEqual({ type: 'now', at: NOW });
    expect(normalizeSchedule({ type: 'at', at: '2025-06-01T12:00:00.250+02:00' }, ctx)).toEqual({ type: 'at', at: at('2025-06-01T10:00:00.250Z') });
    expect(normalizeSchedule({ type: 'at', at: 1_800_000_000_000 }, { now: new Date(NOW) })).toEqual({ type: 'at', at: 1_800_000_000_000 });
    const n = normalizeSchedule({ type: 'now' }, ctx);
    expect(normalizeSchedule(n, { now: NOW + 5000 })).toEqual(n);
  });

  it.each([
    [null, 'SCHEDULE_NOT_OBJECT', 'schedule'],
    ['0 * * * *', 'SCHEDULE_NOT_OBJECT', 'schedule'],
    [{ type: 'interval' }, 'SCHEDULE_UNKNOWN_TYPE', 'schedule.type'],
    [{}, 'SCHEDULE_UNKNOWN_TYPE', 'schedule.type'],
    [{ type: 'cron', cron: '* * * *' }, 'SCHEDULE_CRON_FIELD_COUNT', 'schedule.cron'],
    [{ type: 'cron', cron: '0 0 0 * * * *' }, 'SCHEDULE_CRON_FIELD_COUNT', 'schedule.cron'],
    [{ type: 'cron', cron: '0 25 * * *' }, 'SCHEDULE_CRON_RANGE', 'schedule.cron'],
    [{ type: 'cron' }, 'SCHEDULE_CRON_SYNTAX', 'schedule.cron'],
    [{ type: 'cron', cron: '0 0 30 2 *' }, 'SCHEDULE_NEVER_FIRES', 'schedule.cron'],
    [{ type: 'cron', cron: '0 0 * * *', timezone: 'Europe/Atlantis' }, 'SCHEDULE_UNKNOWN_TIMEZONE', 'schedule.timezone'],
    [{ type: 'cron', cron: '0 0 * * *', timezone: '' }, 'SCHEDULE_UNKNOWN_TIMEZONE', 'schedule.timezone'],
    [{ type: 'cron', cron: '0 0 * * *', timezone: 5 }, 'SCHEDULE_UNKNOWN_TIMEZONE', 'schedule.timezone'],
    [{ type: 'cron', cron: '0 0 * * *', startAt: '2026-05-01T00:00:00Z', endAt: '2026-04-01T00:00:00Z' }, 'SCHEDULE_END_BEFORE_START', 'schedule.endAt'],
    [{ type: 'cron', cron: '0 0 * * *', startAt: 'tomorrow' }, 'SCHEDULE_INVALID_DATE', 'schedule.startAt'],
    [{ type: 'cron', cron: '0 0 * * *', startAt: '2026-05-01T00:00:00' }, 'SCHEDULE_INVALID_DATE', 'schedule.startAt'],
    [{ type: 'cron', cron: '0 0 * * *', endAt: '2026-02-30T00:00:00Z' }, 'SCHEDULE_INVALID_DATE', 'schedule.endAt'],
    [{ type: 'cron', cron: '0 0 * * *', endAt: new Date(Number.NaN) }, 'SCHEDULE_INVALID_DATE', 'schedule.endAt'],
    [{ type: 'cron', cron: '0 0 * * *', endAt: 1.5 }, 'SCHEDULE_INVALID_DATE', 'schedule.endAt'],
    [{ type: 'cron', cron: '0 0 * * *', endAt: '2025-06-01T00:00:00Z' }, 'SCHEDULE_NEVER_FIRES', 'schedule.endAt'],
    [{ type: 'cron', cron: '0 0 * * *', startAt: '2026-03-01T00:30:00Z', endAt: '2026-03-01T23:00:00Z' }, 'SCHEDULE_NEVER_FIRES', 'schedule.endAt'],
    [{ type: 'cron', cron: '30 2 * 3 0#2', timezone: 'America/New_York', gap: 'skip' }, 'SCHEDULE_NEVER_FIRES', 'schedule.cron'],
    [{ type: 'cron', cron: '0 0 * * *', lateness: -1 }, 'SCHEDULE_INVALID_NUMBER', 'schedule.lateness'],
    [{ type: 'cron', cron: '0 0 * * *', lateness: 1.5 }, 'SCHEDULE_INVALID_NUMBER', 'schedule.lateness'],
    [{ type: 'cron', cron: '0 0 * * *', lateness: '60s' }, 'SCHEDULE_INVALID_NUMBER', 'schedule.lateness'],
    [{ type: 'cron', cron: '0 0 * * *', missed: { policy: 'all', cap: 0 } }, 'SCHEDULE_INVALID_NUMBER', 'schedule.missed.cap'],
    [{ type: 'cron', cron: '0 0 * * *', missed: { policy: 'all', window: 30_000 } }, 'SCHEDULE_INVALID_NUMBER', 'schedule.missed.window'],
    [{ type: 'cron', cron: '0 0 * * *', missed: { policy: 'some' } }, 'SCHEDULE_UNKNOWN_POLICY', 'schedule.missed.policy'],
    [{ type: 'cron', cron: '0 0 * * *', missed: 'never' }, 'SCHEDULE_UNKNOWN_POLICY', 'schedule.missed'],
    [{ type: 'cron', cron: '0 0 * * *', missed: [] }, 'SCHEDULE_UNKNOWN_POLICY', 'schedule.missed'],
    [{ type: 'cron', cron: '0 0 * * *', missed: { policy: 'all', max: 3 } }, 'SCHEDULE_UNKNOWN_OPTION', 'schedule.missed.max'],
    [{ type: 'cron', cron: '0 0 * * *', gap: 'later' }, 'SCHEDULE_UNKNOWN_POLICY', 'schedule.gap'],
    [{ type: 'cron', cron: '0 0 * * *', repeat: 'twice' }, 'SCHEDULE_UNKNOWN_POLICY', 'schedule.repeat'],
    [{ type: 'cron', cron: '0 0 * * *', overlap: 'replace' }, 'SCHEDULE_UNKNOWN_POLICY', 'schedule.overlap'],
    [{ type: 'cron', cron: '0 0 * * *', tz: 'UTC' }, 'SCHEDULE_UNKNOWN_OPTION', 'schedule.tz'],
    [{ type: 'at' }, 'SCHEDULE_INVALID_DATE', 'schedule.at'],
    [{ type: 'at', at: '01/02/2026' }, 'SCHEDULE_INVALID_DATE', 'schedule.at'],
    [{ type: 'at', at: 'x', cron: '* * * * *' }, 'SCHEDULE_UNKNOWN_OPTION', 'schedule.cron'],
    [{ type: 'now', lateness: 5 }, 'SCHEDULE_UNKNOWN_OPTION', 'schedule.lateness'],
  ])('refuses %j: %s at %s', (spec, code, path) => {
    const before = JSON.stringify(spec);
    const e = expectError(() => normalizeSchedule(spec, ctx), code, path);
    expect(e).toBeInstanceOf(ScheduleError);
    expect(JSON.stringify(spec)).toBe(before);
  });

  it('prefixes paths with the given one', () => {
    expectError(() => normalizeSchedule({ type: 'cron', cron: 'x' }, { now: NOW, path: 'patch.schedule' }), 'SCHEDULE_CRON_FIELD_COUNT', 'patch.schedule.cron');
  });

  it('refuses an invalid now', () => {
    expectError(() => normalizeSchedule({ type: 'now' }, { now: Number.NaN }), 'SCHEDULE_INVALID_DATE');
  });
});
