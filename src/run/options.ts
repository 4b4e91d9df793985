import path from 'node:path';
import { SystemClock, type Clock } from '../clock.js';
import { OptionsError, joinPath } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { LogStore } from './log-store.js';
import { FailurePolicy, KeepWorkingCopy, LogErrorPolicy, LogOverflowPolicy } from './status.js';
import type { StepExecutor, StepExecutorChooser } from './step-executor.js';
import type { RunExecutor } from './run-executor.js';

/** Retries of failed steps, with exponential backoff. */
export interface RetryPolicy {
  /** Extra attempts after the first. @default 0 */
  limit: number;
  /** Wait before the first retry. @default 1000 */
  delayMs?: number;
  /** Each further wait is this many times longer. @default 2 */
  factor?: number;
  /** Waits never exceed this. @default 60000 */
  maxDelayMs?: number;
}

/** Settings of one step that win over the run's. */
export interface StepOverrides {
  /** Retries of this step: a count or a policy (see the run's `retries`). @default the run's `retries` */
  retries?: number | RetryPolicy;
  /** @default the run's `stepTimeoutMs` */
  timeoutMs?: number;
}

/** The options a single run may override (`RunRequest.options`). */
export interface RunOverrides {
  /**
   * How many steps run at once at most. The pipeline's `settings.max_steps_parallelism`
   * (when > 0) caps it further.
   * @default Infinity (only the pipeline's setting limits)
   */
  maxParallelism?: number;
  /** @default 'fail-fast' */
  failurePolicy?: FailurePolicy;
  /**
   * Retries of a failed step (a number is the limit with the default backoff). Not
   * retried: failures that cannot change (`ExecutionError`s: missing file, unknown type,
   * missing interpreter), the output limit, and stops (cancel, fail-fast, run timeout).
   * @default 0
   */
  retries?: number | RetryPolicy;
  /** Limit of each attempt of each step; `Infinity` for none. @default Infinity */
  stepTimeoutMs?: number;
  /** Limit of the whole run, working copy included; `Infinity` for none. @default Infinity */
  runTimeoutMs?: number;
  /** Time between the graceful stop and the forced one. @default 10000 */
  gracePeriodMs?: number;
  /**
   * Keep the working copy when the run ends: `'never'` (false), `'always'` (true), or `'on-failure'`.
   * @default 'never'
   */
  keepWorkingCopy?: boolean | KeepWorkingCopy;
  /**
   * Files of the working copy to keep when the run ends (glob patterns relative to the
   * project root, e.g. `'reports/**'`), copied to `<artifactsDir>/outputs/`.
   * @default []
   */
  outputs?: readonly string[];
  /** Bytes of output kept per step (stdout and stderr together). @default 10485760 (10 MiB) */
  maxLogBytes?: number;
  /** @default 'truncate' */
  logOverflow?: LogOverflowPolicy;
  /**
   * When the log store fails (disk full, permission): `fail` stops the step with
   * `STEP_LOG_FAILED`; `warn` lets it go on and records the error in its `logError`.
   * @default 'fail'
   */
  onLogError?: LogErrorPolicy;
  /** Per-step settings, by step uuid. @default {} */
  steps?: Readonly<Record<string, StepOverrides>>;
}

/** Options of {@link RunExecutor}. Copied when constructed, never mutated. */
export interface RunExecutorOptions extends Omit<RunOverrides, 'steps'> {
  /**
   * Who runs the steps: one executor for all; or a record by environment id or
   * `PinnedEnvironment.kind`, with `'*'` as the fallback; or a function choosing per step.
   * @example { local: new ProcessStepExecutor(), sandbox: new BubblewrapStepExecutor({ dataDir: '/srv/data' }) }
   */
  stepExecutors: StepExecutor | Readonly<Record<string, StepExecutor>> | StepExecutorChooser;
  /** Where step logs go. */
  logStore: LogStore;
  /** Working copies are made in `<workRoot>/work/<runId>`. */
  workRoot: string;
  /** Kept artifacts go to `<artifactsRoot>/<runId>`. @default `<workRoot>/artifacts` */
  artifactsRoot?: string;
  /** @default new SystemClock() */
  clock?: Clock;
  /** @default silentLogger */
  logger?: Logger;
  /**
   * Host variables steps see besides PATH, HOME, LANG and TZ: names, or prefixes ending in `*`.
   * @default []
   * @example ['LC_*', 'SSL_CERT_FILE']
   */
  envAllowList?: readonly string[];
  /** The host environment the allow-list picks from. @default process.env (read when constructed) */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * After the grace period, how long to wait for an executor that was told to stop before
   * giving up on it (`STEP_UNRESPONSIVE`).
   * @default 30000
   */
  settleTimeoutMs?: number;
}

/** Options after defaults and checks. */
export interface ResolvedRunSettings {
  readonly maxParallelism: number;
  readonly failurePolicy: FailurePolicy;
  readonly retries: Required<RetryPolicy>;
  readonly stepTimeoutMs: number;
  readonly runTimeoutMs: number;
  readonly gracePeriodMs: number;
  readonly keepWorkingCopy: KeepWorkingCopy;
  readonly outputs: readonly string[];
  readonly maxLogBytes: number;
  readonly logOverflow: LogOverflowPolicy;
  readonly onLogError: LogErrorPolicy;
  readonly steps: Readonly<Record<string, { readonly retries: Required<RetryPolicy>; readonly timeoutMs: number }>>;
}

export interface ResolvedExecutorOptions {
  readonly choose: StepExecutorChooser;
  readonly logStore: LogStore;
  readonly workRoot: string;
  readonly artifactsRoot: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly envAllowList: readonly string[];
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  readonly settleTimeoutMs: number;
  readonly defaults: ResolvedRunSettings;
}

/** The settings a run has when nothing overrides them (what overrides are checked on top of). @internal */
export const BASE_SETTINGS: ResolvedRunSettings = Object.freeze({
  maxParallelism: Infinity,
  failurePolicy: FailurePolicy.FAIL_FAST,
  retries: Object.freeze({ limit: 0, delayMs: 1000, factor: 2, maxDelayMs: 60_000 }),
  stepTimeoutMs: Infinity,
  runTimeoutMs: Infinity,
  gracePeriodMs: 10_000,
  keepWorkingCopy: KeepWorkingCopy.NEVER,
  outputs: Object.freeze([]),
  maxLogBytes: 10 * 1024 * 1024,
  logOverflow: LogOverflowPolicy.TRUNCATE,
  onLogError: LogErrorPolicy.FAIL,
  steps: Object.freeze({}),
});

/** Checks and copies the constructor's options. Throws {@link OptionsError} naming the option. */
export function resolveExecutorOptions(options: RunExecutorOptions): ResolvedExecutorOptions {
  if (options === null || typeof options !== 'object') {
    throw new OptionsError('OPTIONS_INVALID', 'RunExecutor needs an options object', { path: 'options', value: options });
  }
  const o = { ...options };
  if (typeof o.workRoot !== 'string' || o.workRoot === '') {
    throw new OptionsError('OPTIONS_INVALID', 'workRoot must be a directory path', { path: 'options.workRoot', value: o.workRoot });
  }
  const store = o.logStore as Partial<LogStore> | undefined;
  if (!store || ['append', 'end', 'read', 'follow', 'delete'].some((m) => typeof (store as Record<string, unknown>)[m] !== 'function')) {
    throw new OptionsError('OPTIONS_INVALID', 'logStore must implement the LogStore port', {
      path: 'options.logStore',
      value: store,
      hint: 'Use new MemoryLogStore() or new FileLogStore({ directory })',
    });
  }
  const allow = o.envAllowList ?? [];
  if (!Array.isArray(allow) || allow.some((n) => typeof n !== 'string' || n === '' || n === '*')) {
    throw new OptionsError('OPTIONS_INVALID', 'envAllowList must be a list of variable names (or prefixes ending in *)', {
      path: 'options.envAllowList',
      value: allow,
      hint: 'A lone "*" would pass every host secret: name what steps need',
    });
  }
  const workRoot = path.resolve(o.workRoot);
  return Object.freeze({
    choose: chooser(o.stepExecutors),
    logStore: o.logStore,
    workRoot,
    artifactsRoot: path.resolve(o.artifactsRoot ?? path.join(workRoot, 'artifacts')),
    clock: o.clock ?? new SystemClock(),
    logger: o.logger ?? silentLogger,
    envAllowList: Object.freeze([...allow]),
    hostEnv: Object.freeze({ ...(o.hostEnv ?? process.env) }),
    settleTimeoutMs: nonNegative(o.settleTimeoutMs ?? 30_000, 'options.settleTimeoutMs'),
    defaults: resolveRunSettings(o, BASE_SETTINGS, 'options'),
  });
}

/** Applies overrides (of the constructor or of one run) over `base`. */
export function resolveRunSettings(o: RunOverrides, base: ResolvedRunSettings, at: string): ResolvedRunSettings {
  if (o === null || typeof o !== 'object') throw new OptionsError('OPTIONS_INVALID', 'Expected an options object', { path: at, value: o });
  const maxParallelism = o.maxParallelism ?? base.maxParallelism;
  if (!(maxParallelism === Infinity || (Number.isInteger(maxParallelism) && maxParallelism >= 1))) {
    throw new OptionsError('OPTIONS_INVALID', 'Expected `maxParallelism` to be an integer >= 1 or Infinity', { path: `${at}.maxParallelism`, value: maxParallelism });
  }
  const failurePolicy = o.failurePolicy ?? base.failurePolicy;
  if (!Object.values(FailurePolicy).includes(failurePolicy)) {
    throw new OptionsError('OPTIONS_INVALID', `Expected \`failurePolicy\` to be one of ${Object.values(FailurePolicy).join(', ')}`, {
      path: `${at}.failurePolicy`,
      value: failurePolicy,
    });
  }
  const logOverflow = o.logOverflow ?? base.logOverflow;
  if (!Object.values(LogOverflowPolicy).includes(logOverflow)) {
    throw new OptionsError('OPTIONS_INVALID', `Expected \`logOverflow\` to be one of ${Object.values(LogOverflowPolicy).join(', ')}`, {
      path: `${at}.logOverflow`,
      value: logOverflow,
    });
  }
  const onLogError = o.onLogError ?? base.onLogError;
  if (!Object.values(LogErrorPolicy).includes(onLogError)) {
    throw new OptionsError('OPTIONS_INVALID', `Expected \`onLogError\` to be one of ${Object.values(LogErrorPolicy).join(', ')}`, {
      path: `${at}.onLogError`,
      value: onLogError,
    });
  }
  const stepTimeoutMs = positive(o.stepTimeoutMs ?? base.stepTimeoutMs, `${at}.stepTimeoutMs`);
  const retries = o.retries === undefined ? base.retries : retryPolicy(o.retries, `${at}.retries`);
  const steps: Record<string, { retries: Required<RetryPolicy>; timeoutMs: number }> = { ...base.steps };
  for (const [uuid, s] of Object.entries(o.steps ?? {})) {
    const p = joinPath(`${at}.steps`, uuid);
    if (s === null || typeof s !== 'object') throw new OptionsError('OPTIONS_INVALID', 'Expected an object of step settings', { path: p, value: s });
    steps[uuid] = Object.freeze({
      retries: s.retries === undefined ? retries : retryPolicy(s.retries, `${p}.retries`),
      timeoutMs: positive(s.timeoutMs ?? stepTimeoutMs, `${p}.timeoutMs`),
    });
  }
  return Object.freeze({
    maxParallelism,
    failurePolicy,
    retries,
    stepTimeoutMs,
    runTimeoutMs: positive(o.runTimeoutMs ?? base.runTimeoutMs, `${at}.runTimeoutMs`),
    gracePeriodMs: nonNegative(o.gracePeriodMs ?? base.gracePeriodMs, `${at}.gracePeriodMs`),
    keepWorkingCopy: keepMode(o.keepWorkingCopy ?? base.keepWorkingCopy, `${at}.keepWorkingCopy`),
    outputs: outputPatterns(o.outputs ?? base.outputs, `${at}.outputs`),
    maxLogBytes: positiveInteger(o.maxLogBytes ?? base.maxLogBytes, `${at}.maxLogBytes`),
    logOverflow,
    onLogError,
    steps: Object.freeze(steps),
  });
}

function chooser(x: RunExecutorOptions['stepExecutors']): StepExecutorChooser {
  if (typeof x === 'function') return x;
  if (x !== null && typeof x === 'object') {
    if (typeof (x as StepExecutor).run === 'function') {
      const one = x as StepExecutor;
      return () => one;
    }
    const record = new Map<string, StepExecutor>();
    for (const [key, e] of Object.entries(x)) {
      if (e === null || typeof e !== 'object' || typeof (e as StepExecutor).run !== 'function') {
        throw new OptionsError('OPTIONS_INVALID', 'Every step executor must have a run() method', { path: joinPath('options.stepExecutors', key), value: e });
      }
      record.set(key, e as StepExecutor);
    }
    return (step, environment) => record.get(step.environment) ?? (environment ? record.get(environment.kind) : undefined) ?? record.get('*');
  }
  throw new OptionsError('OPTIONS_INVALID', 'stepExecutors must be a StepExecutor, a record of them, or a function', {
    path: 'options.stepExecutors',
    value: x,
    hint: 'e.g. new ProcessStepExecutor()',
  });
}

function retryPolicy(r: number | RetryPolicy, at: string): Required<RetryPolicy> {
  const p = typeof r === 'number' ? { limit: r } : r;
  if (p === null || typeof p !== 'object') throw new OptionsError('OPTIONS_INVALID', 'Expected a number of retries or a retry policy', { path: at, value: r });
  const limit = p.limit;
  if (!(Number.isInteger(limit) && limit >= 0)) {
    throw new OptionsError('OPTIONS_INVALID', 'Expected the retry limit to be an integer >= 0', { path: typeof r === 'number' ? at : `${at}.limit`, value: limit });
  }
  const factor = p.factor ?? 2;
  if (!(Number.isFinite(factor) && factor >= 1)) throw new OptionsError('OPTIONS_INVALID', 'Expected `factor` to be a finite number >= 1', { path: `${at}.factor`, value: factor });
  return Object.freeze({
    limit,
    delayMs: nonNegative(p.delayMs ?? 1000, `${at}.delayMs`),
    factor,
    maxDelayMs: nonNegative(p.maxDelayMs ?? 60_000, `${at}.maxDelayMs`),
  });
}

function keepMode(k: boolean | KeepWorkingCopy, at: string): KeepWorkingCopy {
  if (k === true) return KeepWorkingCopy.ALWAYS;
  if (k === false) return KeepWorkingCopy.NEVER;
  if (Object.values(KeepWorkingCopy).includes(k)) return k;
  throw new OptionsError('OPTIONS_INVALID', `Expected \`keepWorkingCopy\` to be a boolean or one of ${Object.values(KeepWorkingCopy).join(', ')}`, { path: at, value: k });
}

function outputPatterns(list: readonly string[], at: string): readonly string[] {
  if (!Array.isArray(list)) throw new OptionsError('OPTIONS_INVALID', 'Expected a list of glob patterns', { path: at, value: list });
  list.forEach((p, i) => {
    if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.split('/').includes('..') || p.startsWith('!')) {
      throw new OptionsError('OPTIONS_INVALID', 'An output pattern must be a glob relative to the project root, without ".." or a leading "/" or "!"', {
        path: `${at}[${i}]`,
        value: p,
      });
    }
  });
  return Object.freeze([...list]);
}

function positive(n: number, at: string): number {
  if (!(n === Infinity || (Number.isFinite(n) && n > 0))) {
    throw new OptionsError('OPTIONS_INVALID', `Expected \`${at.split('.').pop()}\` to be a number > 0 or Infinity`, { path: at, value: n });
  }
  return n;
}

function positiveInteger(n: number, at: string): number {
  if (!(Number.isInteger(n) && n > 0)) throw new OptionsError('OPTIONS_INVALID', `Expected \`${at.split('.').pop()}\` to be an integer > 0`, { path: at, value: n });
  return n;
}

function nonNegative(n: number, at: string): number {
  if (!(Number.isFinite(n) && n >= 0)) throw new OptionsError('OPTIONS_INVALID', `Expected \`${at.split('.').pop()}\` to be a finite number >= 0`, { path: at, value: n });
  return n;
}
