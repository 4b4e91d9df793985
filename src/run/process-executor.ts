import { access, mkdir } from 'node:fs/promises';
import { OptionsError, joinPath } from '../errors.js';
import {
  DEFAULT_INTERPRETERS,
  DEFAULT_KERNELS,
  resolveStepCommand,
  type CommandOptions,
  type StepCommand,
} from './command.js';
import { processOutcome, runStepProcess } from './spawn.js';
import type { StepContext, StepExecutor, StepInvocation, StepOutcome } from './step-executor.js';
import { argObject } from '../util/args.js';
import type { StepErrorCode } from './result.js';

/** Options of {@link ProcessStepExecutor} (and the bubblewrap executor). */
export interface ProcessStepExecutorOptions {
  /**
   * Commands by file extension, merged over the defaults (`.py` python3, `.sh` bash,
   * `.js`/`.mjs`/`.cjs` this Node, `.R` Rscript, `.ipynb` jupyter nbconvert). The step
   * file is appended, or replaces a `"{file}"` element. A pinned environment's
   * `interpreters` win over this map. For `.ipynb` the command is the `nbconvert` prefix.
   * @default {}
   * @example { '.py': ['/opt/venv/bin/python'], '.jl': ['julia', '--project', '{file}'] }
   */
  interpreters?: Record<string, readonly string[]>;
  /**
   * Notebook kernels: a step's `kernel.name`, Orchest's `orchest-kernel-<environment>` or an
   * environment id, mapped to a locally installed kernel; merged over the defaults
   * (`python` -> `python3`, `r` -> `ir`).
   * @default {}
   */
  kernels?: Record<string, string>;
  /** The kernel of notebooks nothing maps. @default 'python3' */
  defaultKernel?: string;
  /** Render each executed notebook to HTML beside it in the step's artifacts. @default true */
  notebookHtml?: boolean;
}

/**
 * Runs each step as a local process, chosen by the file's extension, in the step file's
 * folder, with exactly the step's environment (plus `PIPELINE_JOBS_STEP_TOKEN`, which
 * marks its processes). Notebooks run with `jupyter nbconvert --execute`; the executed
 * notebook (and its HTML) are kept in the step's artifacts. Stopping ends the whole
 * process tree, also processes that started their own session (see `killStepProcesses`).
 */
export class ProcessStepExecutor implements StepExecutor {
  readonly #options: CommandOptions;

  /**
   * Checks the options and merges them over the default commands and kernels.
   * @param options interpreters, kernels and notebook rendering; every field optional
   * @throws {@link OptionsError} `OPTIONS_INVALID` when an interpreter is not a non-empty string array keyed by a dotted
   *   extension, or a kernel name is empty
   */
  constructor(options: ProcessStepExecutorOptions = {}) {
    argObject(options, 'options', 'new ProcessStepExecutor');
    this.#options = resolveCommandOptions(options);
  }

  /**
   * Runs the step's file as a process in its folder and resolves with its exit code or signal
   * (and, for a notebook, the executed notebook and its HTML as artifacts).
   * @param invocation the step and its file
   * @param context the step's environment, working directory, output writers and stop signal
   * @throws {@link ExecutionError} before starting: `STEP_NO_FILE`, `STEP_FILE_MISSING`, `STEP_UNKNOWN_FILE_TYPE`,
   *   `STEP_INVALID_KERNEL`, `STEP_INTERPRETER_MISSING`, `STEP_SPAWN_FAILED` (see {@link StepErrorCode})
   */
  async run(invocation: StepInvocation, context: StepContext): Promise<StepOutcome> {
    const command = await resolveStepCommand(invocation, context, this.#options);
    return executeStepCommand(command, context, (argv) => argv);
  }
}

/** Checks and copies process executor options. */
export function resolveCommandOptions(options: ProcessStepExecutorOptions, base = 'options'): CommandOptions {
  const { interpreters = {}, kernels = {}, defaultKernel = 'python3', notebookHtml = true } = { ...options };
  for (const [ext, argv] of Object.entries(interpreters)) {
    if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string') || argv.length === 0) {
      throw new OptionsError('OPTIONS_INVALID', `The command for "${ext}" must be a non-empty array of strings`, {
        path: joinPath(base, 'interpreters', ext),
        value: argv,
      });
    }
    if (!ext.startsWith('.')) {
      throw new OptionsError('OPTIONS_INVALID', 'Interpreter keys are file extensions with their dot', {
        path: joinPath(base, 'interpreters', ext),
        value: ext,
        hint: 'Write ".py", not "py"',
      });
    }
  }
  for (const [name, kernel] of Object.entries(kernels)) {
    if (typeof kernel !== 'string' || kernel === '') {
      throw new OptionsError('OPTIONS_INVALID', 'A kernel must be a non-empty string', { path: joinPath(base, 'kernels', name), value: kernel });
    }
  }
  if (typeof defaultKernel !== 'string' || defaultKernel === '') {
    throw new OptionsError('OPTIONS_INVALID', 'defaultKernel must be a non-empty string', { path: `${base}.defaultKernel`, value: defaultKernel });
  }
  return Object.freeze({
    interpreters: Object.freeze({ ...DEFAULT_INTERPRETERS, ...copyArrays(interpreters) }),
    kernels: Object.freeze({ ...DEFAULT_KERNELS, ...kernels }),
    defaultKernel,
    notebookHtml: Boolean(notebookHtml),
  });
}

/**
 * Runs a resolved command through `wrap` (identity for plain processes, the sandbox for
 * bubblewrap). A notebook is executed, then rendered to HTML when it succeeded; a failed
 * rendering is noted in the log and does not fail the step.
 */
export async function executeStepCommand(
  command: StepCommand,
  context: StepContext,
  wrap: (argv: readonly string[]) => readonly string[],
): Promise<StepOutcome> {
  if (command.kind === 'program') return processOutcome(await runStepProcess(wrap(command.argv), context));
  await mkdir(context.artifactsDir, { recursive: true });
  const exit = await runStepProcess(wrap(command.execute), context);
  const artifacts: string[] = [];
  if (await exists(command.executedPath)) artifacts.push(command.executedPath);
  const ok = exit.exitCode === 0 && exit.signal === null;
  if (ok && command.html && !context.signal.aborted && artifacts.length > 0) {
    const html = await runStepProcess(wrap(command.html), context);
    if (html.exitCode === 0 && (await exists(command.htmlPath))) artifacts.push(command.htmlPath);
    else context.stderr.write(`[pipeline-jobs] rendering the executed notebook to HTML failed (exit ${html.exitCode ?? html.signal}); the notebook is kept\n`);
  }
  return processOutcome(exit, artifacts);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // not written: nbconvert failed before
    throw error;
  }
}

function copyArrays(map: Record<string, readonly string[]>): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const [k, v] of Object.entries(map)) out[k] = Object.freeze([...v]);
  return out;
}
