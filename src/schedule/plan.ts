import { OptionsError } from '../errors.js';
import { formatWall } from './civil.js';
import type { CompiledSchedule } from './compiled.js';
import { compressSkips } from './skips.js';
import type { DuePlan, NormalizedCron, Occurrence, PlanEntry, PlanInput, RunEntry, SkipReason } from './types.js';

/** A span of instants `(lo, hi]` of one kind. */
interface Piece {
  readonly lo: number;
  readonly hi: number;
  readonly kind: 'paused' | 'missed' | 'ontime';
}

/**
 * The pure planner of the timer loop: what to do with the occurrences in
 * `(cursor, now]`. Rules (docs/semantics.md, "Schedules and their policies"):
 * - A `dst` skip (`gap: 'skip'`) is recorded as such, whatever else holds.
 * - An occurrence inside a pause is skipped (`paused`) and never caught up.
 * - One at most `lateness` old (`now - time <= lateness`) runs.
 * - Older ones are missed: `skip` skips them all; `latest` runs the most recent one
 *   unless an on-time occurrence runs anyway; `all` runs the most recent `cap` of those
 *   at most `window` old. The others are skipped (`missed`). A job paused at `now`
 *   catches nothing up.
 * - Only occurrences in `[startAt, endAt]` exist.
 * Consecutive skips with one reason come as one entry with a count and a range, counted
 * without visiting each occurrence (a month's outage of a per-second schedule is cheap).
 *
 * One-offs: the occurrence runs once, as soon as `now >= at` (an `at` in the past runs
 * at once; lateness and missed policies do not apply), if `cursor` is `null` or before `at`.
 */
export function planSchedule(compiled: CompiledSchedule, input: PlanInput): DuePlan {
  checkInput(input);
  const s = compiled.schedule;
  const now = input.now;
  if (s.type !== 'cron') {
    if (input.cursor !== null && input.cursor >= s.at) {
      return { entries: [], cursor: Math.max(input.cursor, now), next: null, done: true };
    }
    if (now >= s.at) {
      const run: RunEntry = { action: 'run', time: s.at, wallClock: formatWall(s.at), lateBy: now - s.at, catchUp: false };
      return { entries: [run], cursor: now, next: null, done: true };
    }
    return { entries: [], cursor: input.cursor, next: s.at, done: false };
  }
  const cursor = input.cursor ?? now;
  const entries = cursor < now ? planSpan(compiled, s, cursor, now, input) : [];
  const after = Math.max(cursor, now);
  const next = compiled.next(after, { includeSkipped: true })?.time ?? null;
  return { entries, cursor: after, next, done: next === null };
}

function planSpan(compiled: CompiledSchedule, s: NormalizedCron, cursor: number, now: number, input: PlanInput): PlanEntry[] {
  const pieces = cut(cursor, now, now - s.lateness - 1, input);
  const onTime = new Map<Piece, Occurrence[]>();
  let onTimeRuns = 0;
  for (const p of pieces) {
    if (p.kind !== 'ontime') continue;
    const list = compiled.list(p.lo, p.hi, Infinity, true);
    onTime.set(p, list);
    onTimeRuns += list.filter((o) => o.skipped === undefined).length;
  }
  const missed = pieces.filter((p) => p.kind === 'missed');
  // A job paused now starts no batch, not even a catch-up of what it missed before.
  const pausedNow = pieces[pieces.length - 1]?.kind === 'paused';
  const catchUps = new Set(pausedNow ? [] : chooseCatchUps(compiled, s, missed, now, onTimeRuns > 0));

  const entries: PlanEntry[] = [];
  for (const p of pieces) {
    const list = onTime.get(p);
    if (list !== undefined) {
      for (const o of list) entries.push(o.skipped === undefined ? run(o, now, false) : skip('dst', 1, o.time, o.time));
      continue;
    }
    const reason: SkipReason = p.kind === 'paused' ? 'paused' : 'missed';
    const points: Array<{ time: number; entry: PlanEntry }> = compiled
      .skips(p.lo, p.hi)
      .map((o) => ({ time: o.time, entry: skip('dst', 1, o.time, o.time) }));
    for (const t of catchUps) {
      if (t > p.lo && t <= p.hi) points.push({ time: t, entry: run(compiled.next(t - 1) as Occurrence, now, true) });
    }
    points.sort((x, y) => x.time - y.time);
    let lo = p.lo;
    for (const point of points) {
      pushGroup(entries, compiled, reason, lo, point.time - 1);
      entries.push(point.entry);
      lo = point.time;
    }
    pushGroup(entries, compiled, reason, lo, p.hi);
  }
  return compressSkips(entries);
}

/** Cuts `(cursor, now]` at pause boundaries and at the lateness limit (`missed` is `t <= lateCut`). */
function cut(cursor: number, now: number, lateCut: number, input: PlanInput): Piece[] {
  const pauses = (input.paused ?? []).map((p) => ({ lo: p.from - 1, hi: p.to === undefined || p.to === null ? Infinity : p.to - 1 }));
  const points = new Set<number>([cursor, now]);
  for (const x of [lateCut, ...pauses.flatMap((p) => [p.lo, p.hi])]) if (x > cursor && x < now) points.add(x);
  const sorted = [...points].sort((a, b) => a - b);
  const pieces: Piece[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const lo = sorted[i - 1] as number;
    const hi = sorted[i] as number;
    const paused = pauses.some((p) => p.lo < hi && hi <= p.hi);
    pieces.push({ lo, hi, kind: paused ? 'paused' : hi <= lateCut ? 'missed' : 'ontime' });
  }
  return pieces;
}

/** The missed occurrences the policy runs, ascending. */
function chooseCatchUps(compiled: CompiledSchedule, s: NormalizedCron, missed: Piece[], now: number, onTimeRuns: boolean): number[] {
  const policy = s.missed.policy;
  if (policy === 'skip' || missed.length === 0) return [];
  if (policy === 'latest') {
    if (onTimeRuns) return [];
    for (let i = missed.length - 1; i >= 0; i--) {
      const p = missed[i] as Piece;
      const t = compiled.lastTime(p.lo, p.hi);
      if (!Number.isNaN(t)) return [t];
    }
    return [];
  }
  const windowLo = now - s.missed.window - 1;
  let remaining = s.missed.cap;
  const chosen: number[] = [];
  for (let i = missed.length - 1; i >= 0 && remaining > 0; i--) {
    const p = missed[i] as Piece;
    let lo = Math.max(p.lo, windowLo);
    if (lo >= p.hi) continue;
    const n = compiled.count(lo, p.hi);
    if (n > remaining) {
      // The smallest lo' whose span (lo', hi] holds exactly `remaining` occurrences.
      let a = lo;
      let b = p.hi;
      while (b - a > 1) {
        const mid = a + Math.floor((b - a) / 2);
        if (compiled.count(mid, p.hi) > remaining) a = mid;
        else b = mid;
      }
      lo = b;
    }
    const times = compiled.list(lo, p.hi, remaining, false).map((o) => o.time);
    chosen.unshift(...times);
    remaining -= times.length;
  }
  return chosen;
}

function pushGroup(entries: PlanEntry[], compiled: CompiledSchedule, reason: SkipReason, lo: number, hi: number): void {
  if (!(lo < hi)) return;
  const count = compiled.count(lo, hi);
  if (count === 0) return;
  entries.push(skip(reason, count, compiled.nextTime(lo, hi), compiled.lastTime(lo, hi)));
}

/** @throws {OptionsError} `PLAN_INVALID_INPUT` for a non-finite time or a pause that ends before it starts. */
function checkInput(input: PlanInput): void {
  const bad = (path: string, value: unknown, hint: string): never => {
    throw new OptionsError('PLAN_INVALID_INPUT', 'Invalid planner input', { path, value, hint });
  };
  if (!Number.isFinite(input.now)) bad('input.now', input.now, 'Give the clock time in epoch ms');
  if (input.cursor !== null && !Number.isFinite(input.cursor)) bad('input.cursor', input.cursor, 'Give epoch ms, or null when nothing was handled yet');
  (input.paused ?? []).forEach((p, i) => {
    const to = p.to ?? Infinity;
    if (!Number.isFinite(p.from) || Number.isNaN(to) || to < p.from) bad(`input.paused[${i}]`, p, 'A pause is { from, to? } in epoch ms with to >= from');
  });
}

function run(o: Occurrence, now: number, catchUp: boolean): RunEntry {
  return { action: 'run', time: o.time, wallClock: o.wallClock, lateBy: now - o.time, catchUp };
}

function skip(reason: SkipReason, count: number, first: number, last: number): PlanEntry {
  return { action: 'skip', reason, count, first, last };
}
