import { constants } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { ExecutionError, joinPath } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Pipeline, PipelineStep, RunParameters } from '../pipeline/model.js';
import type { Snapshots } from '../snapshot/port.js';
import { encodeId } from './file-log-store.js';
import { pipelineBaseDir, runPipelineDocument, runPipelineFilePath } from './pipeline-file.js';
import { StepErrorCode } from './result.js';

/** Where a run's files are. */
export interface Workspace {
  /** The working copy: `<workRoot>/work/<runId>`; `''` for a run without one (no source). */
  readonly root: string;
  /** Kept artifacts: `<artifactsRoot>/<runId>`. */
  readonly artifactsDir: string;
  /** The run's copy of the pipeline file (absolute); `''` without a working copy. */
  readonly pipelineFile: string;
  /** The folder step `file_path`s are relative to (absolute); `''` without a working copy. */
  readonly baseDir: string;
}

/** Where a run's files come from: a snapshot, or a directory copied as it is. */
export type RunSource =
  | {
      /** The snapshot store the snapshot is in (a `SnapshotStore`). */
      readonly snapshots: Snapshots;
      /** The snapshot the working copy is made from. */
      readonly snapshotId: string;
    }
  | {
      /** A project directory, copied as it is into the working copy. */
      readonly directory: string;
    };

/**
 * The paths of a run's workspace (nothing is created). Without a working copy
 * (`withCopy: false`), only the artifacts folder has a path.
 */
export function workspacePaths(workRoot: string, artifactsRoot: string, runId: string, pipeline: Pipeline, withCopy = true): Workspace {
  if (!withCopy) return { root: '', artifactsDir: path.join(artifactsRoot, encodeId(runId)), pipelineFile: '', baseDir: '' };
  const root = path.join(workRoot, 'work', encodeId(runId));
  return {
    root,
    artifactsDir: path.join(artifactsRoot, encodeId(runId)),
    pipelineFile: path.join(root, ...runPipelineFilePath(pipeline).split('/')),
    baseDir: path.join(root, ...pipelineBaseDir(pipeline).split('/').filter(Boolean)),
  };
}

/**
 * Makes the working copy (a leftover of an earlier execution of the same run is removed
 * first) and writes the run's pipeline file into it. An existing file is replaced by
 * rename, never written in place: a snapshot store may hand out hard links.
 */
export async function materializeWorkspace(
  ws: Workspace,
  source: RunSource,
  pipeline: Pipeline,
  parameters: RunParameters,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  if (await exists(ws.root)) {
    logger.warn('removing a leftover working copy of this run', { path: ws.root });
    await rm(ws.root, { recursive: true, force: true });
  }
  await mkdir(path.dirname(ws.root), { recursive: true });
  if ('snapshots' in source) {
    await source.snapshots.materialize(source.snapshotId, ws.root, { signal });
  } else {
    await copyDirectory(source.directory, ws.root, signal);
  }
  signal.throwIfAborted();
  await mkdir(path.dirname(ws.pipelineFile), { recursive: true });
  // Compact JSON: for pipelines of thousands of steps, indenting costs more than it helps.
  const text = JSON.stringify(runPipelineDocument(pipeline, parameters));
  try {
    await writeFile(ws.pipelineFile, text, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // The snapshot's own copy: replaced by a rename, never written through (it may be a hard link).
    const tmp = `${ws.pipelineFile}.pipeline-jobs-tmp`;
    await writeFile(tmp, text);
    await rename(tmp, ws.pipelineFile);
  }
}

/**
 * The step's file in the working copy, `''` for a step without one. Throws
 * `STEP_FILE_OUTSIDE_PROJECT` for a path that leaves the working copy.
 */
export function stepFilePath(ws: Workspace, step: PipelineStep): string {
  if (step.file_path === '') return '';
  if (ws.root === '') {
    throw new ExecutionError(StepErrorCode.NO_WORKING_COPY, `Step "${step.title || step.uuid}" names a file, but the run has no working copy`, {
      path: joinPath('steps', step.uuid, 'file_path'),
      value: step.file_path,
      hint: 'Give the run a source (a job: a projectDir) or run the step as a function (file_path \'\')',
    });
  }
  const file = path.resolve(ws.baseDir, step.file_path);
  const rel = path.relative(ws.root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ExecutionError(StepErrorCode.FILE_OUTSIDE_PROJECT, `The file of step "${step.title || step.uuid}" is outside the project`, {
      path: joinPath('steps', step.uuid, 'file_path'),
      value: step.file_path,
      hint: 'file_path is relative to the pipeline file\'s folder and must stay inside the project',
    });
  }
  return file;
}

/** The step's own artifacts folder (created by executors that keep something). */
export function stepArtifactsDir(ws: Workspace, stepId: string): string {
  return path.join(ws.artifactsDir, 'steps', encodeId(stepId));
}

/** Copies the working copy's files matching `patterns` to `<artifactsDir>/outputs/`; returns the copies. */
export async function keepOutputs(ws: Workspace, patterns: readonly string[]): Promise<string[]> {
  if (patterns.length === 0 || !(await exists(ws.root))) return [];
  const matches = await fg([...patterns], { cwd: ws.root, dot: true, onlyFiles: true, followSymbolicLinks: false, unique: true });
  const kept: string[] = [];
  for (const rel of matches.sort()) {
    const target = path.join(ws.artifactsDir, 'outputs', ...rel.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await cp(path.join(ws.root, ...rel.split('/')), target, { verbatimSymlinks: true });
    kept.push(target);
  }
  return kept;
}

/** The run ids of the working copies in `<workRoot>/work`. */
export async function listWorkingCopies(workRoot: string, logger: Logger): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(path.join(workRoot, 'work'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // no run ever made a copy here
    throw error;
  }
  const ids: string[] = [];
  for (const name of names) {
    try {
      ids.push(decodeURIComponent(name));
    } catch (error) {
      logger.warn('a folder in the work root is not a run\'s working copy', { name, error });
    }
  }
  return ids;
}

/** Deletes the working copy. */
export async function removeWorkingCopy(ws: Pick<Workspace, 'root'>): Promise<void> {
  await rm(ws.root, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Copies a directory tree as it is (files, folders, symbolic links verbatim), each folder's
 * entries in parallel: several times faster than `fs.cp` for the small trees of a project.
 */
export async function copyDirectory(from: string, to: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  await mkdir(to, { recursive: true });
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const src = path.join(from, entry.name);
      const dst = path.join(to, entry.name);
      if (entry.isDirectory()) await copyDirectory(src, dst, signal);
      else if (entry.isSymbolicLink()) await symlink(await readlink(src), dst);
      else if (entry.isFile()) await copyFile(src, dst, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
      // Sockets, FIFOs and devices are not project files: skipped.
    }),
  );
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // absence is the answer
    throw error;
  }
}
