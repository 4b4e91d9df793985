import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import os from 'node:os';
import { SystemClock, sleep, type Clock } from '../clock.js';
import { StepEnvVar } from './step-environment.js';
import type { StepProcessInfo } from './step-executor.js';
import type { RunExecutor } from './run-executor.js';

/**
 * Finding and ending a step's processes, all of them: every process a step starts
 * inherits `PIPELINE_JOBS_STEP_TOKEN=<random>`, so they are found by scanning
 * `/proc/<pid>/environ` (Linux), also those that started a new session (`setsid`, a
 * notebook kernel) and those reparented after their parent died. Members of the token
 * holders' process groups and sessions and their descendants are included too, which
 * catches a child that cleared its environment while its parent or group lives.
 * Where `/proc` is missing, only the process group is signalled.
 */

/** Which processes belong to a step. */
export interface StepProcessTarget {
  readonly token: string;
  /** A process group known to be the step's (trusted without a token holder in it). */
  readonly pgid?: number;
  /** Only look at pids from this one up (a speed-up when no pid wrap-around happened). */
  readonly minPid?: number;
  /** With `minPid`: only look at pids up to this one (the last pid handed out), probed one by one when few. */
  readonly maxPid?: number;
}

/** Up to this many pids are probed one by one instead of listing `/proc`. */
const PROBE_LIMIT = 32;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
}

/** Whether this system has a `/proc` with process environments (Linux). */
export function canScanProcesses(): boolean {
  return existsSync('/proc/self/environ');
}

/**
 * The pids of the step's live processes (zombies excluded). Synchronous. The common case,
 * nothing left, costs one read of `/proc/<pid>/environ` per candidate pid; only when a
 * token holder or the trusted group is found are states, groups, sessions and parents read.
 */
export function findStepProcesses(target: StepProcessTarget): number[] {
  if (!canScanProcesses()) return [];
  const needle = Buffer.from(`${StepEnvVar.STEP_TOKEN}=${target.token}\0`);
  // A zombie's environ reads empty, so it never counts as a holder.
  const scratch = Buffer.allocUnsafe(64 * 1024);
  return findProcesses((pid) => hasToken(pid, needle, scratch), target);
}

/** Where {@link findProcesses} looks, and a process group trusted without a holder in it. */
export interface ProcessScope {
  readonly pgid?: number;
  readonly minPid?: number;
  readonly maxPid?: number;
}

/**
 * The live processes (zombies excluded) for which `isHolder` is true, with every member
 * of their process groups and sessions and all their descendants (and the members of
 * `scope.pgid`). Synchronous. `isHolder` is asked once per candidate pid.
 */
export function findProcesses(isHolder: (pid: number) => boolean, scope: ProcessScope = {}): number[] {
  if (!canScanProcesses()) return [];
  const candidates: number[] = [];
  const { minPid, maxPid } = scope;
  if (minPid !== undefined && maxPid !== undefined && maxPid - minPid < PROBE_LIMIT) {
    // Few pids were handed out since the step started: probing them beats listing /proc.
    for (let pid = minPid; pid <= maxPid; pid++) if (pid !== process.pid) candidates.push(pid);
  } else {
    for (const name of readdirSync('/proc')) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(name);
      if (pid === process.pid || (minPid !== undefined && pid < minPid) || (maxPid !== undefined && pid > maxPid)) continue;
      candidates.push(pid);
    }
  }
  const holders = candidates.filter((pid) => isHolder(pid));
  if (holders.length === 0 && !groupAlive(scope.pgid)) return [];
  const stats = new Map<number, ProcStat>();
  for (const pid of candidates) {
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const marked = new Set<number>(holders.filter((pid) => stats.has(pid)));
  if (scope.pgid !== undefined) for (const s of stats.values()) if (s.pgrp === scope.pgid) marked.add(s.pid);
  const groups = new Set<number>();
  const sessions = new Set<number>();
  for (const pid of marked) {
    const s = stats.get(pid)!;
    groups.add(s.pgrp);
    sessions.add(s.session);
  }
  // Holders' groups and sessions, then descendants, until nothing changes.
  for (const s of stats.values()) if (groups.has(s.pgrp) || sessions.has(s.session)) marked.add(s.pid);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats.values()) {
      if (!marked.has(s.pid) && marked.has(s.ppid)) {
        marked.add(s.pid);
        grew = true;
      }
    }
  }
  return [...marked].sort((a, b) => a - b);
}

/**
 * The environment of a process as name -> value, or `undefined` when it is gone, a
 * zombie, or not ours to read.
 */
export function readProcessEnvironment(pid: number): Map<string, string> | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(`/proc/${pid}/environ`);
  } catch (error) {
    if (isGone(error)) return undefined; // exited, or another user's process (not ours either)
    throw error;
  }
  if (raw.length === 0) return undefined; // a zombie, or a kernel thread
  const env = new Map<string, string>();
  for (const entry of raw.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Options of {@link terminateStepProcesses}. */
export interface TerminateOptions {
  /** Time between SIGTERM and SIGKILL. */
  gracePeriodMs: number;
  clock: Clock;
  /** How often to look whether the processes are gone. @default 25 */
  pollIntervalMs?: number;
}

/** What ending processes did: {@link RunExecutor.endRunProcesses} (and the step executors' own stop) report it. */
export interface TerminateReport {
  /** Every pid that was signalled. */
  readonly signalled: readonly number[];
  /** Whether SIGKILL was needed. */
  readonly forced: boolean;
  /** Processes still alive at the end (not ours to kill: EPERM), normally empty. */
  readonly survivors: readonly number[];
}

/**
 * Ends a step's processes: SIGTERM (and SIGCONT, for stopped ones) to all of them, then
 * SIGKILL to whatever is left after the grace period, repeated until none is found
 * (processes forked meanwhile are found on the next pass).
 */
export async function terminateStepProcesses(target: StepProcessTarget, options: TerminateOptions): Promise<TerminateReport> {
  const scan = canScanProcesses();
  return terminateProcesses(() => (scan ? findStepProcesses(target) : groupAlive(target.pgid) ? [-target.pgid!] : []), options);
}

/**
 * Ends the processes `find` reports (negative: a process group): SIGTERM (and SIGCONT)
 * to all, SIGKILL to whatever is left after the grace period, repeated until `find`
 * reports none.
 */
export async function terminateProcesses(find: () => number[], options: TerminateOptions): Promise<TerminateReport> {
  const poll = options.pollIntervalMs ?? 25;
  const signalled = new Set<number>();
  const alive = find;
  let pids = alive();
  if (pids.length === 0) return { signalled: [], forced: false, survivors: [] };
  const send = (list: number[], sig: NodeJS.Signals): void => {
    for (const pid of list) {
      signalled.add(Math.abs(pid));
      signal(pid, sig);
      if (sig === 'SIGTERM') signal(pid, 'SIGCONT');
    }
  };
  send(pids, 'SIGTERM');
  const deadline = options.clock.now() + options.gracePeriodMs;
  while (options.clock.now() < deadline) {
    await sleep(options.clock, Math.min(poll, deadline - options.clock.now()));
    pids = alive();
    if (pids.length === 0) return { signalled: [...signalled], forced: false, survivors: [] };
    // Processes forked since the last pass get the graceful signal too.
    send(pids.filter((p) => !signalled.has(Math.abs(p))), 'SIGTERM');
  }
  for (let round = 0; round < 200; round++) {
    pids = alive();
    if (pids.length === 0) return { signalled: [...signalled], forced: true, survivors: [] };
    send(pids, 'SIGKILL');
    await sleep(options.clock, 5);
  }
  return { signalled: [...signalled], forced: true, survivors: alive() };
}

/** Options of {@link killStepProcesses}. */
export interface KillStepProcessesOptions {
  /** @default 5000 */
  gracePeriodMs?: number;
  /** @default new SystemClock() */
  clock?: Clock;
}

/**
 * Ends the processes of a step recorded by a `step:process` event, e.g. after the host
 * process crashed while the step ran. Safe against pid reuse: only processes carrying the
 * step's token (and their groups, sessions and descendants) are touched. Does nothing when
 * the record is from another machine or an earlier boot (its processes are gone).
 */
export async function killStepProcesses(
  info: Pick<StepProcessInfo, 'token'> & Partial<Pick<StepProcessInfo, 'hostname' | 'bootId'>>,
  options: KillStepProcessesOptions = {},
): Promise<TerminateReport & { readonly skipped?: 'other-host' | 'other-boot' }> {
  if (info.hostname !== undefined && info.hostname !== os.hostname()) {
    return { signalled: [], forced: false, survivors: [], skipped: 'other-host' };
  }
  const boot = currentBootId();
  if (info.bootId !== undefined && boot !== undefined && info.bootId !== boot) {
    return { signalled: [], forced: false, survivors: [], skipped: 'other-boot' };
  }
  return terminateStepProcesses({ token: info.token }, { gracePeriodMs: options.gracePeriodMs ?? 5000, clock: options.clock ?? new SystemClock() });
}

/** This boot's id (Linux), or `undefined`. */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch (error) {
    if (isGone(error)) return undefined; // not Linux: no boot id to compare
    throw error;
  }
}

/** The last pid handed out in this pid namespace (Linux), or `undefined`. */
export function lastPid(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
  } catch (error) {
    if (isGone(error)) return undefined; // not Linux or hidden: callers scan everything
    throw error;
  }
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (error) {
    if (isGone(error)) return undefined; // exited while we looked
    throw error;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return undefined;
  return { pid, ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) };
}

/**
 * Whether the process's environment holds `needle`: read with open/read/close into a
 * scratch buffer (half the cost of readFileSync on /proc, which matters: a scan runs after
 * every step).
 */
export function hasToken(pid: number, needle: Buffer, scratch: Buffer): boolean {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/environ`, 'r');
  } catch (error) {
    if (isGone(error)) return false; // exited, or another user's process we may not read (not ours either)
    throw error;
  }
  try {
    // The needle may straddle two reads: keep its length minus one byte of the previous read.
    const keep = needle.length - 1;
    let filled = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, scratch, filled, scratch.length - filled, null);
      } catch (error) {
        if (isGone(error)) return false; // ESRCH: it exited between open and read
        throw error;
      }
      if (n === 0) return false;
      const end = filled + n;
      if (scratch.subarray(0, end).includes(needle)) return true;
      const from = Math.max(0, end - keep);
      scratch.copy(scratch, 0, from, end);
      filled = end - from;
    }
  } finally {
    closeSync(fd);
  }
}

function groupAlive(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false; // the group is empty
    throw error;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: it exited meanwhile. EPERM: not ours; it is reported as a survivor.
    if (code !== 'ESRCH' && code !== 'EPERM') throw error;
  }
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM';
}
