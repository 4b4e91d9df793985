import type { CronMatcher } from './cron-match.js';
import type { DstKind, GapPolicy, RepeatPolicy } from './types.js';
import type { ZoneRules, ZoneSegment } from './zone.js';

/** An occurrence before formatting: its instant, its wall-clock time and how it relates to DST. */
export interface RawOccurrence {
  readonly time: number;
  readonly wall: number;
  readonly dst: DstKind | undefined;
  /** `gap: 'skip'` drops it. */
  readonly skipped: boolean;
}

/**
 * The instants of a cron schedule in a time zone, with the DST rules of docs/semantics.md ("Schedules and their policies").
 *
 * Time is cut into segments of constant UTC offset (between two transitions). In a
 * segment with offset `o`, a wall time `w` that matches the fields runs at `w - o`
 * ("genuine"), except that a wall time occurring twice (a fold: the clock falls back)
 * keeps only the instance(s) `repeat` asks for. A segment that starts with a gap (the
 * clock jumps forward by `D`) also holds the wall times inside the gap, shifted: `w`
 * runs at `w - before` (= `w + D` on the new clock), or is a `dst` skip with
 * `gap: 'skip'`; one that lands on a genuine occurrence merges into it (it runs once).
 * When the hour field is `*` the schedule instead runs at every real instant whose wall
 * time matches: both instances in a fold, nothing for a time inside a gap (no hour is
 * lost: the hour before and after the gap are one real hour apart).
 *
 * Shifted times can come after later genuine ones (Lord Howe: 02:10 shifted to 02:40
 * comes after 02:35), so each segment yields the smaller of its next genuine and its
 * next shifted time: occurrences always come out in strictly increasing time.
 */
export class CronTimes {
  readonly #m: CronMatcher;
  readonly #zone: ZoneRules;
  readonly #gap: GapPolicy;
  readonly #repeat: RepeatPolicy;

  constructor(matcher: CronMatcher, zone: ZoneRules, gap: GapPolicy, repeat: RepeatPolicy) {
    this.#m = matcher;
    this.#zone = zone;
    this.#gap = gap;
    this.#repeat = repeat;
  }

  /** The first occurrence with `after < time <= limit` (dst skips only when `includeSkipped`). */
  next(after: number, limit: number, includeSkipped: boolean): RawOccurrence | null {
    let a = Math.floor(after);
    while (a < limit) {
      const seg = this.#zone.segmentAt(a + 1);
      const found = this.#nextInSegment(seg, a, includeSkipped);
      if (found !== null) return found.time <= limit ? found : null;
      a = seg.end - 1;
    }
    return null;
  }

  /** How many occurrences that run (dst skips excluded) have `after < time <= to`. */
  count(after: number, to: number): number {
    const m = this.#m;
    let n = 0;
    let a = Math.floor(after);
    const b = Math.floor(to);
    while (a < b) {
      const seg = this.#zone.segmentAt(a + 1);
      const hi = Math.min(b, seg.end - 1);
      const o = seg.offset;
      const wa = a + 1 + o;
      const wb = hi + 1 + o;
      n += m.countWall(wa, wb);
      if (!m.everyHour) {
        if (seg.before > o && this.#repeat === 'first') {
          n -= m.countWall(Math.max(wa, seg.start + o), Math.min(wb, seg.start + seg.before));
        }
        if (seg.after < o && this.#repeat === 'last') {
          n -= m.countWall(Math.max(wa, seg.end + seg.after), Math.min(wb, seg.end + o));
        }
        if (seg.before < o && this.#gap === 'shift') n += this.#gapWalls(seg, a, hi).length;
      }
      a = hi;
    }
    return n;
  }

  /** The `dst` skips (with `gap: 'skip'`) that have `after < time <= to`. */
  skips(after: number, to: number): RawOccurrence[] {
    const out: RawOccurrence[] = [];
    if (this.#gap !== 'skip' || this.#m.everyHour) return out;
    let a = Math.floor(after);
    const b = Math.floor(to);
    while (a < b) {
      const seg = this.#zone.segmentAt(a + 1);
      const hi = Math.min(b, seg.end - 1);
      if (seg.before < seg.offset) {
        for (const w of this.#gapWalls(seg, a, hi)) out.push({ time: w - seg.before, wall: w, dst: 'shifted', skipped: true });
      }
      a = hi;
    }
    return out;
  }

  #nextInSegment(seg: ZoneSegment, a: number, includeSkipped: boolean): RawOccurrence | null {
    const m = this.#m;
    const o = seg.offset;
    const wallEnd = seg.end + o;
    let from = Math.max(a + 1, seg.start) + o;
    let genuine = NaN;
    for (;;) {
      const w = m.nextWall(from, wallEnd);
      if (Number.isNaN(w)) break;
      const until = this.#excludedUntil(seg, w);
      if (until > w) {
        from = until;
        continue;
      }
      genuine = w;
      break;
    }
    let shifted = NaN;
    if (!m.everyHour && seg.before < o && (this.#gap === 'shift' || includeSkipped)) {
      shifted = m.nextWall(Math.max(a + 1 + seg.before, seg.start + seg.before), seg.start + o);
    }
    if (!Number.isNaN(shifted) && (Number.isNaN(genuine) || shifted - seg.before < genuine - o)) {
      return { time: shifted - seg.before, wall: shifted, dst: 'shifted', skipped: this.#gap === 'skip' };
    }
    if (Number.isNaN(genuine)) return null;
    return { time: genuine - o, wall: genuine, dst: this.#foldKind(seg, genuine), skipped: false };
  }

  /** When `w` (a matching wall time of the segment) is an instance `repeat` drops: the end of that range; else NaN. */
  #excludedUntil(seg: ZoneSegment, w: number): number {
    if (this.#m.everyHour) return NaN;
    const o = seg.offset;
    if (this.#repeat === 'first' && seg.before > o && w >= seg.start + o && w < seg.start + seg.before) {
      return seg.start + seg.before;
    }
    if (this.#repeat === 'last' && seg.after < o && w >= seg.end + seg.after && w < seg.end + o) {
      return seg.end + o;
    }
    return NaN;
  }

  #foldKind(seg: ZoneSegment, w: number): DstKind | undefined {
    if (seg.before > seg.offset && w < seg.start + seg.before) return 'second';
    if (seg.after < seg.offset && w >= seg.end + seg.after) return 'first';
    return undefined;
  }

  /**
   * Matching wall times inside the gap that opens `seg`, whose shifted instant is in
   * `(a, hi]` and does not coincide with a genuine occurrence.
   */
  #gapWalls(seg: ZoneSegment, a: number, hi: number): number[] {
    const m = this.#m;
    const out: number[] = [];
    const end = Math.min(hi + 1 + seg.before, seg.start + seg.offset);
    let w = m.nextWall(Math.max(a + 1 + seg.before, seg.start + seg.before), end);
    while (!Number.isNaN(w)) {
      const realWall = w - seg.before + seg.offset;
      const isGenuine = m.matchesWall(realWall) && !(this.#excludedUntil(seg, realWall) > realWall);
      if (!isGenuine) out.push(w);
      w = m.nextWall(w + 1, end);
    }
    return out;
  }
}
