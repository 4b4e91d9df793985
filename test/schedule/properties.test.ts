import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileSchedule,
  normalizeSchedule,
  planDue,
  type CompiledSchedule,
  type NormalizedCron,
  type PlanEntry,
} from '../../src/schedule/index.js';
import { at, zones } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The 2026 change of each zone, as instants (see zone.test.ts). */
const CHANGES: ReadonlyArray<readonly [string, number]> = [
  ['America/New_York', at('2026-03-08T07:00:00Z')],
  ['America/New_York', at('2026-11-01T06:00:00Z')],
  ['Europe/Berlin', at('2026-03-29T01:00:00Z')],
  ['Europe/Berlin', at('2026-10-25T01:00:00Z')],
  ['Australia/Lord_Howe', at('2026-04-04T15:00:00Z')],
  ['Australia/Lord_Howe', at('2026-10-03T15:30:00Z')],
  ['America/Santiago', at('2026-04-05T03:00:00Z')],
  ['America/Santiago', at('2026-09-06T04:00:00Z')],
  ['UTC', at('2026-06-01T00:00:00Z')],
];

const hourField = fc.oneof(
  fc.constant('*'),
  fc.constantFrom('0', '1', '2', '3', '23', '22-23', '0-3', '1,2', '*/2', '2-4/2', '0,23'),
);
const minuteField = fc.oneof(fc.constantFrom('0', '30', '*/15', '10,35', '*/20', '45', '0,30', '5-10/5', '59', '*'));
const dayField = fc.constantFrom('* * *', '* * *', '* * SUN', '1-10 * *', '* 3,4,9,10,11 *');
const cronText = fc.tuple(minuteField, hourField, dayField).map(([m, h, d]) => `${m} ${h} ${d}`);
const options = fc.record({ gap: fc.constantFrom('shift' as const, 'skip' as const), repeat: fc.constantFrom('first' as const, 'last' as const, 'both' as const) });

function compile(text: string, timezone: string, extra: Partial<NormalizedCron> = {}): CompiledSchedule | null {
  try {
    return compileSchedule(normalizeSchedule({ type: 'cron', cron: text, timezone, ...extra }, { now: at('2025-01-01T00:00:00Z'), zones }), zones);
  } catch (error) {
    // A random combination may never fire (every occurrence in a skipped gap).
    if ((error as { code?: string }).code === 'SCHEDULE_NEVER_FIRES') return null;
    throw error;
  }
}

/**
 * The DST rules by brute force, independent of the library: real instants minute by
 * minute, their wall time from Intl directly, matching by cron-parser (asked in UTC, so
 * it only matches fields and does no DST of its own).
 */
function oracle(text: string, zone: string, gap: string, repeat: string, from: number, to: number): string[] {
  const { instantsOf, offBefore } = realClock(zone, from, to);
  const expr = CronExpressionParser.parse(text, { tz: 'UTC' });
  const matches = (w: number): boolean => expr.includesDate(new Date(w));
  const everyHour = expr.fields.hour.values.length === 24;
  const walls = [...instantsOf.keys()];
  const genuine = new Set<number>();
  const shifted: number[] = [];
  for (let w = Math.min(...walls); w <= Math.max(...walls); w += MIN) {
    if (!matches(w)) continue;
    const ts = instantsOf.get(w) ?? [];
    if (everyHour || ts.length === 1) for (const t of ts) genuine.add(t);
    else if (ts.length === 2) {
      if (repeat !== 'last') genuine.add(ts[0] as number);
      if (repeat !== 'first') genuine.add(ts[1] as number);
    } else if (ts.length === 0) shifted.push(w - offBefore);
  }
  const out = new Map<number, boolean>([...genuine].map((t) => [t, false])); // instant -> skipped
  for (const t of shifted) if (!genuine.has(t)) out.set(t, gap === 'skip');
  return [...out]
    .filter(([t]) => t >= from && t < to)
    .sort(([a], [b]) => a - b)
    .map(([t, skipped]) => new Date(t).toISOString() + (skipped ? ' skip' : ''));
}

const clocks = new Map<string, { instantsOf: Map<number, number[]>; offBefore: number }>();

/** Wall time (minutes) -> the real instants that show it, from Intl directly; kept per window. */
function realClock(zone: string, from: number, to: number): { instantsOf: Map<number, number[]>; offBefore: number } {
  const key = `${zone} ${from} ${to}`;
  const known = clocks.get(key);
  if (known !== undefined) return known;
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
  const wallOf = (t: number): number => {
    const p = Object.fromEntries(format.formatToParts(t).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year as number, (p.month as number) - 1, p.day as number, (p.hour as number) % 24, p.minute as number);
  };
  const pad = 3 * HOUR;
  const instantsOf = new Map<number, number[]>();
  for (let t = from - pad; t < to + pad; t += MIN) {
    const w = wallOf(t);
    instantsOf.set(w, [...(instantsOf.get(w) ?? []), t]);
  }
  const clock = { instantsOf, offBefore: wallOf(from - pad) - (from - pad) };
  clocks.set(key, clock);
  return clock;
}

describe('properties', () => {
  it('occurrences around each DST change match a brute-force reading of the rules', () => {
    fc.assert(
      fc.property(cronText, fc.constantFrom(...CHANGES), options, (text, [zone, change], o) => {
        const c = compile(text, zone, o);
        if (c === null) return;
        const from = change - 10 * HOUR;
        const to = change + 10 * HOUR;
        const ours = c.list(from - 1, to - 1, 10_000, true).map((x) => new Date(x.time).toISOString() + (x.skipped ? ' skip' : ''));
        expect(ours).toEqual(oracle(text, zone, o.gap, o.repeat, from, to));
      }),
      { numRuns: 150, seed: 42 },
    );
  }, 120_000);

  it('occurrences strictly increase and none is before startAt or after endAt', () => {
    fc.assert(
      fc.property(
        cronText,
        fc.constantFrom(...CHANGES),
        options,
        fc.integer({ min: -3 * 24, max: 3 * 24 }),
        fc.integer({ min: 1, max: 3 * 24 }),
        fc.boolean(),
        (text, [zone, change], o, startH, lengthH, withSeconds) => {
          const startAt = change + startH * HOUR + 7_000;
          const endAt = startAt + lengthH * HOUR;
          const c = compile(withSeconds ? `*/20 ${text}` : text, zone, { ...o, startAt, endAt });
          if (c === null) return;
          const list = c.list(startAt - 24 * HOUR, endAt + 24 * HOUR, 100_000, true);
          for (let i = 0; i < list.length; i++) {
            const t = (list[i] as { time: number }).time;
            expect(t).toBeGreaterThanOrEqual(startAt);
            expect(t).toBeLessThanOrEqual(endAt);
            if (i > 0) expect(t).toBeGreaterThan((list[i - 1] as { time: number }).time);
          }
          // Counting agrees with listing, and dst skips are exactly the skipped ones.
          const runs = list.filter((x) => x.skipped === undefined).length;
          expect(c.count(startAt - 24 * HOUR, endAt + 24 * HOUR)).toBe(runs);
          expect(c.skips(startAt - 24 * HOUR, endAt + 24 * HOUR)).toHaveLength(list.length - runs);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  }, 120_000);

  it('the planner accounts for every occurrence once, runs none in a pause, and follows its policy', () => {
    const pause = fc.record({ from: fc.integer({ min: -2 * 24 * 60, max: 3 * 24 * 60 }), len: fc.option(fc.integer({ min: 1, max: 24 * 60 }), { nil: undefined }) });
    fc.assert(
      fc.property(
        fc.constantFrom('*/5 * * * *', '0 * * * *', '*/30 * * * * *', '30 2 * * *', '*/10 1-3 * * *', '0 0 * * *'),
        fc.constantFrom(...CHANGES),
        options,
        fc.record({
          lateness: fc.constantFrom(0, 60_000, 10 * MIN, 2 * HOUR),
          policy: fc.constantFrom('skip' as const, 'latest' as const, 'all' as const),
          window: fc.constantFrom(3 * HOUR, 24 * HOUR, 7 * 24 * HOUR),
          cap: fc.integer({ min: 1, max: 30 }),
        }),
        fc.integer({ min: -2 * 24 * 60, max: 24 * 60 }),
        fc.integer({ min: 0, max: 3 * 24 * 60 }),
        fc.array(pause, { maxLength: 3 }),
        (text, [zone, change], o, p, cursorMin, spanMin, pauses) => {
          const c = compile(text, zone, { ...o, lateness: p.lateness, missed: { policy: p.policy, window: p.window, cap: p.cap } });
          if (c === null) return;
          const cursor = change + cursorMin * MIN + 13_000;
          const now = cursor + spanMin * MIN;
          const paused = pauses.map((x) => ({ from: change + x.from * MIN, to: x.len === undefined ? null : change + (x.from + x.len) * MIN }));
          const inPause = (t: number): boolean => paused.some((x) => t >= x.from && (x.to === null || t < x.to));
          const plan = planDue(c, { cursor, now, paused });

          expect(plan.cursor).toBe(now);
          if (plan.next !== null) expect(plan.next).toBeGreaterThan(now);
          const runs = plan.entries.filter((e) => e.action === 'run');
          const skips = plan.entries.filter((e): e is Extract<PlanEntry, { action: 'skip' }> => e.action === 'skip');
          // Every occurrence in (cursor, now] once.
          expect(runs.length + skips.filter((s) => s.reason !== 'dst').reduce((n, s) => n + s.count, 0)).toBe(c.count(cursor, now));
          expect(skips.filter((s) => s.reason === 'dst').reduce((n, s) => n + s.count, 0)).toBe(c.skips(cursor, now).length);
          // In time order, inside the span, grouped.
          let last = cursor;
          let prev: PlanEntry | undefined;
          for (const e of plan.entries) {
            const [first, end] = e.action === 'run' ? [e.time, e.time] : [e.first, e.last];
            expect(first).toBeGreaterThan(last);
            expect(end).toBeGreaterThanOrEqual(first);
            expect(end).toBeLessThanOrEqual(now);
            if (e.action === 'skip' && e.count === 1) expect(e.first).toBe(e.last);
            if (e.action === 'skip' && prev?.action === 'skip') expect(e.reason).not.toBe(prev.reason);
            last = end;
            prev = e;
          }
          // None runs in a pause; every on-time occurrence outside a pause runs.
          for (const r of runs) expect(inPause(r.time)).toBe(false);
          const onTime = c.list(Math.max(cursor, now - p.lateness - 1), now, 100_000, false).filter((x) => !inPause(x.time));
          expect(runs.filter((r) => !r.catchUp).map((r) => r.time)).toEqual(onTime.map((x) => x.time));
          // The missed policy.
          const catchUps = runs.filter((r) => r.catchUp);
          const eligible = c.list(cursor, now - p.lateness - 1, 100_000, false).filter((x) => !inPause(x.time));
          if (p.policy === 'skip' || inPause(now)) expect(catchUps).toHaveLength(0);
          if (p.policy === 'latest' && !inPause(now)) {
            const expected = onTime.length > 0 || eligible.length === 0 ? [] : [(eligible[eligible.length - 1] as { time: number }).time];
            expect(catchUps.map((r) => r.time)).toEqual(expected);
          }
          if (p.policy === 'all' && !inPause(now)) {
            const inWindow = eligible.filter((x) => now - x.time <= p.window).map((x) => x.time);
            expect(catchUps.map((r) => r.time)).toEqual(inWindow.slice(Math.max(0, inWindow.length - p.cap)));
          }
        },
      ),
      { numRuns: 300, seed: 99 },
    );
  }, 120_000);
});
