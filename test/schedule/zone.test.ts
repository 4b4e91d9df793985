import { describe, expect, it } from 'vitest';
import { ZoneCache } from '../../src/schedule/zone.js';
import { at } from './helpers.js';

const H = 3_600_000;

describe('ZoneRules: transitions learned from Intl', () => {
  // Each transition: the instant it happens, the offsets before and after (hours), as
  // published in the tz database for 2026/2027.
  it.each([
    ['America/New_York', '2026-03-08T07:00:00Z', -5, -4],
    ['America/New_York', '2026-11-01T06:00:00Z', -4, -5],
    ['America/New_York', '2027-03-14T07:00:00Z', -5, -4],
    ['America/New_York', '2027-11-07T06:00:00Z', -4, -5],
    ['Europe/Berlin', '2026-03-29T01:00:00Z', 1, 2],
    ['Europe/Berlin', '2026-10-25T01:00:00Z', 2, 1],
    ['Europe/Berlin', '2027-03-28T01:00:00Z', 1, 2],
    ['Europe/Berlin', '2027-10-31T01:00:00Z', 2, 1],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z', 11, 10.5],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z', 10.5, 11],
    ['Australia/Lord_Howe', '2027-04-03T15:00:00Z', 11, 10.5],
    ['Australia/Lord_Howe', '2027-10-02T15:30:00Z', 10.5, 11],
    ['America/Santiago', '2026-04-05T03:00:00Z', -3, -4],
    ['America/Santiago', '2026-09-06T04:00:00Z', -4, -3],
    ['America/Santiago', '2027-04-04T03:00:00Z', -3, -4],
    ['America/Santiago', '2027-09-05T04:00:00Z', -4, -3],
  ] as const)('%s %s: %d -> %d', (zone, iso, before, after) => {
    const rules = new ZoneCache().get(zone);
    const t = at(iso);
    expect(rules.offsetAt(t - 1000)).toBe(before * H);
    expect(rules.offsetAt(t)).toBe(after * H);
    const seg = rules.segmentAt(t - 1000);
    expect(seg).toMatchObject({ end: t, offset: before * H, after: after * H });
    expect(rules.segmentAt(t)).toMatchObject({ start: t, offset: after * H, before: before * H });
  });

  it('has no transitions in UTC and in a zone without DST', () => {
    const zones = new ZoneCache();
    for (const zone of ['UTC', 'Asia/Tokyo']) {
      const seg = zones.get(zone).segmentAt(at('2026-06-01T00:00:00Z'));
      expect(seg.before).toBe(seg.offset);
      expect(seg.after).toBe(seg.offset);
    }
    expect(zones.get('Asia/Tokyo').offsetAt(at('2026-06-01T00:00:00Z'))).toBe(9 * H);
  });

  it('finds the segment when the last transition was in the previous year', () => {
    const seg = new ZoneCache().get('America/New_York').segmentAt(at('2027-01-15T00:00:00Z'));
    expect(seg).toMatchObject({ start: at('2026-11-01T06:00:00Z'), end: at('2027-03-14T07:00:00Z'), offset: -5 * H, before: -4 * H, after: -4 * H });
  });

  it('resolves names as Intl does and refuses unknown ones', () => {
    const zones = new ZoneCache();
    expect(zones.get('utc').zone).toBe('UTC');
    expect(zones.get('europe/berlin')).toBe(zones.get('Europe/Berlin'));
    expect(() => zones.get('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});
