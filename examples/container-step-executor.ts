/**
 * A custom step executor that runs each step in a container, through a docker-style command
 * line (`docker`, `podman`, `nerdctl`...). It passes the step-executor contract suite that
 * every shipped executor passes: test/examples/container-step-executor.test.ts runs it
 * against examples/container-runtime/fake-runtime.mjs, a stand-in for `docker` (CI has no
 * container daemon).
 *
 * Use it for some environments and local processes for the rest:
 *
 *   new RunExecutor({ stepExecutors: { image: new ContainerStepExecutor(), '*': new ProcessStepExecutor() }, ... })
 *
 * The class between the two `#region` lines is the sample shown in docs/running.md
 * ("Writing your own executor"); a test keeps them equal.
 */
// #region sample
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { ExecutionError } from 'pipeline-jobs';
import type { StepContext, StepExecutor, StepInvocation, StepOutcome } from 'pipeline-jobs/executors';

/** Options of {@link ContainerStepExecutor}. */
export interface ContainerStepExecutorOptions {
  /** The runtime's command line prefix. @default ['docker'] */
  readonly runtime?: readonly string[];
  /** The image for steps whose environment pins none (`environment.digest` or `.image` win). @default 'python:3.12-slim' */
  readonly image?: string;
  /** Variables for the runtime itself (`DOCKER_HOST`...), never passed into the container. @default {} */
  readonly runtimeEnv?: Readonly<Record<string, string>>;
}

/** Runs each step in a container: `<runtime> run --rm --name ... <image> <interpreter> <file>`. */
export class ContainerStepExecutor implements StepExecutor {
  readonly #runtime: readonly string[];
  readonly #image: string;
  readonly #runtimeEnv: Readonly<Record<string, string>>;

  constructor(options: ContainerStepExecutorOptions = {}) {
    this.#runtime = [...(options.runtime ?? ['docker'])];
    this.#image = options.image ?? 'python:3.12-slim';
    this.#runtimeEnv = { ...options.runtimeEnv };
  }

  async run(invocation: StepInvocation, context: StepContext): Promise<StepOutcome> {
    context.signal.throwIfAborted(); // an aborted signal means: do not start
    // Cannot start at all: an ExecutionError (stable code), which is not retried.
    await access(invocation.filePath).catch((cause: unknown) => {
      throw new ExecutionError('STEP_FILE_MISSING', `The step's file ${invocation.filePath} does not exist`, { path: invocation.step.file_path, cause });
    });
    const image = context.environment?.digest ?? context.environment?.image ?? this.#image;
    // Unique also across processes and attempts: a re-run elsewhere must not collide.
    const name = `pj-${invocation.runId}-${invocation.step.uuid}-${invocation.attempt}-${randomUUID().slice(0, 8)}`;
    const [command, ...prefix] = this.#runtime;
    const args = [...prefix, 'run', '--rm', '--name', name, '-w', context.cwd,
      '-v', `${context.workDir}:${context.workDir}`, '-v', `${context.workDir}:/project-dir`,
      ...Object.keys(context.env).flatMap((k) => ['-e', k]),   // values pass through the environment, never argv
      image, invocation.filePath.endsWith('.sh') ? 'sh' : 'python3', invocation.filePath];
    const child = spawn(command!, args, { env: { ...context.env, ...this.#runtimeEnv, PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => context.stdout.write(c));
    child.stderr.on('data', (c: Buffer) => context.stderr.write(c));
    // Stop gracefully, then by force after the grace period: `stop -t` does both.
    const stop = () => {
      const seconds = String(Math.ceil(context.gracePeriodMs / 1000));
      spawn(command!, [...prefix, 'stop', '-t', seconds, name], { env: { ...this.#runtimeEnv, PATH: process.env.PATH ?? '' }, stdio: 'ignore' })
        .on('error', (error) => context.logger.error(`could not stop container ${name}`, { error }));
    };
    context.signal.addEventListener('abort', stop, { once: true });
    try {
      // Keep both: a client ended by a signal has no exit code, and dropping the signal
      // would report a killed step as a success.
      const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.on('error', (cause) => reject(new ExecutionError('STEP_INTERPRETER_MISSING', `Cannot start the container runtime "${command}"`, { value: command, cause })));
        child.on('close', (code, sig) => resolve([code, sig]));
      });
      return { exitCode, signal };
    } finally {
      context.signal.removeEventListener('abort', stop);
    }
  }
}
// #endregion sample
