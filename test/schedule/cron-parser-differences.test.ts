import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { cron, listIso, utc } from './helpers.js';

// Where cron-parser 5.x (5.10.6 when written) differs from SEMANTICS.md, and why the
// library matches cron fields itself (see README.md beside this file). Each case pins
// our answer (written by hand) and cron-parser's. If a cron-parser upgrade makes a
// "cron-parser" assertion fail, it changed here: re-read its changelog, nothing else.

function theirs(expr: string, tz: string, from: string, n: number): string[] | 'throws' {
  const it = CronExpressionParser.parse(expr, { tz, currentDate: new Date(from) });
  const out: string[] = [];
  try {
    for (let i = 0; i < n; i++) out.push(new Date(it.next().getTime()).toISOString());
  } catch (error) {
    // The failure we document: cron-parser gives up ("loop limit exceeded").
    if (String(error).includes('loop limit')) return 'throws';
    throw error;
  }
  return out;
}

describe('cron-parser 5.x differences we correct', () => {
  it('Lord_Howe 30-minute gap: we shift 02:10 to 02:40; cron-parser skips the day', () => {
    expect(listIso(cron({ cron: '10 2 * * *', timezone: 'Australia/Lord_Howe' }), '2026-10-04T00:00:00+10:30', '2026-10-05T00:00:00+11:00')).toEqual(
      utc('2026-10-04T02:40:00+11:00'),
    );
    expect(theirs('10 2 * * *', 'Australia/Lord_Howe', '2026-10-03T00:00:00Z', 1)).toEqual(utc('2026-10-05T02:10:00+11:00'));
  });

  it('Lord_Howe fall-back day, every hour: we list it; cron-parser throws', () => {
    expect(listIso(cron({ cron: '0 * * * *', timezone: 'Australia/Lord_Howe' }), '2026-04-05T00:30:00+11:00', '2026-04-05T02:30:00+10:30')).toEqual(
      utc('2026-04-05T01:00:00+11:00', '2026-04-05T02:00:00+10:30'),
    );
    expect(theirs('0 * * * *', 'Australia/Lord_Howe', '2026-04-04T12:00:00Z', 6)).toBe('throws');
  });

  it('Lord_Howe fall back, every half hour: we run both 01:30s; cron-parser only the first', () => {
    expect(listIso(cron({ cron: '*/30 * * * *', timezone: 'Australia/Lord_Howe' }), '2026-04-05T01:20:00+11:00', '2026-04-05T02:10:00+10:30')).toEqual(
      utc('2026-04-05T01:30:00+11:00', '2026-04-05T01:30:00+10:30', '2026-04-05T02:00:00+10:30'),
    );
    expect(theirs('0,30 * * * *', 'Australia/Lord_Howe', '2026-04-04T14:20:00Z', 2)).toEqual(utc('2026-04-05T01:30:00+11:00', '2026-04-05T02:00:00+10:30'));
  });
});
