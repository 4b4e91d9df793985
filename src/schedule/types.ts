/**
 * The public vocabulary of schedules: what a caller writes ({@link ScheduleSpec}), what
 * the scheduler stores ({@link NormalizedSchedule}), the policies, and what the pure
 * queries answer ({@link Occurrence}, {@link PlanEntry}).
 */

/** An instant: a `Date`, epoch milliseconds, or an ISO 8601 string with `Z` or an offset. */
export type InstantInput = Date | number | string;

/** When a wall-clock time does not exist (the clock jumps forward over it). */
export const GapPolicy = {
  /** Run once, shifted forward by the length of the gap (02:30 runs at 03:30). */
  SHIFT: 'shift',
  /** Do not run; the occurrence is recorded as skipped with the reason `dst`. */
  SKIP: 'skip',
} as const;
export type GapPolicy = (typeof GapPolicy)[keyof typeof GapPolicy];

/** When a wall-clock time occurs twice (the clock falls back over it). */
export const RepeatPolicy = {
  /** Run at its first instant (before the clock falls back). */
  FIRST: 'first',
  /** Run at its second instant. */
  LAST: 'last',
  /** Run at both. */
  BOTH: 'both',
} as const;
export type RepeatPolicy = (typeof RepeatPolicy)[keyof typeof RepeatPolicy];

/** What happens to occurrences found later than `lateness` (no process was running). */
export const MissedPolicy = {
  /** None runs; all are recorded as skipped (`missed`). */
  SKIP: 'skip',
  /** One batch for the most recent one (none when an on-time occurrence runs anyway); the rest skipped. */
  LATEST: 'latest',
  /** Each one within `window` runs, the most recent `cap` of them; the rest skipped. */
  ALL: 'all',
} as const;
export type MissedPolicy = (typeof MissedPolicy)[keyof typeof MissedPolicy];

/** What an occurrence does while the previous batch of the job still runs. */
export const OverlapPolicy = {
  /** Start another batch beside it (Orchest's behaviour). */
  ALLOW: 'allow',
  /** Do not start; record the occurrence as skipped (`overlap`). */
  SKIP: 'skip',
  /** Start it when the running batch ends; buffer one (later ones are skipped). */
  QUEUE: 'queue',
  /** Cancel the running batch, then start. */
  CANCEL_PREVIOUS: 'cancel-previous',
} as const;
export type OverlapPolicy = (typeof OverlapPolicy)[keyof typeof OverlapPolicy];

/** Why an occurrence did not start a batch. */
export const SkipReason = {
  /** Found later than `lateness` and not run by the `missed` policy. */
  MISSED: 'missed',
  /** The previous batch still ran (`overlap: 'skip'`, or a second one while `'queue'` buffered one). */
  OVERLAP: 'overlap',
  /** The job was paused. */
  PAUSED: 'paused',
  /** Its wall-clock time did not exist that day and `gap` is `'skip'`. */
  DST: 'dst',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

/** Missed-occurrence options of a cron schedule. */
export interface MissedOptions {
  /** What happens to missed occurrences. @default 'latest' */
  policy?: MissedPolicy;
  /**
   * For `all`: only occurrences at most this old (ms before now) are caught up.
   * @default 604_800_000 (7 days)
   */
  window?: number;
  /**
   * For `all`: at most this many are caught up (the most recent ones).
   * @default 100
   */
  cap?: number;
}

/** Run once, as soon as the job is confirmed. */
export interface NowScheduleSpec {
  /** Runs once, now. */
  type: 'now';
  /** Filled in by `normalizeSchedule` (the time it was normalised); rarely given. @default the time of normalisation */
  at?: InstantInput;
}

/** Run once at an instant; an instant in the past runs at once. */
export interface AtScheduleSpec {
  /** Runs once, at `at`. */
  type: 'at';
  /** The instant: a `Date`, epoch ms, or ISO 8601 with `Z` or an offset. */
  at: InstantInput;
}

/** Run on a cron schedule in a time zone. */
export interface CronScheduleSpec {
  /** Runs at every occurrence of `cron` in `timezone`, between `startAt` and `endAt`. */
  type: 'cron';
  /** 5 fields (`minute hour day-of-month month day-of-week`) or 6 (seconds first). */
  cron: string;
  /**
   * IANA time zone the cron fields are read in.
   * @default 'UTC'
   */
  timezone?: string;
  /** No occurrence before this instant (inclusive bound). @default null (from now on) */
  startAt?: InstantInput | null;
  /** No occurrence after this instant (inclusive bound). @default null (no end) */
  endAt?: InstantInput | null;
  /** A wall-clock time that does not exist that day (DST gap): run it shifted, or skip it. @default 'shift' */
  gap?: GapPolicy;
  /** A wall-clock time that happens twice (DST fall-back): run at the first, the last, or both. @default 'first' */
  repeat?: RepeatPolicy;
  /**
   * An occurrence found at most this many ms after its time runs normally; later, it
   * is missed.
   * @default 60_000
   */
  lateness?: number;
  /** A policy name, or the options. @default { policy: 'latest' } */
  missed?: MissedPolicy | MissedOptions;
  /** What an occurrence does while the job's previous batch still runs. @default 'allow' */
  overlap?: OverlapPolicy;
}

/** What a caller writes. Policies live inside the cron variant: a job's schedule is one object. */
export type ScheduleSpec = NowScheduleSpec | AtScheduleSpec | CronScheduleSpec;

/** A one-off schedule, normalised: `at` in epoch ms. (A `type`, not an `interface`, so it is assignable to JSON types.) */
export type NormalizedOneOff = {
  /** As given. */
  readonly type: 'now' | 'at';
  /** The instant, epoch ms (`now`: when the schedule was normalised). */
  readonly at: number;
};

/** A cron schedule, normalised: every default filled in, instants in epoch ms, JSON-safe. */
export type NormalizedCron = {
  /** A cron schedule. */
  readonly type: 'cron';
  /** Trimmed, single-spaced. */
  readonly cron: string;
  /** As `Intl` resolves it. */
  readonly timezone: string;
  /** No occurrence before this instant (epoch ms, inclusive); `null`: no bound. */
  readonly startAt: number | null;
  /** No occurrence after this instant (epoch ms, inclusive); `null`: no bound. */
  readonly endAt: number | null;
  /** See {@link CronScheduleSpec.gap}. */
  readonly gap: GapPolicy;
  /** See {@link CronScheduleSpec.repeat}. */
  readonly repeat: RepeatPolicy;
  /** See {@link CronScheduleSpec.lateness} (ms). */
  readonly lateness: number;
  /** The missed-occurrence policy with its defaults filled in. */
  readonly missed: {
    /** See {@link MissedOptions.policy}. */
    readonly policy: MissedPolicy;
    /** See {@link MissedOptions.window} (ms). */
    readonly window: number;
    /** See {@link MissedOptions.cap}. */
    readonly cap: number;
  };
  /** See {@link CronScheduleSpec.overlap}. */
  readonly overlap: OverlapPolicy;
};

/** What the scheduler stores: see `normalizeSchedule`. */
export type NormalizedSchedule = NormalizedOneOff | NormalizedCron;

/** How an occurrence relates to a clock change, when it does. */
export const DstKind = {
  /** Its wall-clock time did not exist; it runs (or, skipped, would have run) after the gap. */
  SHIFTED: 'shifted',
  /** The first of a wall-clock time that occurs twice. */
  FIRST: 'first',
  /** The second of a wall-clock time that occurs twice. */
  SECOND: 'second',
} as const;
export type DstKind = (typeof DstKind)[keyof typeof DstKind];

/** One occurrence of a schedule. */
export interface Occurrence {
  /** When it runs, epoch ms. For a `dst` skip: when it would have run with `gap: 'shift'`. */
  readonly time: number;
  /** The schedule's wall-clock time in its zone, `YYYY-MM-DDTHH:mm:ss` (UTC for one-offs). */
  readonly wallClock: string;
  /** Set when the occurrence falls on a clock change. */
  readonly dst?: DstKind;
  /** Set when it does not run (`gap: 'skip'`). */
  readonly skipped?: typeof SkipReason.DST;
}

/** A decision of the planner: start a batch for this occurrence. */
export interface RunEntry {
  /** Start a batch. */
  readonly action: 'run';
  /** The occurrence's time, epoch ms. */
  readonly time: number;
  /** Its wall-clock time in the schedule's zone (see {@link Occurrence.wallClock}). */
  readonly wallClock: string;
  /** `now - time`: how late it is found (>= 0). */
  readonly lateBy: number;
  /** A missed occurrence run by the `latest` or `all` policy. */
  readonly catchUp: boolean;
}

/** A decision of the planner: consecutive occurrences skipped for one reason (one ledger record). */
export interface SkipEntry {
  /** Record a skip. */
  readonly action: 'skip';
  /** Why they were skipped. */
  readonly reason: SkipReason;
  /** How many consecutive occurrences this entry stands for. */
  readonly count: number;
  /** The first and last skipped occurrence times (equal when `count` is 1). */
  readonly first: number;
  /** See `first`. */
  readonly last: number;
}

/** One decision of the planner: run an occurrence, or skip a group of them. */
export type PlanEntry = RunEntry | SkipEntry;

/** An interval in which the job was paused: `[from, to)`; `to` absent or null: still paused. */
export interface PauseInterval {
  /** When the job was paused, epoch ms. */
  readonly from: number;
  /** When it was resumed, epoch ms; absent or `null` while it is still paused. */
  readonly to?: number | null;
}

/** What the timer loop knows when it asks {@link planDue}. */
export interface PlanInput {
  /**
   * Occurrences at or before this instant were handled. `null`: nothing handled yet: a
   * one-off that has not fired (whatever its `at`), or a cron job whose schedule starts
   * now. Store the returned `cursor` after recording the entries.
   */
  readonly cursor: number | null;
  /** The current time, epoch ms (from the scheduler's `Clock`). */
  readonly now: number;
  /** When the job was paused (occurrences inside are skipped with reason `paused`). Ignored for one-offs. */
  readonly paused?: readonly PauseInterval[];
}

/** The planner's answer. */
export interface DuePlan {
  /** In time order; consecutive skips with one reason are one entry. */
  readonly entries: PlanEntry[];
  /** The new cursor: occurrences at or before it are handled (`null`: a one-off still to come). */
  readonly cursor: number | null;
  /** The next occurrence after `now` (one that runs, or a `dst` skip): arm a timer for it. `null`: none will come. */
  readonly next: number | null;
  /** No occurrence will ever come again (a one-off fired, a cron past `endAt`). */
  readonly done: boolean;
}
