import { readdirSync } from 'node:fs';
import { findProcesses, hasToken, readProcessEnvironment, terminateProcesses, type TerminateOptions, type TerminateReport } from './processes.js';
import { StepEnvVar } from './step-environment.js';

/**
 * Finding a run's processes by the run itself, not by anything recorded after a spawn:
 * every process of every step of attempt `a` of run `r` inherits
 * `PIPELINE_JOBS_RUN_ID=r` and `PIPELINE_JOBS_RUN_ATTEMPT=a` (set before any step can
 * start). The attempt number is the storage's claim counter, written when the run was
 * claimed, so a dead attempt's processes are found from the run record alone, even when
 * its process was killed between a spawn and recording it, or in the middle of recovery.
 * Linux only (`/proc`); elsewhere nothing is found.
 */

/** The live processes of one attempt of one run, as found in `/proc`. */
export interface RunProcesses {
  /** The run the processes belong to (their `PIPELINE_JOBS_RUN_ID`). */
  readonly runId: string;
  /** The run's execution they belong to (their `PIPELINE_JOBS_RUN_ATTEMPT`). */
  readonly attempt: number;
  /** The processes carrying the run's variables (their groups and children are ended with them). */
  readonly pids: readonly number[];
}

/** One pass over `/proc`: every live process of any run, grouped by run and attempt. */
export function listRunProcesses(): RunProcesses[] {
  const byKey = new Map<string, { runId: string; attempt: number; pids: number[] }>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // not Linux: nothing to find
    throw error;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const env = readProcessEnvironment(pid);
    const runId = env?.get(StepEnvVar.RUN_ID);
    if (runId === undefined) continue;
    const attempt = attemptOf(env!);
    const key = `${attempt}\0${runId}`;
    const group = byKey.get(key) ?? { runId, attempt, pids: [] };
    group.pids.push(pid);
    byKey.set(key, group);
  }
  return [...byKey.values()];
}

/** Options of {@link endRunProcesses}. */
export interface EndRunProcessesOptions extends TerminateOptions {
  /** Which attempts to end. @default every attempt */
  readonly attempts?: (attempt: number) => boolean;
}

/**
 * Ends the processes of run `runId` (of the attempts chosen), with their process groups,
 * sessions and descendants: SIGTERM, then SIGKILL after the grace period.
 */
export async function endRunProcesses(runId: string, options: EndRunProcessesOptions): Promise<TerminateReport> {
  const needle = Buffer.from(`${StepEnvVar.RUN_ID}=${runId}\0`);
  const scratch = Buffer.allocUnsafe(64 * 1024);
  const wanted = options.attempts;
  const isHolder = (pid: number): boolean => {
    // The cheap byte search first; the parsed environment confirms (the needle could end another variable).
    if (!hasToken(pid, needle, scratch)) return false;
    const env = readProcessEnvironment(pid);
    return env !== undefined && env.get(StepEnvVar.RUN_ID) === runId && (wanted === undefined || wanted(attemptOf(env)));
  };
  return terminateProcesses(() => findProcesses(isHolder), options);
}

/** A process without the attempt variable (started by an older version) counts as attempt 1. */
function attemptOf(env: ReadonlyMap<string, string>): number {
  const n = Number(env.get(StepEnvVar.RUN_ATTEMPT) ?? '1');
  return Number.isSafeInteger(n) && n > 0 ? n : 1;
}
