import type { Clock } from '../clock.js';
import type { PinnedEnvironment } from '../environment.js';
import type { Logger } from '../logger.js';
import type { Pipeline, PipelineStep } from '../pipeline/model.js';
import type { RunOccurrence } from './request.js';
import type { StepErrorCode } from './result.js';

/** Receives a stream of a step's output. Never blocks: the text is queued to the log. */
export interface LogWriter {
  /** Queues `chunk` (text, or bytes decoded as UTF-8) to the stream's log. */
  write(chunk: string | Uint8Array): void;
}

/** What to run: one attempt of one step of one run. */
export interface StepInvocation {
  /** The run's id. */
  readonly runId: string;
  /** The job the run belongs to; absent for a run executed directly. */
  readonly jobId?: string;
  /** The project the run's snapshot was taken of. */
  readonly projectId: string;
  /** The whole pipeline of the run. */
  readonly pipeline: Pipeline;
  /** The step to run (its uuid, title, file, kernel, environment). */
  readonly step: PipelineStep;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The step's effective parameters in this run. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** The pipeline's effective parameters in this run. */
  readonly pipelineParameters: Readonly<Record<string, unknown>>;
  /**
   * The step's file in the working copy (absolute), or `''` when the step names no file.
   * Checked to be inside the working copy, not checked to exist.
   */
  readonly filePath: string;
  /** What the run stands for (runs of a job): scheduled instant, zone, trigger, batch and run index. */
  readonly occurrence?: RunOccurrence;
}

/** How to find a step's processes again (after a crash of the host process, too). JSON-serialisable. */
export interface StepProcessInfo {
  /** The value of `PIPELINE_JOBS_STEP_TOKEN` every process of the step inherits. */
  readonly token: string;
  /** The id of the step's first process. */
  readonly pid: number;
  /** Process group and session of the step's first process (it leads both). */
  readonly pgid: number;
  /** The session id of the step's first process (it leads the session). */
  readonly sid: number;
  /** The machine (`os.hostname()`) and boot (`/proc/sys/kernel/random/boot_id`) it ran on. */
  readonly hostname: string;
  /** The boot id of the machine, when it has one (Linux); tells a reboot from a live process. */
  readonly bootId?: string;
  /** Clock ms when it was started. */
  readonly startedAt: number;
  /** What was started (argv[0]). */
  readonly command: string;
}

/** Everything an executor gets besides the invocation. */
export interface StepContext {
  /** Aborts when the attempt must stop (cancel, timeout, fail-fast, output limit). */
  readonly signal: AbortSignal;
  /** Where the step's standard output goes (the step's log). */
  readonly stdout: LogWriter;
  /** Where the step's standard error goes (the step's log). */
  readonly stderr: LogWriter;
  /**
   * The working directory of the step: its file's folder (the working copy's root for steps
   * without a file); `''` when the run has no working copy (then only steps without a file run).
   */
  readonly cwd: string;
  /** The run's working copy (writable; the project as snapshotted, pipeline file rewritten); `''` when it has none. */
  readonly workDir: string;
  /** Where the executor may keep files of this step beyond the run (executed notebook, HTML). */
  readonly artifactsDir: string;
  /** The complete environment the step must see (docs/running.md, "What a step sees"). */
  readonly env: Readonly<Record<string, string>>;
  /** The pinned environment the step's `environment` id names, when the job pinned one. */
  readonly environment?: PinnedEnvironment;
  /** How long a graceful stop may take before the step is killed. */
  readonly gracePeriodMs: number;
  /** The run executor's clock: use it for any time the executor reads or waits on. */
  readonly clock: Clock;
  /** The run executor's logger, for the executor's own messages (not the step's output). */
  readonly logger: Logger;
  /** Report the identity of the step's processes as soon as they start (emitted as `step:process`). */
  recordProcess(info: StepProcessInfo): void;
}

/** How an attempt ended, when `run` resolves. */
export interface StepOutcome {
  /** `0` or absent: success. */
  readonly exitCode?: number | null;
  /** The signal that ended the process (`SIGKILL`), if one did: a failure. */
  readonly signal?: string | null;
  /** Files kept for this step (absolute paths, under `context.artifactsDir`). */
  readonly artifacts?: readonly string[];
}

/**
 * The step executor port: runs one attempt of one step. The library ships three
 * (`ProcessStepExecutor`, `FunctionStepExecutor`, `BubblewrapStepExecutor`); a host
 * plugs in its own (a container runtime) by implementing this interface, and checks it
 * with `describeStepExecutorContract` from `pipeline-jobs/testing/contracts`.
 *
 * Must hold:
 * - `run` resolves when the attempt is over and everything it started is gone (no
 *   process, no timer, no open file of the step is left behind).
 * - Success is a resolved outcome with `exitCode` absent or `0` and no `signal`; a
 *   non-zero `exitCode` or a `signal` is a failure. Rejecting is a failure too: reject with
 *   an `ExecutionError` (stable code) when the step cannot be started at all (missing
 *   file, unknown type, missing interpreter): such failures are not retried.
 * - When `context.signal` aborts, the attempt is stopped: gracefully first, by force after
 *   `context.gracePeriodMs`, and `run` settles soon after (the run executor stops waiting
 *   after the grace period plus its `settleTimeoutMs` and reports `STEP_UNRESPONSIVE`).
 *   An already aborted signal means: do not start.
 * - Everything the step prints goes to `context.stdout` / `context.stderr`, in order
 *   within each stream.
 * - The step sees exactly `context.env` as its environment variables (plus what the
 *   executor needs to track it, documented by the executor), and `context.cwd` as its
 *   working directory; parameters never reach a shell command line.
 */
export interface StepExecutor {
  /**
   * Runs one attempt of the step; resolves with how it ended once everything it started is gone.
   * @param invocation what to run
   * @param context where its output goes, its environment, and the signal that stops it
   * @throws {@link pipeline-jobs!ExecutionError | ExecutionError} with a {@link StepErrorCode} when the step cannot be started at all
   */
  run(invocation: StepInvocation, context: StepContext): Promise<StepOutcome>;
}

/**
 * Chooses the executor of a step; `undefined` fails the step with `STEP_NO_EXECUTOR`.
 * `environment` is the pinned environment the step's `environment` id names, if any.
 */
export type StepExecutorChooser = (step: PipelineStep, environment: PinnedEnvironment | undefined) => StepExecutor | undefined;
