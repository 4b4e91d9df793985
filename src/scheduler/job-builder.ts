import { NotFoundError, OptionsError } from '../errors.js';
import type { JobKey } from './job-key.js';
import type { Snapshots } from '../snapshot/port.js';
import { JobStatus } from '../status.js';
import type { JobRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';
import {
  buildGrid,
  buildSelection,
  checkStepFiles,
  cleanupOnError,
  gridJson,
  mergeEnv,
  newId,
  pinEnvironments,
  projectIdOf,
  projectIdOfRealPath,
  readPipelineFromSnapshot,
} from './job-factory.js';
import { checkJobOptions } from './job-options.js';
import type { JobSpec } from './types.js';
import { createHash } from 'node:crypto';
import { definePipeline, type PipelineDefinition } from '../pipeline/define.js';
import { buildPipeline } from '../pipeline/load.js';
import type { Pipeline } from '../pipeline/model.js';

export interface BuiltJob {
  record: JobRecord;
  /** Removes what building made (the new snapshot), for a record that is not stored after all. */
  discard(): Promise<void>;
}

/**
 * Everything `createJob` checks and freezes, in an order that leaves no state behind on
 * bad input: cheap checks first, then the snapshot, then what is read from it (removing
 * the snapshot again if any of that fails).
 */
export async function buildJobRecord(ctx: SchedulerContext, spec: JobSpec, key: JobKey | null): Promise<BuiltJob> {
  const { o } = ctx;
  if (!spec || typeof spec !== 'object') throw new OptionsError('JOB_SPEC_INVALID', 'createJob needs a job spec object', { path: '$', value: spec });
  if (typeof spec.name !== 'string' || spec.name.trim() === '') {
    throw new OptionsError('JOB_SPEC_INVALID', 'A job needs a name', { path: 'name', value: spec.name, hint: 'Give a non-empty string' });
  }
  const inCode = codePipelineOf(spec.pipeline);
  if (inCode === undefined && (typeof spec.pipeline !== 'string' || spec.pipeline === '')) {
    throw new OptionsError('JOB_SPEC_INVALID', 'A job needs a pipeline: a file relative to the project root, or one defined in code', {
      path: 'pipeline',
      value: spec.pipeline,
      hint: 'e.g. "main.orchest", or definePipeline({ name, steps: [...] })',
    });
  }
  const projectDir = spec.projectDir;
  if (projectDir !== undefined && (typeof projectDir !== 'string' || projectDir === '')) {
    throw new OptionsError('JOB_SPEC_INVALID', 'projectDir must be a directory path when given', { path: 'projectDir', value: projectDir });
  }
  const given = givenSnapshotOf(spec);
  if (projectDir === undefined && inCode === undefined && given === undefined) {
    throw new OptionsError('JOB_SPEC_INVALID', 'A job whose pipeline is a file needs the project directory', {
      path: 'projectDir',
      value: projectDir,
      hint: 'Give projectDir (or the snapshotId of a snapshot of it), or define the pipeline in code (definePipeline)',
    });
  }
  if (spec.projectId !== undefined && (typeof spec.projectId !== 'string' || spec.projectId === '')) {
    throw new OptionsError('JOB_SPEC_INVALID', 'projectId must be a non-empty string when given', { path: 'projectId', value: spec.projectId });
  }
  if (projectDir === undefined && given === undefined && inCode !== undefined) refuseFileSteps(inCode);
  const now = o.clock.now();
  const schedule = ctx.schedules.normalize(spec.schedule ?? { type: 'now' }, now);
  const options = checkJobOptions(spec.options ?? {});
  const envVars = mergeEnv(spec.env);
  const existing = given === undefined ? undefined : await existingSnapshot(o.snapshots, given);
  const projectId =
    existing !== undefined
      ? spec.projectId ?? projectIdOfRealPath(existing.sourceDir)
      : projectDir === undefined
        ? codeProjectId(inCode!, spec.projectId)
        : await projectIdOf(projectDir, spec.projectId);

  // Without a project directory there is no snapshot: nothing is written anywhere. A given
  // snapshot is used as it is, and never removed here.
  const made: Awaited<ReturnType<Snapshots['create']>> | undefined =
    projectDir === undefined ? undefined : await createSnapshot(o.snapshots, projectDir, spec.snapshotOptions);
  const snapshot = existing ?? made;
  const discard = async (): Promise<void> => {
    if (made) await o.snapshots.delete(made.id);
  };
  return cleanupOnError(
    async () => {
      const pipeline = inCode ?? (await readPipelineFromSnapshot(o.snapshots, snapshot!.id, spec.pipeline as string));
      if (snapshot) await checkStepFiles(o.snapshots, snapshot.id, pipeline.path, pipeline);
      for (const w of pipeline.warnings) o.logger.warn(w, { pipeline: pipeline.path || pipeline.name });
      const grid = await buildGrid(pipeline, spec.parameters ?? { from: 'auto' }, o.snapshots, snapshot?.id ?? null, {
        allowNewParameters: spec.allowNewParameters ?? false,
        maxRunsPerBatch: o.maxRunsPerBatch,
      });
      const selection = buildSelection(grid, spec.selection);
      const environments = await pinEnvironments(o.environments, pipeline);
      const cron = schedule.type === 'cron';
      const record: JobRecord = {
        id: newId(),
        projectId,
        name: spec.name,
        status: spec.draft ? JobStatus.DRAFT : cron ? JobStatus.STARTED : JobStatus.PENDING,
        snapshotId: snapshot?.id ?? null,
        pipeline,
        environments,
        grid: gridJson(grid),
        selection: spec.selection === undefined || spec.selection === 'all' ? null : selection.toJSON(),
        schedule,
        envVars,
        options,
        counters: { PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, ABORTED: 0 },
        batchCount: 0,
        runCount: 0,
        // A cron job watches its schedule from its creation (a draft: from its confirmation).
        scheduleCursor: cron && !spec.draft ? now : null,
        bufferedOccurrence: null,
        maxConcurrentRuns: options.maxConcurrentRuns ?? 0,
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
        version: 1,
        key: key?.key ?? null,
        specFingerprint: key?.fingerprint ?? null,
      };
      return { record, discard };
    },
    discard,
    made?.id ?? null,
  );
}

/** The spec's `snapshotId`, checked against `projectDir` and `snapshotOptions`; `undefined` when not given. */
function givenSnapshotOf(spec: JobSpec): string | undefined {
  const { snapshotId, snapshotOptions, projectDir } = spec;
  if (snapshotOptions !== undefined && (snapshotOptions === null || typeof snapshotOptions !== 'object' || Array.isArray(snapshotOptions))) {
    throw new OptionsError('JOB_SPEC_INVALID', 'snapshotOptions must be an object of snapshot rules', { path: 'snapshotOptions', value: snapshotOptions, hint: 'e.g. { exclude: ["data/"] }' });
  }
  if (snapshotId === undefined) {
    if (snapshotOptions !== undefined && projectDir === undefined) {
      throw new OptionsError('JOB_SPEC_INVALID', 'snapshotOptions apply to a new snapshot of projectDir, and the job has none', { path: 'snapshotOptions', value: snapshotOptions, hint: 'Give projectDir, or leave snapshotOptions out' });
    }
    return undefined;
  }
  if (typeof snapshotId !== 'string' || snapshotId === '') {
    throw new OptionsError('JOB_SPEC_INVALID', 'snapshotId must be the id of a snapshot', { path: 'snapshotId', value: snapshotId, hint: 'An id from SnapshotStore.create or list' });
  }
  if (projectDir !== undefined) {
    throw new OptionsError('JOB_SPEC_INVALID', 'Give projectDir (a new snapshot is taken) or snapshotId (an existing one), not both', { path: 'snapshotId', value: snapshotId, hint: 'Leave projectDir out to run an existing snapshot' });
  }
  if (snapshotOptions !== undefined) {
    throw new OptionsError('JOB_SPEC_INVALID', 'snapshotOptions apply to a new snapshot; an existing one is used as it is', { path: 'snapshotOptions', value: snapshotOptions, hint: 'Leave snapshotOptions out with snapshotId' });
  }
  return snapshotId;
}

/** The record of a snapshot the spec names; a typed `NotFoundError` when the store has none. */
async function existingSnapshot(snapshots: Snapshots, id: string): Promise<Awaited<ReturnType<Snapshots['get']>> & object> {
  const found = await snapshots.get(id);
  if (!found) throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'The snapshot store has no snapshot with this id', { path: 'snapshotId', value: id, hint: 'Use an id from SnapshotStore.list(), or give projectDir to take a new snapshot' });
  return found;
}

/** A new snapshot with the job's rules; the store's typed errors name the spec's field. */
async function createSnapshot(snapshots: Snapshots, projectDir: string, rules: JobSpec['snapshotOptions']): Promise<Awaited<ReturnType<Snapshots['create']>>> {
  if (rules === undefined) return snapshots.create(projectDir);
  try {
    return await snapshots.create(projectDir, rules);
  } catch (error) {
    if (error instanceof OptionsError && error.path !== '' && !error.path.startsWith('snapshotOptions')) {
      throw new OptionsError(error.code, 'A snapshot rule of the job is invalid', { path: `snapshotOptions.${error.path}`, value: error.value, hint: error.hint, cause: error });
    }
    throw error;
  }
}


/**
 * The pipeline of a spec that defines it in code, checked as `definePipeline` checks it;
 * `undefined` when the spec names a file. A `Pipeline` object is built again from its
 * document, so what is stored is exactly what loading that document gives.
 */
function codePipelineOf(given: JobSpec['pipeline']): Pipeline | undefined {
  if (given === null || typeof given !== 'object') return undefined;
  if (isPipeline(given)) return buildPipeline(given.source, given.path);
  return definePipeline(given);
}

function isPipeline(p: Pipeline | PipelineDefinition): p is Pipeline {
  const c = p as Partial<Pipeline>;
  return typeof c.path === 'string' && Array.isArray(c.parameterOrder) && c.source !== null && typeof c.source === 'object';
}

/** Without a project there are no files: a step naming one could never run. */
function refuseFileSteps(pipeline: Pipeline): void {
  for (const step of pipeline.steps) {
    if (step.file_path === '') continue;
    throw new OptionsError('JOB_NO_PROJECT', `Step "${step.title || step.uuid}" names a file, but the job has no project directory to take it from`, {
      path: `pipeline.steps.${step.uuid}.file_path`,
      value: step.file_path,
      hint: 'Give the job a projectDir (its files are snapshotted), or make the step a function (file_path \'\', run by a FunctionStepExecutor)',
    });
  }
}

/** The project id of a job without a project directory: the host's, or one derived from the pipeline's uuid. */
function codeProjectId(pipeline: Pipeline, given: string | undefined): string {
  return given ?? createHash('sha256').update(`pipeline:${pipeline.uuid}`).digest('hex').slice(0, 16);
}
