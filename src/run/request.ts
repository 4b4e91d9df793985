import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ExecutionError, NotFoundError, joinPath } from '../errors.js';
import type { PinnedEnvironment } from '../environment.js';
import { validateDag } from '../pipeline/dag.js';
import type { Pipeline, RunParameters } from '../pipeline/model.js';
import type { RunOverrides } from './options.js';
import { validateJobEnv } from './step-environment.js';
import type { RunSource } from './workspace.js';

/** How a run came to be, as its steps see it (see docs/running.md, "What a step knows"). */
export type RunTrigger = 'schedule' | 'now' | 'at' | 'manual' | 'catch-up';

/** What a run stands for: given to each step as variables and in the function-step context. */
export interface RunOccurrence {
  /**
   * The instant the run stands for (clock ms): the schedule occurrence it is for (Airflow's
   * logical date); for a manual trigger, the instant of the trigger.
   */
  readonly scheduledAt: number;
  /** The IANA zone the schedule is read in (`UTC` for a one-off schedule and a manual trigger of one). */
  readonly timezone: string;
  /** How the run came to be (`schedule`, `now`, `at`, `manual`, `catch-up`). */
  readonly trigger: RunTrigger;
  /** The batch's index within its job (0 for the first). */
  readonly batchIndex: number;
  /** The run's index within its job, over all batches (0 for the first). */
  readonly runIndex: number;
}

/** One pipeline run to execute. */
export interface RunRequest {
  /** Unique per run; names the working copy, the artifacts and the logs. */
  readonly runId: string;
  /**
   * The job the run belongs to (given to steps as `PIPELINE_JOBS_JOB_ID`); absent for a run executed directly. @default undefined
   */
  readonly jobId?: string;
  /**
   * Which execution of this run it is (the scheduler passes its claim count). Every step
   * process carries it with the run id (`PIPELINE_JOBS_RUN_ATTEMPT`), so the processes of
   * an earlier execution that died are told apart from this one's. @default 1
   */
  readonly attempt?: number;
  /** Given to steps as `ORCHEST_PROJECT_UUID`. */
  readonly projectId: string;
  /**
   * The pipeline to run (`parsePipeline`, `loadPipeline` or `definePipeline`); its DAG is checked first.
   */
  readonly pipeline: Pipeline;
  /** The run's effective parameter values (`ParameterGrid.at(i)`); steps left out keep their defaults. */
  readonly parameters: RunParameters;
  /**
   * The project files: a snapshot (`{ snapshots, snapshotId }`) or a directory copied as it
   * is (`{ directory }`). Absent: the run has no working copy and touches no disk for its
   * files (a pipeline defined in code whose steps are functions); a step that names a file
   * then fails with `STEP_NO_WORKING_COPY`.
   * @default undefined (no working copy)
   */
  readonly source?: RunSource;
  /** What the run stands for (scheduled instant, trigger, batch and run index): given to every step. @default undefined */
  readonly occurrence?: RunOccurrence;
  /** The job's environment variables, already merged (project < pipeline < job). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** The pinned environments, by environment id. @default {} */
  readonly environments?: Readonly<Record<string, PinnedEnvironment>>;
  /** Settings of this run that win over the executor's. */
  readonly options?: RunOverrides;
}

/**
 * Checks a request; throws a typed error naming the offending field, before anything is
 * created. Resolves the directory source to an absolute path.
 */
export async function validateRequest(request: RunRequest): Promise<RunRequest> {
  if (request === null || typeof request !== 'object') throw invalid('A run request must be an object', '$', request);
  const { runId, projectId, jobId, pipeline, parameters, source } = request;
  if (typeof runId !== 'string' || runId === '' || runId === '.' || runId === '..' || /[/\\\0]/.test(runId) || runId.length > 200) {
    throw invalid('runId must be a non-empty string of at most 200 characters without "/", "\\" or NUL', 'runId', runId);
  }
  if (request.attempt !== undefined && !(Number.isSafeInteger(request.attempt) && request.attempt > 0)) {
    throw invalid('attempt must be a positive integer when given', 'attempt', request.attempt);
  }
  if (typeof projectId !== 'string' || projectId === '') throw invalid('projectId must be a non-empty string', 'projectId', projectId);
  if (jobId !== undefined && (typeof jobId !== 'string' || jobId === '')) throw invalid('jobId must be a non-empty string when given', 'jobId', jobId);
  if (pipeline === null || typeof pipeline !== 'object' || !Array.isArray(pipeline.steps)) {
    throw invalid('pipeline must be a Pipeline (parsePipeline, loadPipeline or definePipeline)', 'pipeline', pipeline);
  }
  checkDag(pipeline);
  if (typeof pipeline.path !== 'string' || pipeline.path.startsWith('/') || pipeline.path.split('/').includes('..')) {
    throw invalid('pipeline.path must be relative to the project root and stay inside it', 'pipeline.path', pipeline.path);
  }
  validateParameters(pipeline, parameters);
  if (request.env !== undefined) validateJobEnv(request.env, 'env');
  const environments = request.environments ?? {};
  if (environments === null || typeof environments !== 'object') throw invalid('environments must be an object', 'environments', environments);
  for (const [id, env] of Object.entries(environments)) {
    if (env === null || typeof env !== 'object' || typeof env.kind !== 'string') {
      throw invalid('Every pinned environment must be a PinnedEnvironment', joinPath('environments', id), env);
    }
  }
  if (request.occurrence !== undefined) validateOccurrence(request.occurrence);
  return source === undefined ? request : { ...request, source: await validateSource(source) };
}

/**
 * The DAG check without building error paths for every edge (large pipelines): on a
 * problem, `validateDag` is asked for the typed error naming it.
 */
function checkDag(pipeline: Pipeline): void {
  const steps = pipeline.steps;
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    if (index.has(s.uuid)) throw invalid('Two steps have the same uuid', joinPath('pipeline.steps', i, 'uuid'), s.uuid);
    index.set(s.uuid, i);
  });
  const waiting = new Int32Array(steps.length);
  const children: number[][] = steps.map(() => []);
  let broken = false;
  steps.forEach((s, i) => {
    const conns = s.incoming_connections;
    if (conns.length > 1 && new Set(conns).size !== conns.length) broken = true;
    for (const from of conns) {
      const j = index.get(from);
      if (j === undefined) broken = true;
      else children[j]!.push(i);
    }
    waiting[i] = conns.length;
  });
  if (!broken) {
    // Kahn: every step is reached exactly when the graph has no cycle.
    const ready: number[] = [];
    for (let i = 0; i < steps.length; i++) if (waiting[i] === 0) ready.push(i);
    for (let k = 0; k < ready.length; k++) for (const c of children[ready[k]!]!) if (--waiting[c]! === 0) ready.push(c);
    if (ready.length === steps.length) return;
  }
  validateDag(steps, 'pipeline.steps');
  throw invalid('The pipeline graph is invalid', 'pipeline.steps', undefined);
}

function validateParameters(pipeline: Pipeline, parameters: RunParameters): void {
  if (parameters === null || typeof parameters !== 'object') throw invalid('parameters must be { pipeline, steps }', 'parameters', parameters);
  if (parameters.pipeline === null || typeof parameters.pipeline !== 'object' || Array.isArray(parameters.pipeline)) {
    throw invalid('parameters.pipeline must be an object', 'parameters.pipeline', parameters.pipeline);
  }
  if (parameters.steps === null || typeof parameters.steps !== 'object' || Array.isArray(parameters.steps)) {
    throw invalid('parameters.steps must be an object keyed by step uuid', 'parameters.steps', parameters.steps);
  }
  const known = new Set(pipeline.steps.map((s) => s.uuid));
  for (const uuid in parameters.steps) {
    if (!Object.prototype.hasOwnProperty.call(parameters.steps, uuid)) continue;
    const values = parameters.steps[uuid];
    // Paths are built only for the error: pipelines may have thousands of steps.
    if (!known.has(uuid)) throw invalid('parameters name a step the pipeline does not have', joinPath('parameters.steps', uuid), uuid);
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw invalid('A step\'s parameters must be an object', joinPath('parameters.steps', uuid), values);
    }
  }
}

async function validateSource(source: RunSource): Promise<RunSource> {
  if (source === null || typeof source !== 'object') throw invalid('source must be { snapshots, snapshotId } or { directory }', 'source', source);
  if ('snapshots' in source) {
    if (typeof source.snapshots?.materialize !== 'function' || typeof source.snapshots.get !== 'function') {
      throw invalid('source.snapshots must implement the Snapshots port', 'source.snapshots', source.snapshots);
    }
    if (typeof source.snapshotId !== 'string' || source.snapshotId === '') throw invalid('source.snapshotId must be a string', 'source.snapshotId', source.snapshotId);
    if ((await source.snapshots.get(source.snapshotId)) === undefined) {
      throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'There is no snapshot with this id', { path: 'source.snapshotId', value: source.snapshotId });
    }
    return source;
  }
  if (typeof source.directory !== 'string' || source.directory === '') throw invalid('source.directory must be a path', 'source.directory', (source as { directory?: unknown }).directory);
  const directory = path.resolve(source.directory);
  let isDir = false;
  try {
    isDir = (await stat(directory)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // absent: reported below
  }
  if (!isDir) throw invalid('source.directory is not a directory', 'source.directory', source.directory);
  return { directory };
}

const TRIGGERS: ReadonlySet<string> = new Set(['schedule', 'now', 'at', 'manual', 'catch-up']);

function validateOccurrence(o: RunOccurrence): void {
  if (o === null || typeof o !== 'object') throw invalid('occurrence must be an object when given', 'occurrence', o);
  if (!Number.isSafeInteger(o.scheduledAt) || Number.isNaN(new Date(o.scheduledAt).getTime())) throw invalid('occurrence.scheduledAt must be clock ms', 'occurrence.scheduledAt', o.scheduledAt);
  if (typeof o.timezone !== 'string' || o.timezone === '') throw invalid('occurrence.timezone must be a zone name', 'occurrence.timezone', o.timezone);
  if (!TRIGGERS.has(o.trigger)) throw invalid(`occurrence.trigger must be one of ${[...TRIGGERS].join(', ')}`, 'occurrence.trigger', o.trigger);
  for (const k of ['batchIndex', 'runIndex'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] < 0) throw invalid(`occurrence.${k} must be a non-negative integer`, `occurrence.${k}`, o[k]);
  }
}

function invalid(message: string, at: string, value: unknown): ExecutionError {
  return new ExecutionError('RUN_INVALID_REQUEST', message, { path: at, value });
}
