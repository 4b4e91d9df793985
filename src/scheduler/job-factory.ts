import { realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { validateJobEnv } from '../run/step-environment.js';
import { createHash, randomUUID } from 'node:crypto';
import type { EnvironmentResolver, PinnedEnvironment } from '../environment.js';
import { OptionsError, SnapshotError } from '../errors.js';
import { ParameterGrid, GridSelection, readFromSnapshot } from '../parameters/index.js';
import { parsePipeline } from '../pipeline/load.js';
import type { Pipeline } from '../pipeline/model.js';
import type { Snapshots } from '../snapshot/port.js';
import type { GridDefinition } from '../parameters/types.js';
import type { ParametersInput, SelectionInput } from './types.js';

/** Reads the pipeline file from the snapshot (never from the live tree). */
export async function readPipelineFromSnapshot(snapshots: Snapshots, snapshotId: string, pipelinePath: string): Promise<Pipeline> {
  let text: string;
  try {
    text = (await snapshots.readFile(snapshotId, pipelinePath)).toString('utf8');
  } catch (err) {
    throw new OptionsError('JOB_PIPELINE_NOT_FOUND', 'The pipeline file is not in the project snapshot', {
      path: 'pipeline',
      value: pipelinePath,
      hint: 'Give the path relative to the project root; ignored files (.gitignore) are not in snapshots',
      cause: err,
    });
  }
  return parsePipeline(text, { path: pipelinePath });
}

/** Builds the grid a job's parameters input describes, reading files from the snapshot. */
export async function buildGrid(
  pipeline: Pipeline,
  input: ParametersInput,
  snapshots: Snapshots,
  snapshotId: string | null,
  options: { allowNewParameters: boolean; maxRunsPerBatch: number },
): Promise<ParameterGrid> {
  const gridOptions = { allowNewParameters: options.allowNewParameters, maxRunsPerBatch: options.maxRunsPerBatch };
  if (input === null || typeof input !== 'object') {
    throw new OptionsError('JOB_BAD_PARAMETERS_INPUT', 'The parameters input must be an object', { path: 'parameters', value: input, hint: 'Use { from: "auto" }, { from: "file", path } or { from: "spec", spec }' });
  }
  switch (input.from) {
    case 'auto':
      // Without a project there is no parameters file to find: the pipeline's defaults.
      if (snapshotId === null) return new ParameterGrid(pipeline, null, gridOptions);
      return ParameterGrid.forPipeline(pipeline, { ...gridOptions, read: readFromSnapshot(snapshots, snapshotId) });
    case 'file':
      if (snapshotId === null) {
        throw new OptionsError('JOB_NO_PROJECT', 'A parameters file needs a project directory to read it from', {
          path: 'parameters.path',
          value: input.path,
          hint: 'Give the job a projectDir, or the values as { from: "spec", spec }',
        });
      }
      return ParameterGrid.fromFile(pipeline, input.path, { ...gridOptions, read: readFromSnapshot(snapshots, snapshotId) });
    case 'spec':
      return new ParameterGrid(pipeline, input.spec as never, gridOptions);
    default:
      throw new OptionsError('JOB_BAD_PARAMETERS_INPUT', 'Unknown parameters input', {
        path: 'parameters.from',
        value: (input as { from?: unknown }).from,
        hint: 'Use { from: "auto" }, { from: "file", path } or { from: "spec", spec }',
      });
  }
}

/** The selection input as the grid's normalised selection (checked against its size and limit). */
export function buildSelection(grid: ParameterGrid, input: SelectionInput | undefined): GridSelection {
  if (input === undefined || input === 'all') return grid.select('all');
  if ('indices' in input) return grid.select(input.indices);
  if ('ranges' in input) return grid.select(GridSelection.fromRanges(input.ranges));
  throw new OptionsError('JOB_BAD_SELECTION', 'Unknown selection input', {
    path: 'selection',
    value: input,
    hint: 'Use "all", { indices: [...] } or { ranges: [[start, end], ...] }',
  });
}

/** Records what each environment id the pipeline uses means now. */
export async function pinEnvironments(resolver: EnvironmentResolver | undefined, pipeline: Pipeline): Promise<Record<string, PinnedEnvironment>> {
  const ids = [...new Set(pipeline.steps.map((s) => s.environment))].filter((id) => id !== '');
  if (!resolver || ids.length === 0) return {};
  return resolver.resolve(ids);
}

/** Project < pipeline < job variables, checked to be strings. */
export function mergeEnv(env: { project?: Record<string, string>; pipeline?: Record<string, string>; job?: Record<string, string> } | undefined): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const layer of ['project', 'pipeline', 'job'] as const) {
    const vars = env?.[layer];
    if (vars === undefined) continue;
    // The run module's validator, the one every run applies: what it would refuse at run
    // time (reserved ORCHEST_* / PIPELINE_JOBS_* names, NUL, `=`) is refused here.
    validateJobEnv(vars, `env.${layer}`);
    Object.assign(merged, vars);
  }
  return merged;
}

/**
 * Refuses a pipeline whose steps name files the snapshot does not hold (every run would
 * fail on them). `file_path` is relative to the pipeline file's folder; a step without a
 * file (`''`, run by a function executor) is fine.
 */
export async function checkStepFiles(snapshots: Snapshots, snapshotId: string, pipelinePath: string, pipeline: Pipeline): Promise<void> {
  const folder = posix.dirname(pipelinePath);
  for (const step of pipeline.steps) {
    if (step.file_path === '') continue;
    const at = `steps.${step.uuid}.file_path`;
    const file = posix.normalize(posix.join(folder, step.file_path));
    if (posix.isAbsolute(step.file_path) || file === '..' || file.startsWith('../')) {
      throw new OptionsError('JOB_STEP_FILE_OUTSIDE', `The file of step "${step.title || step.uuid}" is outside the project`, { path: at, value: step.file_path, hint: 'Give a path inside the project, relative to the pipeline file\'s folder' });
    }
    try {
      await snapshots.readFile(snapshotId, file);
    } catch (cause) {
      if ((cause as { code?: string }).code !== 'SNAPSHOT_FILE_NOT_FOUND') throw cause;
      throw new OptionsError('JOB_STEP_FILE_NOT_FOUND', `The file of step "${step.title || step.uuid}" is not in the project snapshot`, {
        path: at,
        value: step.file_path,
        hint: 'file_path is relative to the pipeline file\'s folder; ignored files (.gitignore) are not in snapshots',
        cause,
      });
    }
  }
}

/** The host's project id, or one derived from the directory's real path. */
export async function projectIdOf(projectDir: string, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  let real: string;
  try {
    real = await realpath(projectDir);
  } catch (err) {
    throw new OptionsError('JOB_PROJECT_NOT_FOUND', 'The project directory does not exist', { path: 'projectDir', value: projectDir, cause: err });
  }
  return projectIdOfRealPath(real);
}

/** The project id of a directory's real path (what a snapshot records as its `sourceDir`). */
export function projectIdOfRealPath(real: string): string {
  return createHash('sha256').update(real).digest('hex').slice(0, 16);
}

/** A new random id. */
export function newId(): string {
  return randomUUID();
}

/** The grid's JSON form, as a job record keeps it. */
export function gridJson(grid: ParameterGrid): GridDefinition {
  return grid.toJSON();
}

/**
 * Rethrows with the snapshot cleaned up: bad input changes no state. When the clean-up
 * fails too, a `SnapshotError` `SNAPSHOT_CLEANUP_FAILED` says so, with the first error as
 * its `cause` and the snapshot left behind as its `value`.
 */
export async function cleanupOnError<T>(work: () => Promise<T>, cleanup: () => Promise<void>, snapshotId: string | null): Promise<T> {
  try {
    return await work();
  } catch (err) {
    try {
      await cleanup();
    } catch (cleanupErr) {
      throw new SnapshotError('SNAPSHOT_CLEANUP_FAILED', `Creating the job failed (${(err as Error).message}), and removing its snapshot failed too: ${(cleanupErr as Error).message}`, {
        path: 'snapshotId',
        value: snapshotId,
        hint: 'The first error is the cause; remove the snapshot left behind with SnapshotStore.delete',
        cause: err,
      });
    }
    throw err;
  }
}
