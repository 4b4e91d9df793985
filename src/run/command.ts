import { statSync } from 'node:fs';
import path from 'node:path';
import { ExecutionError, joinPath } from '../errors.js';
import type { PinnedEnvironment } from '../environment.js';
import type { PipelineStep } from '../pipeline/model.js';
import { StepErrorCode } from './result.js';
import type { StepContext, StepInvocation } from './step-executor.js';

/** In an interpreter command, this element is replaced by the step file; without it the file is appended. */
export const FILE_PLACEHOLDER = '{file}';

/** The extension of notebooks; its interpreter is the `jupyter nbconvert` command prefix. */
export const NOTEBOOK_EXTENSION = '.ipynb';

/** The interpreters process executors use by default, by file extension. */
export const DEFAULT_INTERPRETERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  '.py': ['python3'],
  '.sh': ['bash'],
  '.js': [process.execPath],
  '.mjs': [process.execPath],
  '.cjs': [process.execPath],
  '.R': ['Rscript'],
  '.r': ['Rscript'],
  [NOTEBOOK_EXTENSION]: ['jupyter', 'nbconvert'],
});

/** Kernel names of Orchest pipeline files mapped to usual local kernels. */
export const DEFAULT_KERNELS: Readonly<Record<string, string>> = Object.freeze({
  python: 'python3',
  python3: 'python3',
  r: 'ir',
  ir: 'ir',
});

/** How commands are chosen (options of the process executors). */
export interface CommandOptions {
  readonly interpreters: Readonly<Record<string, readonly string[]>>;
  readonly kernels: Readonly<Record<string, string>>;
  readonly defaultKernel: string;
  readonly notebookHtml: boolean;
}

/** What to run for a step. */
export type StepCommand =
  | { readonly kind: 'program'; readonly argv: readonly string[] }
  | {
      readonly kind: 'notebook';
      /** Execute, keeping the executed notebook in the step's artifacts dir. */
      readonly execute: readonly string[];
      /** Render the executed notebook to HTML beside it, when asked for. */
      readonly html?: readonly string[];
      readonly executedPath: string;
      readonly htmlPath: string;
    };

/**
 * Chooses the command of a step from its file's extension: the pinned environment's
 * `interpreters` first, then the executor's map. Throws an `ExecutionError` for a step
 * without a file, a missing file, or an unmapped extension.
 */
export async function resolveStepCommand(invocation: StepInvocation, context: StepContext, options: CommandOptions): Promise<StepCommand> {
  const { step } = invocation;
  const filePath = invocation.filePath;
  const at = joinPath('steps', step.uuid, 'file_path');
  if (filePath === '') {
    throw new ExecutionError(StepErrorCode.NO_FILE, `Step "${step.title || step.uuid}" names no file to run`, {
      path: at,
      value: step.file_path,
      hint: 'Set the step\'s file_path, or run it with an executor that does not need a file (FunctionStepExecutor)',
    });
  }
  await assertFile(filePath, step, at);
  const ext = path.extname(filePath);
  const prefix = lookup(context.environment?.interpreters, ext) ?? lookup(options.interpreters, ext);
  if (prefix === undefined || prefix.length === 0) {
    throw new ExecutionError(StepErrorCode.UNKNOWN_FILE_TYPE, `No interpreter is mapped to "${ext || '(no extension)'}" files`, {
      path: at,
      value: step.file_path,
      hint: 'Map the extension to a command with the executor\'s interpreters option, e.g. { ".jl": ["julia"] }',
    });
  }
  if (ext.toLowerCase() !== NOTEBOOK_EXTENSION) return { kind: 'program', argv: withFile(prefix, filePath) };
  const kernel = notebookKernel(step, context.environment, options);
  if (!/^[A-Za-z0-9._-]+$/.test(kernel)) {
    throw new ExecutionError(StepErrorCode.INVALID_KERNEL, `"${kernel}" is not a kernel name`, {
      path: joinPath('steps', step.uuid, 'kernel', 'name'),
      value: kernel,
      hint: 'Kernel names hold letters, digits, ".", "_" and "-"; map the step\'s kernel with the kernels option',
    });
  }
  const name = path.basename(filePath);
  const outDir = context.artifactsDir;
  const executedPath = path.join(outDir, name);
  return {
    kind: 'notebook',
    execute: [...prefix, '--to', 'notebook', '--execute', `--ExecutePreprocessor.kernel_name=${kernel}`, '--output-dir', outDir, '--output', name, filePath],
    ...(options.notebookHtml ? { html: [...prefix, '--to', 'html', '--output-dir', outDir, executedPath] } : {}),
    executedPath,
    htmlPath: path.join(outDir, `${path.basename(name, path.extname(name))}.html`),
  };
}

/**
 * The local kernel a notebook step runs with. In order: the map entry of the step's
 * `kernel.name`; of Orchest's `orchest-kernel-<environment>`; of the environment id; the
 * pinned environment's `details.kernel`; the step's `kernel.name` itself unless it is an
 * Orchest-only name; the default kernel.
 */
export function notebookKernel(
  step: PipelineStep,
  environment: PinnedEnvironment | undefined,
  options: Pick<CommandOptions, 'kernels' | 'defaultKernel'>,
): string {
  const asked = step.kernel?.name;
  const orchestName = `orchest-kernel-${step.environment}`;
  const fromMap = (asked !== undefined ? own(options.kernels, asked) : undefined) ?? own(options.kernels, orchestName) ?? own(options.kernels, step.environment);
  if (fromMap !== undefined) return fromMap;
  const pinned = environment?.details?.kernel;
  if (typeof pinned === 'string' && pinned !== '') return pinned;
  if (asked !== undefined && asked !== '' && !asked.startsWith('orchest-kernel-')) return asked;
  return options.defaultKernel;
}

async function assertFile(filePath: string, step: PipelineStep, at: string): Promise<void> {
  // Synchronous: a stat is a few microseconds, a round trip through the thread pool is far more.
  let isFile = false;
  try {
    isFile = statSync(filePath, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch (error) {
    // ENOTDIR: a parent in the path is a file, so the step file is not there either.
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
  }
  if (!isFile) {
    throw new ExecutionError(StepErrorCode.FILE_MISSING, `The file of step "${step.title || step.uuid}" is not in the project`, {
      path: at,
      value: step.file_path,
      hint: 'file_path is relative to the pipeline file\'s folder; check the snapshot holds the file (and that it is not ignored)',
    });
  }
}

function lookup(map: Readonly<Record<string, readonly string[]>> | undefined, ext: string): readonly string[] | undefined {
  if (!map) return undefined;
  return own(map, ext) ?? own(map, ext.toLowerCase());
}

function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

function withFile(prefix: readonly string[], file: string): string[] {
  return prefix.includes(FILE_PLACEHOLDER) ? prefix.map((a) => (a === FILE_PLACEHOLDER ? file : a)) : [...prefix, file];
}
