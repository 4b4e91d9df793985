import { access, constants, mkdir, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { ExecutionError, OptionsError } from '../errors.js';
import { resolveStepCommand, type CommandOptions } from './command.js';
import { executeStepCommand, resolveCommandOptions, type ProcessStepExecutorOptions } from './process-executor.js';
import { StepErrorCode } from './result.js';
import type { StepContext, StepExecutor, StepInvocation, StepOutcome } from './step-executor.js';
import { argObject } from '../util/args.js';

/** Where the working copy is mounted a second time in the sandbox, as in Orchest. */
export const SANDBOX_PROJECT_DIR = '/project-dir';
/** Where the host data directory is mounted, as in Orchest. */
export const SANDBOX_DATA_DIR = '/data';

/** Options of {@link BubblewrapStepExecutor}; the process executor's options choose the command. */
export interface BubblewrapStepExecutorOptions extends ProcessStepExecutorOptions {
  /** The bubblewrap program. @default 'bwrap' */
  bwrap?: string;
  /** A host directory mounted writable at `/data` (Orchest's convention). @default undefined (no /data) */
  dataDir?: string;
  /** Keep the host's network; otherwise the step only has a loopback interface. @default false */
  network?: boolean;
  /**
   * The step's `HOME`: an empty writable `tmpfs` (tools that write to the home, like
   * Jupyter, work; files installed in the host's home are hidden) or the host's, read-only.
   * @default 'tmpfs'
   */
  home?: 'tmpfs' | 'read-only';
  /**
   * The system root mounted read-only at `/`. A pinned environment's `details.root` (a
   * string) wins, so a `'sandbox'` environment can name its own root file system.
   * @default '/'
   */
  root?: string;
  /** More bwrap arguments, placed before the command (e.g. `['--ro-bind', '/opt/models', '/models']`). @default [] */
  extraArgs?: readonly string[];
}

/**
 * Runs each step as a local process inside a bubblewrap sandbox: the system read-only,
 * the run's working copy writable (at its own path and at `/project-dir`), the step's
 * artifacts dir writable, an optional host data dir at `/data`, a private `/tmp`, its own
 * PID namespace (the sandbox dies with it), `--die-with-parent`, a new session, no network
 * unless allowed. The model for container executors: the same commands, wrapped.
 */
export class BubblewrapStepExecutor implements StepExecutor {
  readonly #command: CommandOptions;
  readonly #options: Required<Omit<BubblewrapStepExecutorOptions, keyof ProcessStepExecutorOptions | 'dataDir'>> & { dataDir?: string };

  /**
   * Checks the options; the sandbox is built for each step when it runs.
   * @param options the sandbox's settings and the process executor's command options; every field optional
   * @throws {@link OptionsError} `OPTIONS_INVALID` when `dataDir` or `root` is not absolute, `home` is unknown,
   *   `extraArgs` is not a string array, or a command option is invalid
   */
  constructor(options: BubblewrapStepExecutorOptions = {}) {
    argObject(options, 'options', 'new BubblewrapStepExecutor');
    this.#command = resolveCommandOptions(options);
    const { bwrap = 'bwrap', dataDir, network = false, home = 'tmpfs', root = '/', extraArgs = [] } = { ...options };
    if (dataDir !== undefined && (typeof dataDir !== 'string' || !path.isAbsolute(dataDir))) {
      throw new OptionsError('OPTIONS_INVALID', 'dataDir must be an absolute path', { path: 'options.dataDir', value: dataDir });
    }
    if (home !== 'tmpfs' && home !== 'read-only') {
      throw new OptionsError('OPTIONS_INVALID', "home must be 'tmpfs' or 'read-only'", { path: 'options.home', value: home });
    }
    if (typeof root !== 'string' || !path.isAbsolute(root)) {
      throw new OptionsError('OPTIONS_INVALID', 'root must be an absolute path', { path: 'options.root', value: root });
    }
    if (!Array.isArray(extraArgs) || extraArgs.some((a) => typeof a !== 'string')) {
      throw new OptionsError('OPTIONS_INVALID', 'extraArgs must be an array of strings', { path: 'options.extraArgs', value: extraArgs });
    }
    this.#options = Object.freeze({
      bwrap,
      network: Boolean(network),
      home,
      root,
      extraArgs: Object.freeze([...extraArgs]),
      ...(dataDir === undefined ? {} : { dataDir }),
    });
  }

  /**
   * Runs the step's command inside the sandbox and resolves with its exit code or signal.
   * @param invocation the step and its file
   * @param context the step's environment, working directory, output writers and stop signal
   * @throws {@link ExecutionError} before starting: the process executor's codes, and `STEP_INTERPRETER_MISSING`
   *   when the program is not in the sandbox root's `PATH`
   */
  async run(invocation: StepInvocation, context: StepContext): Promise<StepOutcome> {
    const command = await resolveStepCommand(invocation, context, this.#command);
    const program = command.kind === 'program' ? command.argv[0] : command.execute[0];
    // Inside the sandbox a missing program is only bwrap's exit 1: tell it apart beforehand.
    if (program !== undefined) await assertOnPath(program, context.env.PATH ?? '', this.#rootFor(context));
    // bwrap mounts the artifacts dir, so it must exist before the sandbox starts.
    await mkdir(context.artifactsDir, { recursive: true });
    const prefix = this.sandboxArgs(context, await rootEntries(this.#rootFor(context)));
    return executeStepCommand(command, context, (argv) => [...prefix, '--', ...argv]);
  }

  /**
   * The bwrap command line before `--` for a step (exposed for diagnostics and tests).
   * `entries` are the root's top-level entries but /proc, /dev, /tmp, /project-dir and /data
   * (what the module's `rootEntries(root)` reads), sorted by name.
   */
  sandboxArgs(context: Pick<StepContext, 'workDir' | 'artifactsDir' | 'cwd' | 'env' | 'environment'>, entries: readonly RootEntry[]): string[] {
    const o = this.#options;
    const root = this.#rootFor(context);
    const home = context.env.HOME;
    // The sandbox root is bwrap's own tmpfs with the system's top-level entries bound
    // read-only into it: a read-only bind of / itself would leave no place for the
    // /project-dir and /data mount points.
    const system = entries.flatMap((e) =>
      e.symlink !== undefined ? ['--symlink', e.symlink, `/${e.name}`] : ['--ro-bind', path.join(root, e.name), `/${e.name}`],
    );
    const args = [
      o.bwrap,
      '--die-with-parent',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      ...(o.network ? [] : ['--unshare-net']),
      '--new-session',
      ...system,
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      // Mounted before the binds below, so a working copy under HOME or /tmp shows through.
      ...(o.home === 'tmpfs' && home !== undefined && path.isAbsolute(home) && home !== '/' ? ['--tmpfs', home] : []),
      '--bind',
      context.workDir,
      context.workDir,
      '--bind',
      context.workDir,
      SANDBOX_PROJECT_DIR,
      '--bind',
      context.artifactsDir,
      context.artifactsDir,
      ...(o.dataDir === undefined ? [] : ['--bind', o.dataDir, SANDBOX_DATA_DIR]),
      '--chdir',
      context.cwd,
      ...o.extraArgs,
    ];
    return args;
  }

  #rootFor(context: Pick<StepContext, 'environment'>): string {
    const pinnedRoot = context.environment?.details?.root;
    return typeof pinnedRoot === 'string' && path.isAbsolute(pinnedRoot) ? pinnedRoot : this.#options.root;
  }
}

/** A top-level entry of the sandbox's system root. */
export interface RootEntry {
  /** The entry's name under the root (`usr`, `etc`, ...). */
  readonly name: string;
  /** The link target, when the entry is a symbolic link (`/bin -> usr/bin`). */
  readonly symlink?: string;
}

/** Mounted by the sandbox itself, never bound from the host root. */
const OWN_MOUNTS = new Set(['proc', 'dev', 'tmp', SANDBOX_PROJECT_DIR.slice(1), SANDBOX_DATA_DIR.slice(1)]);

/** The top-level entries of `root` the sandbox binds read-only (all but /proc, /dev, /tmp, /project-dir, /data). */
export async function rootEntries(root: string): Promise<RootEntry[]> {
  const out: RootEntry[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (OWN_MOUNTS.has(entry.name)) continue;
    if (entry.isSymbolicLink()) out.push({ name: entry.name, symlink: await readlink(path.join(root, entry.name)) });
    else out.push({ name: entry.name });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Throws `STEP_INTERPRETER_MISSING` unless `program` is an executable under `root` (searched on PATH when bare). */
async function assertOnPath(program: string, pathVar: string, root: string): Promise<void> {
  const candidates = program.includes('/')
    ? [path.join(root, program)]
    : pathVar.split(':').filter((d) => path.isAbsolute(d)).map((d) => path.join(root, d, program));
  for (const file of candidates) {
    try {
      await access(file, constants.X_OK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
      // not here (or not executable): try the next PATH entry
    }
  }
  throw new ExecutionError(StepErrorCode.INTERPRETER_MISSING, `The program "${program}" is not installed in the sandbox's system`, {
    value: program,
    hint: `Install it under ${root}, or map the file type to another command (interpreters option or the pinned environment)`,
  });
}
