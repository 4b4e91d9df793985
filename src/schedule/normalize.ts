import { ScheduleError, joinPath } from '../errors.js';
import { CompiledSchedule } from './compiled.js';
import { parseCron } from './cron-parse.js';
import { parseInstant } from './instant.js';
import {
  GapPolicy,
  MissedPolicy,
  OverlapPolicy,
  RepeatPolicy,
  type NormalizedCron,
  type NormalizedSchedule,
} from './types.js';
import { UnknownZoneError, ZoneCache } from './zone.js';
import { argObject } from '../util/args.js';

/** The defaults `normalizeSchedule` fills in for a cron schedule. */
export const SCHEDULE_DEFAULTS = Object.freeze({
  /** Cron fields are read in UTC. */
  timezone: 'UTC',
  /** A time that does not exist runs shifted forward. */
  gap: GapPolicy.SHIFT,
  /** A time that happens twice runs at its first instant. */
  repeat: RepeatPolicy.FIRST,
  /** An occurrence found up to a minute late still runs. */
  lateness: 60_000,
  /** `window` and `cap` matter for `all` only: a week covers a long weekend's outage of a
   * daily or hourly job; 100 batches bounds the burst a dense schedule catches up. */
  missed: Object.freeze({
    /** One batch for the most recent missed occurrence. */
    policy: MissedPolicy.LATEST,
    /** 7 days, in ms. */
    window: 7 * 24 * 3_600_000,
    /** At most 100 caught up. */
    cap: 100,
  }),
  /** A new batch starts beside a running one (as Orchest). */
  overlap: OverlapPolicy.ALLOW,
});

/** Context of {@link normalizeSchedule}. */
export interface NormalizeContext {
  /** The current time (the clock's `now()`): the instant of a `now` schedule, and the start of the "never fires" check. */
  now: number | Date;
  /** Prefix of error paths. @default 'schedule' */
  path?: string;
  /** Reused for the "never fires" check. @default a new cache */
  zones?: ZoneCache;
}

const ONE_OFF_KEYS = ['type', 'at'];
const CRON_KEYS = ['type', 'cron', 'timezone', 'startAt', 'endAt', 'gap', 'repeat', 'lateness', 'missed', 'overlap'];
const MISSED_KEYS = ['policy', 'window', 'cap'];

/**
 * Validates a schedule and returns its normalised form: every default filled in,
 * instants as epoch ms, the time zone as `Intl` resolves it; a plain JSON-safe object
 * the scheduler stores. Normalising a normalised schedule returns an equal one. The
 * input is never changed.
 *
 * @throws {ScheduleError} with a stable `code`, the offending `path` (`schedule.cron`,
 * `schedule.missed.policy`, ...), the `value` and a `hint`:
 * `SCHEDULE_NOT_OBJECT`, `SCHEDULE_UNKNOWN_TYPE`, `SCHEDULE_UNKNOWN_OPTION`,
 * `SCHEDULE_CRON_FIELD_COUNT`, `SCHEDULE_CRON_SYNTAX`, `SCHEDULE_CRON_RANGE`,
 * `SCHEDULE_NEVER_FIRES`, `SCHEDULE_UNKNOWN_TIMEZONE`, `SCHEDULE_INVALID_DATE`,
 * `SCHEDULE_END_BEFORE_START`, `SCHEDULE_INVALID_NUMBER`, `SCHEDULE_UNKNOWN_POLICY`.
 */
export function normalizeSchedule(spec: unknown, context: NormalizeContext): NormalizedSchedule {
  argObject(context, 'context', 'normalizeSchedule');
  const base = context.path ?? 'schedule';
  const now = context.now instanceof Date ? context.now.getTime() : context.now;
  if (!Number.isFinite(now)) {
    throw new ScheduleError('SCHEDULE_INVALID_DATE', 'normalizeSchedule needs a valid `now`', { path: 'context.now', value: context.now });
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new ScheduleError('SCHEDULE_NOT_OBJECT', 'A schedule is an object', {
      path: base,
      value: spec,
      hint: 'e.g. { type: "now" }, { type: "at", at: "2026-03-08T09:30:00Z" } or { type: "cron", cron: "0 9 * * *" }',
    });
  }
  const s = spec as Record<string, unknown>;
  const type = s.type;
  if (type === 'now' || type === 'at') {
    checkKeys(s, ONE_OFF_KEYS, base, 'is an option of cron schedules only');
    if (type === 'at' && s.at === undefined) {
      throw new ScheduleError('SCHEDULE_INVALID_DATE', 'An "at" schedule needs `at`', { path: joinPath(base, 'at'), value: undefined });
    }
    const at = s.at === undefined ? now : parseInstant(s.at, joinPath(base, 'at'));
    return { type, at };
  }
  if (type !== 'cron') {
    throw new ScheduleError('SCHEDULE_UNKNOWN_TYPE', 'Unknown schedule type', {
      path: joinPath(base, 'type'),
      value: type,
      hint: 'Use "now", "at" or "cron"',
    });
  }
  return normalizeCron(s, base, now, context.zones ?? new ZoneCache());
}

function normalizeCron(s: Record<string, unknown>, base: string, now: number, zones: ZoneCache): NormalizedCron {
  checkKeys(s, CRON_KEYS, base, 'is not a schedule option');
  const fields = parseCron(s.cron, joinPath(base, 'cron'));
  const timezone = readZone(s.timezone, joinPath(base, 'timezone'), zones);
  const startAt = s.startAt === undefined || s.startAt === null ? null : parseInstant(s.startAt, joinPath(base, 'startAt'));
  const endAt = s.endAt === undefined || s.endAt === null ? null : parseInstant(s.endAt, joinPath(base, 'endAt'));
  if (startAt !== null && endAt !== null && endAt < startAt) {
    throw new ScheduleError('SCHEDULE_END_BEFORE_START', 'The schedule ends before it starts', {
      path: joinPath(base, 'endAt'),
      value: s.endAt,
      hint: `endAt must be at or after startAt (${new Date(startAt).toISOString()})`,
    });
  }
  const d = SCHEDULE_DEFAULTS;
  const gap = readPolicy(s.gap, GapPolicy, d.gap, joinPath(base, 'gap'));
  const repeat = readPolicy(s.repeat, RepeatPolicy, d.repeat, joinPath(base, 'repeat'));
  const overlap = readPolicy(s.overlap, OverlapPolicy, d.overlap, joinPath(base, 'overlap'));
  const lateness = readInteger(s.lateness, d.lateness, 0, joinPath(base, 'lateness'), 'milliseconds');
  const missed = readMissed(s.missed, joinPath(base, 'missed'), lateness);
  const normalized: NormalizedCron = {
    type: 'cron',
    cron: fields.source,
    timezone,
    startAt,
    endAt,
    gap,
    repeat,
    lateness,
    missed,
    overlap,
  };
  // An expression that never fires in any month was refused by parseCron; here the
  // rarer cases: every occurrence a DST skip, or none inside [startAt, endAt] from now on.
  const compiled = new CompiledSchedule(normalized, zones);
  const from = Math.max(now, (startAt ?? -Infinity) - 1);
  if (Number.isNaN(compiled.nextTime(from))) {
    const bounded = endAt !== null;
    throw new ScheduleError('SCHEDULE_NEVER_FIRES', 'The schedule never fires', {
      path: joinPath(base, bounded ? 'endAt' : 'cron'),
      value: bounded ? s.endAt : s.cron,
      hint: bounded
        ? `No occurrence of "${fields.source}" (${timezone}) between ${new Date(from + 1).toISOString()} and endAt`
        : `Every occurrence of "${fields.source}" falls in a DST gap of ${timezone}; use gap: "shift"`,
    });
  }
  return normalized;
}

function checkKeys(s: Record<string, unknown>, known: readonly string[], base: string, why: string): void {
  for (const key of Object.keys(s)) {
    if (!known.includes(key)) {
      throw new ScheduleError('SCHEDULE_UNKNOWN_OPTION', `"${key}" ${why}`, {
        path: joinPath(base, key),
        value: s[key],
        hint: `Known options: ${known.join(', ')}`,
      });
    }
  }
}

function readZone(value: unknown, path: string, zones: ZoneCache): string {
  if (value === undefined || value === null) return SCHEDULE_DEFAULTS.timezone;
  const hint = 'Use an IANA time zone name such as "Europe/Berlin" or "UTC"';
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ScheduleError('SCHEDULE_UNKNOWN_TIMEZONE', 'A time zone is a non-empty string', { path, value, hint });
  }
  try {
    // The cache resolves each name once (building an Intl formatter is slow).
    return zones.get(value).zone;
  } catch (error) {
    if (error instanceof UnknownZoneError) {
      throw new ScheduleError('SCHEDULE_UNKNOWN_TIMEZONE', 'Unknown time zone', { path, value, hint, cause: error });
    }
    throw error;
  }
}

function readPolicy<T extends string>(value: unknown, policy: Readonly<Record<string, T>>, fallback: T, path: string): T {
  if (value === undefined || value === null) return fallback;
  const allowed = Object.values(policy);
  if (!allowed.includes(value as T)) {
    throw new ScheduleError('SCHEDULE_UNKNOWN_POLICY', 'Unknown policy', {
      path,
      value,
      hint: `Use one of ${allowed.map((v) => `"${v}"`).join(', ')}`,
    });
  }
  return value as T;
}

function readInteger(value: unknown, fallback: number, min: number, path: string, unit: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ScheduleError('SCHEDULE_INVALID_NUMBER', `Expected an integer >= ${min} (${unit})`, { path, value });
  }
  return value;
}

function readMissed(value: unknown, path: string, lateness: number): NormalizedCron['missed'] {
  const d = SCHEDULE_DEFAULTS.missed;
  if (value === undefined || value === null) return { policy: d.policy, window: d.window, cap: d.cap };
  if (typeof value === 'string') return { policy: readPolicy(value, MissedPolicy, d.policy, path), window: d.window, cap: d.cap };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ScheduleError('SCHEDULE_UNKNOWN_POLICY', 'Expected a missed-occurrence policy name or options', {
      path,
      value,
      hint: 'e.g. "latest" or { policy: "all", window: 86400000, cap: 24 }',
    });
  }
  const m = value as Record<string, unknown>;
  checkKeys(m, MISSED_KEYS, path, 'is not a missed-occurrence option');
  const policy = readPolicy(m.policy, MissedPolicy, d.policy, joinPath(path, 'policy'));
  const window = readInteger(m.window, d.window, 0, joinPath(path, 'window'), 'milliseconds');
  const cap = readInteger(m.cap, d.cap, 1, joinPath(path, 'cap'), 'occurrences');
  if (policy === 'all' && window <= lateness) {
    throw new ScheduleError('SCHEDULE_INVALID_NUMBER', 'The catch-up window must be longer than the lateness', {
      path: joinPath(path, 'window'),
      value: window,
      hint: `Only occurrences older than lateness (${lateness} ms) are missed; a shorter window catches none up (use policy "skip" for that)`,
    });
  }
  return { policy, window, cap };
}
