import { expect } from 'vitest';
import { PipelineJobsError } from '../../src/errors.js';
import {
  compileSchedule,
  normalizeSchedule,
  type CompiledSchedule,
  type CronScheduleSpec,
  type Occurrence,
  ZoneCache,
} from '../../src/schedule/index.js';

/** One cache for the whole test file (as a scheduler would share one). */
export const zones = new ZoneCache();

/** A fixed "now" well before the 2026 change days, so normalisation never refuses them. */
export const NOW = Date.parse('2026-01-01T00:00:00Z');

/** Epoch ms of an ISO string with an explicit offset: the expectations are written by hand. */
export function at(iso: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
}

export function cron(spec: Omit<CronScheduleSpec, 'type'>): CompiledSchedule {
  return compileSchedule(normalizeSchedule({ type: 'cron', ...spec }, { now: NOW, zones }), zones);
}

/** Occurrences in `[from, to)` as ISO UTC strings (dst skips marked with a trailing " skip"). */
export function listIso(c: CompiledSchedule, from: string, to: string, includeSkipped = true): string[] {
  return c.list(at(from) - 1, at(to) - 1, 10_000, includeSkipped).map(label);
}

export function label(o: Occurrence): string {
  return new Date(o.time).toISOString() + (o.skipped ? ' skip' : '');
}

/** ISO UTC strings of hand-written instants (with offsets). */
export function utc(...isos: string[]): string[] {
  return isos.map((s) => (s.endsWith(' skip') ? `${new Date(at(s.slice(0, -5))).toISOString()} skip` : new Date(at(s)).toISOString()));
}

/** Asserts `fn` throws a PipelineJobsError with the code and path. */
export function expectError(fn: () => unknown, code: string, path?: string): PipelineJobsError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(PipelineJobsError);
  const e = caught as PipelineJobsError;
  expect(e.code).toBe(code);
  if (path !== undefined) expect(e.path).toBe(path);
  expect(e.hint === undefined || e.hint.length > 0).toBe(true);
  return e;
}
