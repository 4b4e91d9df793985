import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { sleep } from '../clock.js';
import { ExecutionError } from '../errors.js';
import { canScanProcesses, currentBootId, findStepProcesses, lastPid, terminateStepProcesses } from './processes.js';
import { StepErrorCode } from './result.js';
import { StepEnvVar } from './step-environment.js';
import type { StepContext, StepOutcome } from './step-executor.js';

/** Below this run time a step's leftovers are searched among newer pids only (no wrap-around possible). */
const QUICK_SCAN_MAX_MS = 1000;
/** How long processes seen right at a step's exit get to finish dying before they count as left behind. */
const EXIT_SETTLE_MS = 50;
/** How long to wait for stdout/stderr to close once the step's processes are gone. */
const STREAM_CLOSE_WAIT_MS = 2000;

/** How one process of a step was started and how it ended. */
export interface ProcessExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/**
 * Runs `argv` (no shell) as a step process: its own session and process group, the
 * step's environment plus a fresh `PIPELINE_JOBS_STEP_TOKEN`, output to the step's
 * writers. When it exits, any process it left behind is ended (graceful, then forced);
 * when `context.signal` aborts, the whole tree is. Resolves once every process of the
 * step is gone. Rejects with an `ExecutionError` when the program cannot be started
 * (`STEP_INTERPRETER_MISSING` for ENOENT).
 */
export async function runStepProcess(
  argv: readonly string[],
  context: StepContext,
  options: { cwd?: string; env?: Readonly<Record<string, string>> } = {},
): Promise<ProcessExit> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('runStepProcess: empty argv');
  // An attempt stopped before it started must not start (the port's rule).
  context.signal.throwIfAborted();
  const token = randomUUID();
  const env = { ...(options.env ?? context.env), [StepEnvVar.STEP_TOKEN]: token };
  const { clock } = context;
  const child = spawn(command, args, {
    cwd: options.cwd ?? context.cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const closed = Promise.all([
    drain(child.stdout, (c) => context.stdout.write(c)),
    drain(child.stderr, (c) => context.stderr.write(c)),
  ]);
  // Without a pid the start failed; the reason comes with the 'error' event.
  if (child.pid === undefined) {
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    await closed;
    throw spawnError(error, command);
  }
  // Later errors (a failed kill) must not crash the host; the exit still comes.
  child.on('error', (error) => context.logger.warn('step process error', { command, error }));
  const pid = child.pid!;
  const startedAt = clock.now();
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (exitCode, sig) => resolve({ exitCode, signal: sig })));
  context.recordProcess({
    token,
    pid,
    pgid: pid,
    sid: pid,
    hostname: os.hostname(),
    ...bootIdField(),
    startedAt,
    command,
  });
  const target = { token, pgid: pid };
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (context.signal.aborted) resolve('aborted');
    else context.signal.addEventListener('abort', onAbort, { once: true });
  });
  const first = await Promise.race([exited, aborted]);
  context.signal.removeEventListener('abort', onAbort!);
  const terminate = { gracePeriodMs: context.gracePeriodMs, clock };
  if (first === 'aborted') {
    await terminateStepProcesses(target, terminate);
  } else {
    // The main process is gone; whatever it left running (background jobs, a kernel) goes too.
    const newest = lastPid();
    const quick = canScanProcesses() && newest !== undefined && newest >= pid && clock.now() - startedAt < QUICK_SCAN_MAX_MS;
    const leftover = quick ? { ...target, minPid: pid } : target;
    // Descendants have pids handed out after the step's first process (no wrap-around
    // within QUICK_SCAN_MAX_MS): only those are looked at, probed one by one when few.
    if (findStepProcesses(quick ? { ...leftover, minPid: pid + 1, maxPid: newest } : leftover).length > 0) {
      // Processes found at the very moment of the exit may be dying already (a sandbox's PID
      // namespace is torn down by the kernel): look again a moment later before ending any.
      await sleep(clock, EXIT_SETTLE_MS);
      const report = await terminateStepProcesses(leftover, terminate);
      if (report.signalled.length > 0) {
        context.stderr.write(`[pipeline-jobs] the step left ${report.signalled.length} process(es) running; they were ended\n`);
      }
    }
  }
  const exit = await exited;
  await waitClosed(closed, child.stdout, child.stderr, context);
  return exit;
}

/** Turns a spawn failure into the step error. */
function spawnError(error: NodeJS.ErrnoException, command: string): ExecutionError {
  if (error.code === 'ENOENT') {
    return new ExecutionError(StepErrorCode.INTERPRETER_MISSING, `The program "${command}" is not installed (not found on the step's PATH)`, {
      value: command,
      hint: 'Install it, put it on PATH, or map the file type to another command (interpreters option or the pinned environment)',
      cause: error,
    });
  }
  return new ExecutionError(StepErrorCode.SPAWN_FAILED, `The program "${command}" could not be started: ${error.message}`, {
    value: command,
    cause: error,
  });
}

function drain(stream: Readable, write: (chunk: Uint8Array) => void): Promise<void> {
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => write(chunk));
    stream.once('close', () => resolve());
  });
}

/** Waits for the output pipes to close; a process without the token may still hold them: then they are cut. */
async function waitClosed(closed: Promise<unknown>, stdout: Readable, stderr: Readable, context: StepContext): Promise<void> {
  const cut = new AbortController();
  const timer = sleep(context.clock, STREAM_CLOSE_WAIT_MS, cut.signal).then(
    () => 'timeout' as const,
    () => 'closed' as const, // cancelled below because the pipes closed
  );
  const first = await Promise.race([closed.then(() => 'closed' as const), timer]);
  cut.abort();
  if (first === 'timeout') {
    context.logger.warn('a step process left its output pipes open; they were closed', {});
    stdout.destroy();
    stderr.destroy();
    await closed;
  }
}

function bootIdField(): { bootId?: string } {
  const bootId = currentBootId();
  return bootId === undefined ? {} : { bootId };
}

/** The outcome of a finished process. */
export function processOutcome(exit: ProcessExit, artifacts?: readonly string[]): StepOutcome {
  return { exitCode: exit.exitCode, signal: exit.signal, ...(artifacts ? { artifacts } : {}) };
}
