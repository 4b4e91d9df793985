import { describe, expect, it } from 'vitest';
import { cron, listIso, utc } from './helpers.js';

// Expectations are wall-clock times written with their UTC offset, worked out by hand
// from the zones' rules (checked against the transitions in zone.test.ts):
// New York   2026-03-08 02:00 EST(-5) -> 03:00 EDT(-4);  2026-11-01 02:00 EDT -> 01:00 EST
// Berlin     2026-03-29 02:00 CET(+1) -> 03:00 CEST(+2); 2026-10-25 03:00 CEST -> 02:00 CET
// Lord Howe  2026-10-04 02:00 (+10:30) -> 02:30 (+11);   2026-04-05 02:00 (+11) -> 01:30 (+10:30)
// Santiago   2026-09-06 00:00 (-4) -> 01:00 (-3);        2026-04-05 00:00 (-3) -> 04-04 23:00 (-4)

describe('gap (spring forward): a wall time that does not exist', () => {
  it.each([
    // zone, cron, window, expected with gap: 'shift', expected with gap: 'skip'
    [
      'America/New_York',
      '30 2 * * *',
      ['2026-03-07T00:00:00-05:00', '2026-03-10T00:00:00-04:00'],
      ['2026-03-07T02:30:00-05:00', '2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00'],
      ['2026-03-07T02:30:00-05:00', '2026-03-08T03:30:00-04:00 skip', '2026-03-09T02:30:00-04:00'],
    ],
    [
      'Europe/Berlin',
      '30 2 * * *',
      ['2026-03-28T00:00:00+01:00', '2026-03-31T00:00:00+02:00'],
      ['2026-03-28T02:30:00+01:00', '2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00'],
      ['2026-03-28T02:30:00+01:00', '2026-03-29T03:30:00+02:00 skip', '2026-03-30T02:30:00+02:00'],
    ],
    [
      // A 30-minute gap: 02:10 runs 30 minutes later, at 02:40.
      'Australia/Lord_Howe',
      '10 2 * * *',
      ['2026-10-03T00:00:00+10:30', '2026-10-06T00:00:00+11:00'],
      ['2026-10-03T02:10:00+10:30', '2026-10-04T02:40:00+11:00', '2026-10-05T02:10:00+11:00'],
      ['2026-10-03T02:10:00+10:30', '2026-10-04T02:40:00+11:00 skip', '2026-10-05T02:10:00+11:00'],
    ],
    [
      // The change at midnight: 00:00 of 09-06 does not exist and runs at 01:00.
      'America/Santiago',
      '0 0 * * *',
      ['2026-09-05T00:00:00-04:00', '2026-09-07T12:00:00-03:00'],
      ['2026-09-05T00:00:00-04:00', '2026-09-06T01:00:00-03:00', '2026-09-07T00:00:00-03:00'],
      ['2026-09-05T00:00:00-04:00', '2026-09-06T01:00:00-03:00 skip', '2026-09-07T00:00:00-03:00'],
    ],
    [
      'America/Santiago',
      '30 0 * * *',
      ['2026-09-05T00:00:00-04:00', '2026-09-07T12:00:00-03:00'],
      ['2026-09-05T00:30:00-04:00', '2026-09-06T01:30:00-03:00', '2026-09-07T00:30:00-03:00'],
      ['2026-09-05T00:30:00-04:00', '2026-09-06T01:30:00-03:00 skip', '2026-09-07T00:30:00-03:00'],
    ],
    [
      // 6 fields, seconds first.
      'America/New_York',
      '15 30 2 * * *',
      ['2026-03-08T00:00:00-05:00', '2026-03-09T00:00:00-04:00'],
      ['2026-03-08T03:30:15-04:00'],
      ['2026-03-08T03:30:15-04:00 skip'],
    ],
  ] as const)('%s %s', (timezone, expr, [from, to], shifted, skipped) => {
    expect(listIso(cron({ cron: expr, timezone, gap: 'shift' }), from, to)).toEqual(utc(...shifted));
    expect(listIso(cron({ cron: expr, timezone, gap: 'skip' }), from, to)).toEqual(utc(...skipped));
    // Without the skip entries, the skipped day has no occurrence at all.
    expect(listIso(cron({ cron: expr, timezone, gap: 'skip' }), from, to, false)).toEqual(
      utc(...skipped.filter((s) => !s.endsWith(' skip'))),
    );
  });

  it('labels a shifted occurrence with its wall-clock time and kind', () => {
    const [o] = cron({ cron: '10 2 * * *', timezone: 'Australia/Lord_Howe' }).list(Date.parse('2026-10-03T15:00:00Z'), Infinity, 1, true);
    expect(o).toEqual({ time: Date.parse('2026-10-04T02:40:00+11:00'), wallClock: '2026-10-04T02:10:00', dst: 'shifted' });
  });

  it('a shifted time that lands on another occurrence runs once', () => {
    // 02:30 shifts to 03:30 EDT, which is also the 03:30 occurrence.
    expect(listIso(cron({ cron: '30 2,3 * * *', timezone: 'America/New_York' }), '2026-03-08T00:00:00-05:00', '2026-03-09T00:00:00-04:00')).toEqual(
      utc('2026-03-08T03:30:00-04:00'),
    );
  });

  it('shifted times come out in time order (Lord Howe: 02:35 comes before 02:10 shifted to 02:40)', () => {
    expect(listIso(cron({ cron: '10,35 2 * * *', timezone: 'Australia/Lord_Howe' }), '2026-10-04T00:00:00+10:30', '2026-10-05T00:00:00+11:00')).toEqual(
      utc('2026-10-04T02:35:00+11:00', '2026-10-04T02:40:00+11:00'),
    );
  });

  it('every minute of a missing hour shifts by an hour', () => {
    const list = listIso(cron({ cron: '* 2 * * *', timezone: 'America/New_York' }), '2026-03-08T00:00:00-05:00', '2026-03-09T00:00:00-04:00');
    expect(list).toHaveLength(60);
    expect(list[0]).toBe(utc('2026-03-08T03:00:00-04:00')[0]);
    expect(list[59]).toBe(utc('2026-03-08T03:59:00-04:00')[0]);
  });
});

describe('repeat (fall back): a wall time that occurs twice', () => {
  it.each([
    // zone, cron, window, first instance, second instance
    ['America/New_York', '30 1 * * *', ['2026-11-01T00:00:00-04:00', '2026-11-01T12:00:00-05:00'], '2026-11-01T01:30:00-04:00', '2026-11-01T01:30:00-05:00'],
    ['Europe/Berlin', '30 2 * * *', ['2026-10-25T00:00:00+02:00', '2026-10-25T12:00:00+01:00'], '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00'],
    ['Australia/Lord_Howe', '45 1 * * *', ['2026-04-05T00:00:00+11:00', '2026-04-05T12:00:00+10:30'], '2026-04-05T01:45:00+11:00', '2026-04-05T01:45:00+10:30'],
    ['America/Santiago', '30 23 * * *', ['2026-04-04T12:00:00-03:00', '2026-04-05T12:00:00-04:00'], '2026-04-04T23:30:00-03:00', '2026-04-04T23:30:00-04:00'],
    ['America/New_York', '15 30 1 * * *', ['2026-11-01T00:00:00-04:00', '2026-11-01T12:00:00-05:00'], '2026-11-01T01:30:15-04:00', '2026-11-01T01:30:15-05:00'],
  ] as const)('%s %s', (timezone, expr, [from, to], first, second) => {
    expect(listIso(cron({ cron: expr, timezone }), from, to)).toEqual(utc(first));
    expect(listIso(cron({ cron: expr, timezone, repeat: 'first' }), from, to)).toEqual(utc(first));
    expect(listIso(cron({ cron: expr, timezone, repeat: 'last' }), from, to)).toEqual(utc(second));
    expect(listIso(cron({ cron: expr, timezone, repeat: 'both' }), from, to)).toEqual(utc(first, second));
    // The gap option does not touch a repeated time.
    expect(listIso(cron({ cron: expr, timezone, gap: 'skip', repeat: 'both' }), from, to)).toEqual(utc(first, second));
  });

  it('marks the two instances', () => {
    const list = cron({ cron: '30 1 * * *', timezone: 'America/New_York', repeat: 'both' }).list(Date.parse('2026-11-01T00:00:00Z'), Infinity, 3, true);
    expect(list.map((o) => [o.wallClock, o.dst])).toEqual([
      ['2026-11-01T01:30:00', 'first'],
      ['2026-11-01T01:30:00', 'second'],
      ['2026-11-02T01:30:00', undefined],
    ]);
  });

  it('"both" keeps time order when several repeated times interleave', () => {
    expect(listIso(cron({ cron: '*/20 2 * * *', timezone: 'Europe/Berlin', repeat: 'both' }), '2026-10-25T00:00:00+02:00', '2026-10-25T12:00:00+01:00')).toEqual(
      utc(
        '2026-10-25T02:00:00+02:00',
        '2026-10-25T02:20:00+02:00',
        '2026-10-25T02:40:00+02:00',
        '2026-10-25T02:00:00+01:00',
        '2026-10-25T02:20:00+01:00',
        '2026-10-25T02:40:00+01:00',
      ),
    );
  });

  it('a midnight-change zone: daily midnight is not repeated (the repeated hour is 23:00)', () => {
    expect(listIso(cron({ cron: '0 0 * * *', timezone: 'America/Santiago', repeat: 'both' }), '2026-04-03T12:00:00-03:00', '2026-04-06T12:00:00-04:00')).toEqual(
      utc('2026-04-04T00:00:00-03:00', '2026-04-05T00:00:00-04:00', '2026-04-06T00:00:00-04:00'),
    );
  });
});

describe('hour field * : every real instant that matches', () => {
  const options = [{}, { repeat: 'first' }, { repeat: 'last' }, { repeat: 'both' }, { gap: 'skip' }] as const;
  it.each([
    [
      'America/New_York fall back: both 01:00s',
      'America/New_York',
      '0 * * * *',
      ['2026-11-01T00:00:00-04:00', '2026-11-01T02:30:00-05:00'],
      ['2026-11-01T00:00:00-04:00', '2026-11-01T01:00:00-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T02:00:00-05:00'],
    ],
    [
      'America/New_York spring forward: no 02:00, nothing shifted onto 03:00',
      'America/New_York',
      '0 * * * *',
      ['2026-03-08T00:00:00-05:00', '2026-03-08T04:30:00-04:00'],
      ['2026-03-08T00:00:00-05:00', '2026-03-08T01:00:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T04:00:00-04:00'],
    ],
    [
      'Europe/Berlin fall back',
      'Europe/Berlin',
      '30 * * * *',
      ['2026-10-25T01:00:00+02:00', '2026-10-25T04:00:00+01:00'],
      ['2026-10-25T01:30:00+02:00', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00', '2026-10-25T03:30:00+01:00'],
    ],
    [
      'Europe/Berlin spring forward',
      'Europe/Berlin',
      '30 * * * *',
      ['2026-03-29T01:00:00+01:00', '2026-03-29T04:00:00+02:00'],
      ['2026-03-29T01:30:00+01:00', '2026-03-29T03:30:00+02:00'],
    ],
    [
      'Australia/Lord_Howe fall back (cron-parser throws here)',
      'Australia/Lord_Howe',
      '0 * * * *',
      ['2026-04-05T00:00:00+11:00', '2026-04-05T03:30:00+10:30'],
      ['2026-04-05T00:00:00+11:00', '2026-04-05T01:00:00+11:00', '2026-04-05T02:00:00+10:30', '2026-04-05T03:00:00+10:30'],
    ],
    [
      'Australia/Lord_Howe fall back, half hours: both 01:30s',
      'Australia/Lord_Howe',
      '*/30 * * * *',
      ['2026-04-05T01:00:00+11:00', '2026-04-05T02:15:00+10:30'],
      ['2026-04-05T01:00:00+11:00', '2026-04-05T01:30:00+11:00', '2026-04-05T01:30:00+10:30', '2026-04-05T02:00:00+10:30'],
    ],
    [
      'Australia/Lord_Howe spring forward: 02:10 does not exist and is not shifted',
      'Australia/Lord_Howe',
      '10 * * * *',
      ['2026-10-04T01:00:00+10:30', '2026-10-04T04:00:00+11:00'],
      ['2026-10-04T01:10:00+10:30', '2026-10-04T03:10:00+11:00'],
    ],
    [
      'Australia/Lord_Howe spring forward, quarters',
      'Australia/Lord_Howe',
      '*/15 * * * *',
      ['2026-10-04T01:40:00+10:30', '2026-10-04T03:00:00+11:00'],
      ['2026-10-04T01:45:00+10:30', '2026-10-04T02:30:00+11:00', '2026-10-04T02:45:00+11:00'],
    ],
    [
      'America/Santiago fall back at midnight: both 23:00s',
      'America/Santiago',
      '0 * * * *',
      ['2026-04-04T21:30:00-03:00', '2026-04-05T00:30:00-04:00'],
      ['2026-04-04T22:00:00-03:00', '2026-04-04T23:00:00-03:00', '2026-04-04T23:00:00-04:00', '2026-04-05T00:00:00-04:00'],
    ],
    [
      'America/Santiago spring forward at midnight: no 00:00',
      'America/Santiago',
      '0 * * * *',
      ['2026-09-05T22:30:00-04:00', '2026-09-06T02:30:00-03:00'],
      ['2026-09-05T23:00:00-04:00', '2026-09-06T01:00:00-03:00', '2026-09-06T02:00:00-03:00'],
    ],
    [
      'America/New_York fall back, 6 fields every 20 s across the change',
      'America/New_York',
      '*/20 * * * * *',
      ['2026-11-01T01:59:20-04:00', '2026-11-01T01:00:40-05:00'],
      ['2026-11-01T01:59:20-04:00', '2026-11-01T01:59:40-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T01:00:20-05:00'],
    ],
  ] as const)('%s', (_name, timezone, expr, [from, to], expected) => {
    for (const o of options) expect(listIso(cron({ cron: expr, timezone, ...o }), from, to)).toEqual(utc(...expected));
  });

  it('counts every real second of a 25-hour day once', () => {
    const c = cron({ cron: '* * * * * *', timezone: 'America/New_York' });
    expect(c.count(Date.parse('2026-11-01T00:00:00-04:00') - 1, Date.parse('2026-11-02T00:00:00-05:00') - 1)).toBe(25 * 3600);
    expect(c.count(Date.parse('2026-03-08T00:00:00-05:00') - 1, Date.parse('2026-03-09T00:00:00-04:00') - 1)).toBe(23 * 3600);
  });
});

describe('2027 change days (dates read from the zone rules, not fixed)', () => {
  it.each([
    ['America/New_York', '30 2 * * *', '2027-03-14T00:00:00-05:00', '2027-03-14T03:30:00-04:00'],
    ['Europe/Berlin', '30 2 * * *', '2027-03-28T00:00:00+01:00', '2027-03-28T03:30:00+02:00'],
    ['Australia/Lord_Howe', '10 2 * * *', '2027-10-03T00:00:00+10:30', '2027-10-03T02:40:00+11:00'],
    ['America/Santiago', '0 0 * * *', '2027-09-05T00:00:00-04:00', '2027-09-05T01:00:00-03:00'],
  ] as const)('%s gap', (timezone, expr, from, expected) => {
    const [o] = cron({ cron: expr, timezone }).list(Date.parse(from) - 1, Infinity, 1, true);
    expect(new Date(o?.time ?? NaN).toISOString()).toBe(utc(expected)[0]);
  });

  it.each([
    ['America/New_York', '30 1 * * *', '2027-11-07T00:00:00-04:00', '2027-11-07T01:30:00-04:00', '2027-11-07T01:30:00-05:00'],
    ['Europe/Berlin', '30 2 * * *', '2027-10-31T00:00:00+02:00', '2027-10-31T02:30:00+02:00', '2027-10-31T02:30:00+01:00'],
    ['Australia/Lord_Howe', '45 1 * * *', '2027-04-04T00:00:00+11:00', '2027-04-04T01:45:00+11:00', '2027-04-04T01:45:00+10:30'],
    ['America/Santiago', '30 23 * * *', '2027-04-03T12:00:00-03:00', '2027-04-03T23:30:00-03:00', '2027-04-03T23:30:00-04:00'],
  ] as const)('%s fold', (timezone, expr, from, first, second) => {
    const list = cron({ cron: expr, timezone, repeat: 'both' }).list(Date.parse(from) - 1, Infinity, 2, true);
    expect(list.map((o) => new Date(o.time).toISOString())).toEqual(utc(first, second));
  });
});
