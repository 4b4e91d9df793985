export { CompiledSchedule } from './compiled.js';
export { normalizeSchedule, SCHEDULE_DEFAULTS, type NormalizeContext } from './normalize.js';
export { decideOverlap, OverlapDecision } from './overlap.js';
export {
  compileSchedule,
  countOccurrences,
  nextOccurrence,
  occurrencesBetween,
  planDue,
  preview,
  type ListOptions,
  type QueryOptions,
  type ScheduleLike,
} from './queries.js';
export { compressSkips, mergeSkips } from './skips.js';
export {
  DstKind,
  GapPolicy,
  MissedPolicy,
  OverlapPolicy,
  RepeatPolicy,
  SkipReason,
  type AtScheduleSpec,
  type CronScheduleSpec,
  type DuePlan,
  type InstantInput,
  type MissedOptions,
  type NormalizedCron,
  type NormalizedOneOff,
  type NormalizedSchedule,
  type NowScheduleSpec,
  type Occurrence,
  type PauseInterval,
  type PlanEntry,
  type PlanInput,
  type RunEntry,
  type ScheduleSpec,
  type SkipEntry,
} from './types.js';
export { ZoneCache } from './zone.js';
