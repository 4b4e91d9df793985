import { describe, expect, it } from 'vitest';
import { planDue, type DuePlan, type NormalizedSchedule, type PlanEntry } from '../../src/schedule/index.js';
import { at, cron, expectError } from './helpers.js';

/** Entries with ISO times, for readable expectations. */
function show(plan: DuePlan): unknown[] {
  return plan.entries.map((e: PlanEntry) =>
    e.action === 'run'
      ? `run ${new Date(e.time).toISOString()}${e.catchUp ? ' catch-up' : ''}`
      : `skip ${e.reason} x${e.count} ${new Date(e.first).toISOString()}..${new Date(e.last).toISOString()}`,
  );
}

const hourly = (missed: 'skip' | 'latest' | 'all' | { policy: 'all'; window?: number; cap?: number }, lateness?: number) =>
  cron({ cron: '0 * * * *', missed, ...(lateness === undefined ? {} : { lateness }) });

describe('lateness', () => {
  it('an occurrence found within lateness runs; later it is missed', () => {
    const c = hourly('skip');
    const inside = planDue(c, { cursor: at('2026-03-01T09:30:00Z'), now: at('2026-03-01T10:01:00Z') });
    expect(show(inside)).toEqual(['run 2026-03-01T10:00:00.000Z']);
    expect(inside.entries[0]).toMatchObject({ lateBy: 60_000, wallClock: '2026-03-01T10:00:00', catchUp: false });
    const outside = planDue(c, { cursor: at('2026-03-01T09:30:00Z'), now: at('2026-03-01T10:01:00.001Z') });
    expect(show(outside)).toEqual(['skip missed x1 2026-03-01T10:00:00.000Z..2026-03-01T10:00:00.000Z']);
  });

  it('a custom lateness, and 0 (only an exact wake-up is on time)', () => {
    expect(show(planDue(hourly('skip', 10 * 60_000), { cursor: at('2026-03-01T09:30:00Z'), now: at('2026-03-01T10:09:59Z') }))).toEqual([
      'run 2026-03-01T10:00:00.000Z',
    ]);
    expect(show(planDue(hourly('skip', 0), { cursor: at('2026-03-01T09:30:00Z'), now: at('2026-03-01T10:00:00Z') }))).toEqual(['run 2026-03-01T10:00:00.000Z']);
    expect(planDue(hourly('skip', 0), { cursor: at('2026-03-01T09:30:00Z'), now: at('2026-03-01T10:00:00.001Z') }).entries[0]).toMatchObject({
      action: 'skip',
      reason: 'missed',
    });
  });
});

describe('missed occurrences after downtime (down from 03:30 to 10:00:30)', () => {
  const cursor = at('2026-03-01T03:30:00Z');

  it('skip: all missed are one skipped record; the on-time one runs', () => {
    expect(show(planDue(hourly('skip'), { cursor, now: at('2026-03-01T10:00:30Z') }))).toEqual([
      'skip missed x6 2026-03-01T04:00:00.000Z..2026-03-01T09:00:00.000Z',
      'run 2026-03-01T10:00:00.000Z',
    ]);
  });

  it('latest: the most recent missed one runs, the others are skipped', () => {
    const plan = planDue(hourly('latest'), { cursor, now: at('2026-03-01T10:30:00Z') });
    expect(show(plan)).toEqual(['skip missed x6 2026-03-01T04:00:00.000Z..2026-03-01T09:00:00.000Z', 'run 2026-03-01T10:00:00.000Z catch-up']);
    expect(plan.entries[1]).toMatchObject({ lateBy: 30 * 60_000 });
  });

  it('latest: no catch-up when an on-time occurrence runs anyway', () => {
    expect(show(planDue(hourly('latest'), { cursor, now: at('2026-03-01T10:00:30Z') }))).toEqual([
      'skip missed x6 2026-03-01T04:00:00.000Z..2026-03-01T09:00:00.000Z',
      'run 2026-03-01T10:00:00.000Z',
    ]);
  });

  it('all: every missed one within the window runs, capped to the most recent', () => {
    expect(show(planDue(hourly({ policy: 'all' }), { cursor, now: at('2026-03-01T09:30:00Z') }))).toEqual([
      'run 2026-03-01T04:00:00.000Z catch-up',
      'run 2026-03-01T05:00:00.000Z catch-up',
      'run 2026-03-01T06:00:00.000Z catch-up',
      'run 2026-03-01T07:00:00.000Z catch-up',
      'run 2026-03-01T08:00:00.000Z catch-up',
      'run 2026-03-01T09:00:00.000Z catch-up',
    ]);
    expect(show(planDue(hourly({ policy: 'all', window: 3 * 3_600_000 }), { cursor, now: at('2026-03-01T09:30:00Z') }))).toEqual([
      'skip missed x3 2026-03-01T04:00:00.000Z..2026-03-01T06:00:00.000Z',
      'run 2026-03-01T07:00:00.000Z catch-up',
      'run 2026-03-01T08:00:00.000Z catch-up',
      'run 2026-03-01T09:00:00.000Z catch-up',
    ]);
    expect(show(planDue(hourly({ policy: 'all', cap: 2 }), { cursor, now: at('2026-03-01T10:00:30Z') }))).toEqual([
      'skip missed x4 2026-03-01T04:00:00.000Z..2026-03-01T07:00:00.000Z',
      'run 2026-03-01T08:00:00.000Z catch-up',
      'run 2026-03-01T09:00:00.000Z catch-up',
      'run 2026-03-01T10:00:00.000Z',
    ]);
  });

  it('counts a month-long outage of a per-second schedule without listing it', () => {
    const c = cron({ cron: '* * * * * *', missed: 'skip' });
    const plan = planDue(c, { cursor: at('2026-04-01T00:00:00Z'), now: at('2026-05-01T00:00:00Z') });
    // The last 61 (23:59:00 to 00:00:00) are within the 60 s lateness and run.
    expect(plan.entries).toHaveLength(1 + 61);
    expect(plan.entries[0]).toEqual({
      action: 'skip',
      reason: 'missed',
      count: 30 * 86_400 - 61,
      first: at('2026-04-01T00:00:01Z'),
      last: at('2026-04-30T23:58:59Z'),
    });
    expect(plan.entries[1]).toMatchObject({ action: 'run', time: at('2026-04-30T23:59:00Z'), catchUp: false });
    expect(plan.entries[61]).toMatchObject({ action: 'run', time: at('2026-05-01T00:00:00Z'), lateBy: 0 });
  });
});

describe('paused', () => {
  it('occurrences in a pause are skipped as paused and never caught up, whatever the missed policy', () => {
    for (const missed of ['skip', 'latest', { policy: 'all' }] as const) {
      const plan = planDue(hourly(missed), {
        cursor: at('2026-03-01T03:30:00Z'),
        now: at('2026-03-01T10:00:10Z'),
        paused: [{ from: at('2026-03-01T03:45:00Z'), to: at('2026-03-01T09:59:00Z') }],
      });
      expect(show(plan)).toEqual(['skip paused x6 2026-03-01T04:00:00.000Z..2026-03-01T09:00:00.000Z', 'run 2026-03-01T10:00:00.000Z']);
    }
  });

  it('a pause still open skips the on-time occurrence too; the next wake-up is still given', () => {
    const plan = planDue(hourly('latest'), { cursor: at('2026-03-01T09:30:00Z'), now: at('2026-03-01T10:00:05Z'), paused: [{ from: at('2026-03-01T09:40:00Z') }] });
    expect(show(plan)).toEqual(['skip paused x1 2026-03-01T10:00:00.000Z..2026-03-01T10:00:00.000Z']);
    expect(plan.next).toBe(at('2026-03-01T11:00:00Z'));
  });

  it('a job paused now catches nothing up, even what it missed before the pause', () => {
    for (const missed of ['latest', { policy: 'all' }] as const) {
      const plan = planDue(hourly(missed), { cursor: at('2026-03-01T03:30:00Z'), now: at('2026-03-01T10:30:00Z'), paused: [{ from: at('2026-03-01T09:30:00Z') }] });
      expect(show(plan)).toEqual([
        'skip missed x6 2026-03-01T04:00:00.000Z..2026-03-01T09:00:00.000Z',
        'skip paused x1 2026-03-01T10:00:00.000Z..2026-03-01T10:00:00.000Z',
      ]);
    }
  });

  it('pause bounds: [from, to)', () => {
    const plan = planDue(hourly('skip', 24 * 3_600_000), {
      cursor: at('2026-03-01T03:30:00Z'),
      now: at('2026-03-01T08:30:00Z'),
      paused: [{ from: at('2026-03-01T05:00:00Z'), to: at('2026-03-01T07:00:00Z') }],
    });
    expect(show(plan)).toEqual([
      'run 2026-03-01T04:00:00.000Z',
      'skip paused x2 2026-03-01T05:00:00.000Z..2026-03-01T06:00:00.000Z',
      'run 2026-03-01T07:00:00.000Z',
      'run 2026-03-01T08:00:00.000Z',
    ]);
  });

  it('missed, paused and missed again are three records', () => {
    const plan = planDue(hourly('skip'), {
      cursor: at('2026-03-01T00:30:00Z'),
      now: at('2026-03-01T09:30:00Z'),
      paused: [{ from: at('2026-03-01T03:00:00Z'), to: at('2026-03-01T05:00:00Z') }],
    });
    expect(show(plan)).toEqual([
      'skip missed x2 2026-03-01T01:00:00.000Z..2026-03-01T02:00:00.000Z',
      'skip paused x2 2026-03-01T03:00:00.000Z..2026-03-01T04:00:00.000Z',
      'skip missed x5 2026-03-01T05:00:00.000Z..2026-03-01T09:00:00.000Z',
    ]);
  });
});

describe('DST in the plan', () => {
  it('a dst skip is recorded as such, also inside a missed span', () => {
    const c = cron({ cron: '30 2 * * *', timezone: 'America/New_York', gap: 'skip', missed: 'skip' });
    const onTime = planDue(c, { cursor: at('2026-03-08T03:20:00-04:00'), now: at('2026-03-08T03:30:30-04:00') });
    expect(show(onTime)).toEqual(['skip dst x1 2026-03-08T07:30:00.000Z..2026-03-08T07:30:00.000Z']);
    const down = planDue(c, { cursor: at('2026-03-06T00:00:00-05:00'), now: at('2026-03-10T12:00:00-04:00') });
    expect(show(down)).toEqual([
      'skip missed x2 2026-03-06T07:30:00.000Z..2026-03-07T07:30:00.000Z',
      'skip dst x1 2026-03-08T07:30:00.000Z..2026-03-08T07:30:00.000Z',
      'skip missed x2 2026-03-09T06:30:00.000Z..2026-03-10T06:30:00.000Z',
    ]);
  });

  it('the next wake-up includes a dst skip, so the ledger records it on time', () => {
    const c = cron({ cron: '30 2 * * *', timezone: 'America/New_York', gap: 'skip' });
    expect(planDue(c, { cursor: null, now: at('2026-03-07T12:00:00-05:00') }).next).toBe(at('2026-03-08T03:30:00-04:00'));
  });

  it('both 01:30s run with repeat both', () => {
    const c = cron({ cron: '30 1 * * *', timezone: 'America/New_York', repeat: 'both', lateness: 2 * 3_600_000 });
    expect(show(planDue(c, { cursor: at('2026-11-01T00:00:00-04:00'), now: at('2026-11-01T02:00:00-05:00') }))).toEqual([
      'run 2026-11-01T05:30:00.000Z',
      'run 2026-11-01T06:30:00.000Z',
    ]);
  });
});

describe('cursor, bounds and the end', () => {
  it('cursor null starts the schedule now; nothing before is due', () => {
    const plan = planDue(hourly('latest'), { cursor: null, now: at('2026-03-01T10:00:30Z') });
    expect(plan).toEqual({ entries: [], cursor: at('2026-03-01T10:00:30Z'), next: at('2026-03-01T11:00:00Z'), done: false });
  });

  it('an occurrence exactly at the cursor was handled; one exactly at now is due', () => {
    expect(show(planDue(hourly('skip'), { cursor: at('2026-03-01T10:00:00Z'), now: at('2026-03-01T11:00:00Z') }))).toEqual(['run 2026-03-01T11:00:00.000Z']);
  });

  it('a clock that went back plans nothing and keeps the cursor', () => {
    const plan = planDue(hourly('skip'), { cursor: at('2026-03-01T10:00:00Z'), now: at('2026-03-01T09:00:00Z') });
    expect(plan).toMatchObject({ entries: [], cursor: at('2026-03-01T10:00:00Z'), next: at('2026-03-01T11:00:00Z') });
  });

  it('startAt and endAt bound the plan; past endAt the schedule is done', () => {
    const c = cron({ cron: '0 * * * *', startAt: '2026-03-01T05:00:00Z', endAt: '2026-03-01T07:00:00Z', missed: 'skip' });
    const plan = planDue(c, { cursor: at('2026-03-01T00:00:00Z'), now: at('2026-03-01T12:00:00Z') });
    expect(show(plan)).toEqual(['skip missed x3 2026-03-01T05:00:00.000Z..2026-03-01T07:00:00.000Z']);
    expect(plan).toMatchObject({ next: null, done: true });
    const before = planDue(c, { cursor: at('2026-03-01T00:00:00Z'), now: at('2026-03-01T04:00:00Z') });
    expect(before).toMatchObject({ entries: [], next: at('2026-03-01T05:00:00Z'), done: false });
  });
});

describe('one-offs', () => {
  const oneOff: NormalizedSchedule = { type: 'at', at: at('2026-05-01T12:00:00Z') };

  it('waits for its time, then runs once', () => {
    expect(planDue(oneOff, { cursor: null, now: at('2026-05-01T11:00:00Z') })).toEqual({ entries: [], cursor: null, next: oneOff.at, done: false });
    const fired = planDue(oneOff, { cursor: null, now: at('2026-05-01T12:00:00Z') });
    expect(show(fired)).toEqual(['run 2026-05-01T12:00:00.000Z']);
    expect(fired).toMatchObject({ cursor: at('2026-05-01T12:00:00Z'), next: null, done: true });
    expect(planDue(oneOff, { cursor: fired.cursor, now: at('2026-05-01T13:00:00Z') })).toMatchObject({ entries: [], next: null, done: true });
  });

  it('an at in the past runs at once, however late (no lateness or missed policy for one-offs)', () => {
    const plan = planDue(oneOff, { cursor: null, now: at('2026-06-01T00:00:00Z') });
    expect(plan.entries).toEqual([{ action: 'run', time: oneOff.at, wallClock: '2026-05-01T12:00:00', lateBy: at('2026-06-01T00:00:00Z') - oneOff.at, catchUp: false }]);
  });

  it('now runs at once', () => {
    const now: NormalizedSchedule = { type: 'now', at: at('2026-05-01T12:00:00Z') };
    expect(show(planDue(now, { cursor: null, now: at('2026-05-01T12:00:00Z') }))).toEqual(['run 2026-05-01T12:00:00.000Z']);
  });
});

describe('bad planner input', () => {
  it.each([
    [{ cursor: null, now: Number.NaN }, 'input.now'],
    [{ cursor: Number.POSITIVE_INFINITY, now: 0 }, 'input.cursor'],
    [{ cursor: null, now: 0, paused: [{ from: 10, to: 5 }] }, 'input.paused[0]'],
  ])('%j is refused with a typed error', (input, path) => {
    expectError(() => planDue(hourly('skip'), input), 'PLAN_INVALID_INPUT', path);
  });

  it('a stored schedule in a zone this runtime does not know gives a typed error', () => {
    const stored = { ...hourly('skip').schedule, timezone: 'Mars/Olympus_Mons' } as NormalizedSchedule;
    expectError(() => planDue(stored, { cursor: null, now: 0 }), 'SCHEDULE_UNKNOWN_TIMEZONE', 'schedule.timezone');
  });
});
