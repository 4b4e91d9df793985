import { OptionsError } from '../errors.js';
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
  if (typeof spec.pipeline !== 'string' || spec.pipeline === '') {
    throw new OptionsError('JOB_SPEC_INVALID', 'A job needs the pipeline file, relative to the project root', { path: 'pipeline', value: spec.pipeline, hint: 'e.g. "main.orchest"' });
  }
  if (typeof spec.projectDir !== 'string' || spec.projectDir === '') {
    throw new OptionsError('JOB_SPEC_INVALID', 'A job needs the project directory', { path: 'projectDir', value: spec.projectDir });
  }
  const now = o.clock.now();
  const schedule = ctx.schedules.normalize(spec.schedule ?? { type: 'now' }, now);
  const options = checkJobOptions(spec.options ?? {});
  const envVars = mergeEnv(spec.env);
  const projectId = await projectIdOf(spec.projectDir, spec.projectId);

  const snapshot = await o.snapshots.create(spec.projectDir);
  return cleanupOnError(
    async () => {
      const pipeline = await readPipelineFromSnapshot(o.snapshots, snapshot.id, spec.pipeline);
      await checkStepFiles(o.snapshots, snapshot.id, spec.pipeline, pipeline);
      for (const w of pipeline.warnings) o.logger.warn(w, { pipeline: spec.pipeline });
      const grid = await buildGrid(pipeline, spec.parameters ?? { from: 'auto' }, o.snapshots, snapshot.id, {
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
        snapshotId: snapshot.id,
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
    () => o.snapshots.delete(snapshot.id),
  );
}
