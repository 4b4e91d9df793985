import { CompiledSchedule, ZoneCache, normalizeSchedule, planDue, preview, type NormalizedSchedule, type Occurrence, type ScheduleSpec } from '../schedule/index.js';
import { JobStatus } from '../status.js';
import type { JobRecord, SkipReason } from '../storage/records.js';

/** One decision for the scheduler: run an occurrence, or skip a group of them. */
export type Decision =
  | { action: 'run'; at: number; /** A missed occurrence run late (the missed policy). */ catchUp: boolean }
  | { action: 'skip'; at: number; lastAt: number; count: number; reason: SkipReason };

export function scheduleOf(job: JobRecord): NormalizedSchedule {
  return job.schedule;
}

export function isCron(job: JobRecord): boolean {
  return scheduleOf(job).type === 'cron';
}

export function isOneOff(job: JobRecord): boolean {
  return !isCron(job);
}

/**
 * The schedules of one scheduler: one zone cache (a year of a zone's offsets is learnt
 * once) and one compiled schedule per job version.
 */
export class ScheduleCache {
  readonly zones = new ZoneCache();
  readonly #compiled = new Map<string, { version: number; compiled: CompiledSchedule }>();

  /** Checks and normalises a schedule (typed `ScheduleError` on bad input). */
  normalize(spec: ScheduleSpec, now: number): NormalizedSchedule {
    return normalizeSchedule(spec, { now, zones: this.zones });
  }

  compiled(job: JobRecord): CompiledSchedule {
    const hit = this.#compiled.get(job.id);
    // The schedule only changes with the job's version; the cursor and status do not need a recompile.
    if (hit && hit.version === job.version) return hit.compiled;
    const compiled = new CompiledSchedule(scheduleOf(job), this.zones);
    this.#compiled.set(job.id, { version: job.version, compiled });
    return compiled;
  }

  forget(jobId: string): void {
    this.#compiled.delete(jobId);
  }

  /**
   * What is due for the job now. A paused job's due occurrences are all skipped
   * (`paused`): pause and resume first let the planner handle what fell due before.
   */
  plan(job: JobRecord, now: number): Decision[] {
    const plan = planDue(this.compiled(job), {
      cursor: job.scheduleCursor,
      now,
      ...(job.status === JobStatus.PAUSED && isCron(job) ? { paused: [{ from: job.scheduleCursor ?? Number.MIN_SAFE_INTEGER }] } : {}),
    });
    return plan.entries.map((e) =>
      e.action === 'run' ? { action: 'run', at: e.time, catchUp: e.catchUp } : { action: 'skip', at: e.first, lastAt: e.last, count: e.count, reason: e.reason },
    );
  }

  /** When the job next needs the timer (its next occurrence, run or skip), or `undefined`. */
  nextWake(job: JobRecord, now: number): number | undefined {
    return planDue(this.compiled(job), { cursor: job.scheduleCursor, now }).next ?? undefined;
  }

  /** Whether the job's schedule has occurrences still to come. */
  hasFuture(job: JobRecord, now: number): boolean {
    return !planDue(this.compiled(job), { cursor: job.scheduleCursor, now }).done;
  }

  /** The next `n` occurrences after `from`, with their DST labels (as the pure `preview`). */
  preview(job: JobRecord, n: number, from: number, includeSkipped: boolean): Occurrence[] {
    return preview(this.compiled(job), n, from, { includeSkipped });
  }
}
