import type { Job, JobScheduler, Pipeline, PipelineStep, Run } from '../index.js';
import { UsageError } from './errors.js';

const ALL = Number.MAX_SAFE_INTEGER;

/** Every job, newest first. */
export async function allJobs(scheduler: JobScheduler): Promise<Job[]> {
  return (await scheduler.listJobs({ limit: ALL })).items;
}

/**
 * A job as a user types it: its id, a unique prefix of its id, or its name (unique).
 * Ambiguity is an error that lists the candidates.
 */
export async function resolveJob(scheduler: JobScheduler, ref: string): Promise<Job> {
  const exact = await scheduler.getJob(ref);
  if (exact) return exact;
  const jobs = await allJobs(scheduler);
  const byName = jobs.filter((j) => j.name === ref);
  if (byName.length === 1) return byName[0]!;
  const candidates = byName.length > 1 ? byName : jobs.filter((j) => j.id.startsWith(ref));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw new UsageError(`No job "${ref}" (by id, id prefix or name). List jobs with \`pipeline-jobs jobs\`.`);
  throw new UsageError(`"${ref}" matches ${candidates.length} jobs: ${candidates.map((j) => `${j.id.slice(0, 8)} (${j.name})`).join(', ')}. Type more of the id.`);
}

/** Every run of a job, in run order. */
export async function allRuns(scheduler: JobScheduler, jobId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let cursor: string | null = null;
  do {
    const page = await scheduler.listRuns(jobId, { limit: 1000, cursor });
    runs.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return runs;
}

/** A run by id or unique id prefix (searched across all jobs). */
export async function resolveRun(scheduler: JobScheduler, ref: string): Promise<Run> {
  const exact = await scheduler.getRun(ref);
  if (exact) return exact;
  const found: Run[] = [];
  if (ref.length > 0) {
    for (const job of await allJobs(scheduler)) for (const r of await allRuns(scheduler, job.id)) if (r.id.startsWith(ref)) found.push(r);
  }
  if (found.length === 1) return (await scheduler.getRun(found[0]!.id))!;
  if (found.length === 0) throw new UsageError(`No run "${ref}" (by id or id prefix). List runs with \`pipeline-jobs runs <job>\`.`);
  throw new UsageError(`"${ref}" matches ${found.length} runs: ${found.slice(0, 5).map((r) => r.id.slice(0, 12)).join(', ')}${found.length > 5 ? ', ...' : ''}. Type more of the id.`);
}

/** A step by title (unique), uuid, or unique uuid prefix. */
export function resolveStep(pipeline: Pipeline, ref: string): PipelineStep {
  const exact = pipeline.steps.find((s) => s.uuid === ref);
  if (exact) return exact;
  const byTitle = pipeline.steps.filter((s) => s.title === ref);
  if (byTitle.length === 1) return byTitle[0]!;
  const candidates = byTitle.length > 1 ? byTitle : pipeline.steps.filter((s) => s.uuid.startsWith(ref));
  if (candidates.length === 1) return candidates[0]!;
  const known = pipeline.steps.map((s) => s.title || s.uuid).join(', ');
  if (candidates.length === 0) throw new UsageError(`No step "${ref}" in pipeline "${pipeline.name}" (steps: ${known}).`);
  throw new UsageError(`"${ref}" matches ${candidates.length} steps; use the step's uuid.`);
}
