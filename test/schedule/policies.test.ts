import { describe, expect, it } from 'vitest';
import {
  compressSkips,
  decideOverlap,
  GapPolicy,
  mergeSkips,
  MissedPolicy,
  OverlapDecision,
  OverlapPolicy,
  RepeatPolicy,
  SkipReason,
  type PlanEntry,
  type SkipEntry,
} from '../../src/schedule/index.js';

describe('policy constants', () => {
  it('name the values SEMANTICS.md uses', () => {
    expect(Object.values(GapPolicy)).toEqual(['shift', 'skip']);
    expect(Object.values(RepeatPolicy)).toEqual(['first', 'last', 'both']);
    expect(Object.values(MissedPolicy)).toEqual(['skip', 'latest', 'all']);
    expect(Object.values(OverlapPolicy)).toEqual(['allow', 'skip', 'queue', 'cancel-previous']);
    expect(Object.values(SkipReason).sort()).toEqual(['dst', 'missed', 'overlap', 'paused']);
  });
});

describe('decideOverlap', () => {
  it.each([
    ['allow', false, false, 'start'],
    ['allow', true, true, 'start'],
    ['skip', false, false, 'start'],
    ['skip', true, false, 'skip'],
    ['queue', false, false, 'start'],
    ['queue', true, false, 'queue'],
    ['queue', true, true, 'skip'],
    ['cancel-previous', false, false, 'start'],
    ['cancel-previous', true, false, 'cancel-previous'],
  ] as const)('%s, running %s, queued %s: %s', (policy, running, queued, expected) => {
    expect(decideOverlap(policy, { running, queued })).toBe(expected);
    expect(Object.values(OverlapDecision)).toContain(expected);
  });
});

describe('skip records', () => {
  const skip = (reason: SkipEntry['reason'], first: number, last = first, count = 1): SkipEntry => ({ action: 'skip', reason, count, first, last });

  it('merge when the reason is the same', () => {
    expect(mergeSkips(skip('overlap', 10, 20, 2), skip('overlap', 30))).toEqual(skip('overlap', 10, 30, 3));
    expect(mergeSkips(skip('overlap', 10), skip('missed', 30))).toBeNull();
  });

  it('compressSkips groups adjacent skips of one reason, not across a run or another reason', () => {
    const run: PlanEntry = { action: 'run', time: 40, wallClock: 'x', lateBy: 0, catchUp: false };
    expect(compressSkips([skip('overlap', 10), skip('overlap', 20), run, skip('overlap', 50), skip('dst', 60), skip('dst', 70), skip('overlap', 80)])).toEqual([
      skip('overlap', 10, 20, 2),
      run,
      skip('overlap', 50),
      skip('dst', 60, 70, 2),
      skip('overlap', 80),
    ]);
    expect(compressSkips([])).toEqual([]);
  });
});
