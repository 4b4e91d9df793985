/**
 * `pipeline-jobs/schedule`: pure queries over a schedule, without a scheduler: when it
 * fires next, a preview of its next occurrences (with DST labels), and the normalized form
 * the scheduler stores. Kept off the root because most users only hand a `ScheduleSpec` to
 * `createJob` and read `previewJob`; tools that show or validate schedules import this.
 * @packageDocumentation
 * @module pipeline-jobs/schedule
 */
export {
  normalizeSchedule,
  nextOccurrence,
  preview,
  SCHEDULE_DEFAULTS,
  DstKind,
  type NormalizeContext,
  type NormalizedSchedule,
  type NormalizedCron,
  type NormalizedOneOff,
  type Occurrence,
  type QueryOptions,
  type ListOptions,
  type ScheduleLike,
  type ScheduleSpec,
  type NowScheduleSpec,
  type AtScheduleSpec,
  type CronScheduleSpec,
  type InstantInput,
  type MissedOptions,
  // The schedule policies as const objects (a spec takes the same values as plain strings).
  GapPolicy,
  RepeatPolicy,
  MissedPolicy,
  OverlapPolicy,
  SkipReason,
  // A schedule compiled once for many queries, and the time-zone rules cache queries share.
  compileSchedule,
  type CompiledSchedule,
  ZoneCache,
} from './schedule/index.js';
