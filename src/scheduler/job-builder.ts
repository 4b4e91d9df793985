import { OptionsError } from '../errors.js';
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
}

/**
 * Everything `createJob` checks and freezes, in an order that leaves no state behind on
 * bad input: cheap checks first, then the snapshot, then what is read from it (removing
 * the snapshot again if any of that fails).
 */
export async function buildJobRecord(ctx: SchedulerContext, spec: JobSpec): Promise<BuiltJob> {
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
  if (projectDir === undefined && inCode === undefined) {
    throw new OptionsError('JOB_SPEC_INVALID', 'A job whose pipeline is a file needs the project directory', {
      path: 'projectDir',
      value: projectDir,
      hint: 'Give projectDir, or define the pipeline in code (definePipeline)',
    });
  }
  if (spec.projectId !== undefined && (typeof spec.projectId !== 'string' || spec.projectId === '')) {
    throw new OptionsError('JOB_SPEC_INVALID', 'projectId must be a non-empty string when given', { path: 'projectId', value: spec.projectId });
  }
  if (projectDir === undefined && inCode !== undefined) refuseFileSteps(inCode);
  const now = o.clock.now();
  const schedule = ctx.schedules.normalize(spec.schedule ?? { type: 'now' }, now);
  const options = checkJobOptions(spec.options ?? {});
  const envVars = mergeEnv(spec.env);
  const projectId = projectDir === undefined ? codeProjectId(inCode!, spec.projectId) : await projectIdOf(projectDir, spec.projectId);

  // Without a project directory there is no snapshot: nothing is written anywhere.
  const snapshot: Awaited<ReturnType<Snapshots['create']>> | undefined = projectDir === undefined ? undefined : await o.snapshots.create(projectDir);
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
      };
      return { record };
    },
    async () => {
      if (snapshot) await o.snapshots.delete(snapshot.id);
    },
  );
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
