import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ParameterError, PipelineJobsError } from '../errors.js';
import type { Snapshots } from '../snapshot/port.js';
import { ParameterErrorCode } from './codes.js';
import { argString } from '../util/args.js';

/**
 * Reads one file for the parameters loader, so the same code reads from a directory on
 * disk or from a job's snapshot. Must hold: resolves the file's content (text or bytes,
 * UTF-8) or `undefined` when the file does not exist; rejects on any other failure (an
 * unreadable file is an error, not an absent one).
 */
export type ParametersFileReader = (path: string) => Promise<string | Uint8Array | undefined>;

/**
 * Where Orchest looks for a pipeline's parameters file: beside it, with the extension
 * replaced (`pipelines/main.orchest` -> `pipelines/main.parameters.json`). `undefined` for
 * a pipeline defined in code (empty path).
 */
export function parametersFileFor(pipelinePath: string): string | undefined {
  if (pipelinePath === '') return undefined;
  const dir = path.posix.dirname(pipelinePath);
  const base = path.posix.basename(pipelinePath);
  const ext = path.posix.extname(base);
  const name = `${ext === '' ? base : base.slice(0, -ext.length)}.parameters.json`;
  return dir === '.' ? name : `${dir}/${name}`;
}

/**
 * A reader of files under `root` (paths relative to it, `/`-separated). A path that
 * leaves `root` is refused with `PARAMETERS_FILE_OUTSIDE_ROOT`.
 */
export function readFromDirectory(root: string): ParametersFileReader {
  argString(root, 'root', 'readFromDirectory');
  const base = path.resolve(root);
  return async (file) => {
    const full = path.resolve(base, file);
    const rel = path.relative(base, full);
    if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      throw new ParameterError(ParameterErrorCode.FILE_OUTSIDE_ROOT, 'The parameters file is not inside the directory it is read from', {
        path: file,
        value: file,
        hint: `Name a file inside ${JSON.stringify(base)}, relative to it`,
      });
    }
    return readOrUndefined(full);
  };
}

/** A reader of files on disk, paths taken as given (absolute, or relative to the working directory). */
export function readFromDisk(): ParametersFileReader {
  return (file) => readOrUndefined(file);
}

/**
 * A reader of the files of one snapshot, so a job reads the parameters file it was
 * created with, never the live tree. A file is absent when `readFile` rejects with an
 * error whose `code` is `SNAPSHOT_FILE_NOT_FOUND` (the `Snapshots` contract) or `ENOENT`;
 * any other rejection (an unknown snapshot) is passed on.
 */
export function readFromSnapshot(snapshots: Pick<Snapshots, 'readFile'>, snapshotId: string): ParametersFileReader {
  return async (file) => {
    try {
      return await snapshots.readFile(snapshotId, file);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  };
}

/** The text of `file`, or `undefined` when the reader says it does not exist. */
export async function readText(read: ParametersFileReader, file: string): Promise<string | undefined> {
  const content = await read(file);
  if (content === undefined) return undefined;
  return typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
}

/**
 * Names the file in a parameters error thrown while reading it. The error was created
 * by this call and not yet seen by anyone, so amending its message is safe and keeps its
 * code, path, value, hint and stack.
 */
export function inFile(err: unknown, file: string): unknown {
  if (err instanceof PipelineJobsError) err.message = `${file}: ${err.message}`;
  return err;
}

async function readOrUndefined(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    // Absent (or a parent is a file, not a folder): the caller decides whether that is an error.
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'SNAPSHOT_FILE_NOT_FOUND';
}

/**
 * Finds the parameters file beside a pipeline file (see {@link parametersFileFor}):
 * its path and text, or `undefined` when there is none.
 */
export async function findParametersFile(
  pipelinePath: string,
  read: ParametersFileReader,
): Promise<
  | {
      /** The file found (`<pipeline>.parameters.json`), relative as `read` takes it. */
      path: string;
      /** Its text. */
      text: string;
    }
  | undefined
> {
  const file = parametersFileFor(pipelinePath);
  if (file === undefined) return undefined;
  const text = await readText(read, file);
  return text === undefined ? undefined : { path: file, text };
}
