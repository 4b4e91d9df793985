import { ExecutionError, joinPath } from '../errors.js';
import type { RunOccurrence } from './request.js';

/**
 * The environment variables a step sees (README, "What a step sees"): from the host only
 * these and the allow-list; then the job's variables; then Orchest's and the library's
 * own, which the job cannot override.
 */
export const HOST_ENV_PASSTHROUGH: readonly string[] = Object.freeze(['PATH', 'HOME', 'LANG', 'TZ']);

/** Names of the library's own variables. */
export const StepEnvVar = {
  JOB_ID: 'PIPELINE_JOBS_JOB_ID',
  RUN_ID: 'PIPELINE_JOBS_RUN_ID',
  /**
   * Which execution of the run this is (1, then 2... when a run whose process died is
   * re-run): with the run id, it marks every process of the run, so the leftovers of a
   * dead attempt are found without any record.
   */
  RUN_ATTEMPT: 'PIPELINE_JOBS_RUN_ATTEMPT',
  STEP_ID: 'PIPELINE_JOBS_STEP_ID',
  /** The step's effective parameters as JSON. */
  STEP_PARAMETERS: 'PIPELINE_JOBS_STEP_PARAMETERS',
  /** The pipeline's effective parameters as JSON. */
  PIPELINE_PARAMETERS: 'PIPELINE_JOBS_PIPELINE_PARAMETERS',
  /** The instant the run stands for, ISO 8601 UTC (`2026-03-01T02:00:00.000Z`): its schedule occurrence, or the manual trigger's instant. */
  SCHEDULED_AT: 'PIPELINE_JOBS_SCHEDULED_AT',
  /** The zone the schedule is read in (`Europe/Berlin`; `UTC` for one-off schedules). */
  SCHEDULE_TZ: 'PIPELINE_JOBS_SCHEDULE_TZ',
  /** How the run came to be: `schedule`, `now`, `at`, `manual` or `catch-up` (a missed occurrence run late). */
  TRIGGER: 'PIPELINE_JOBS_TRIGGER',
  /** The run's batch index in its job (0 for the first). */
  BATCH_INDEX: 'PIPELINE_JOBS_BATCH_INDEX',
  /** The run's index in its job, over all batches (0 for the first). */
  RUN_INDEX: 'PIPELINE_JOBS_RUN_INDEX',
  /** Set by process executors: a random value per attempt that marks all of its processes. */
  STEP_TOKEN: 'PIPELINE_JOBS_STEP_TOKEN',
} as const;
export type StepEnvVar = (typeof StepEnvVar)[keyof typeof StepEnvVar];

/** Prefixes a job's variables may not use: Orchest's and the library's own. */
export const RESERVED_ENV_PREFIXES: readonly string[] = Object.freeze(['ORCHEST_', 'PIPELINE_JOBS_']);

/** Whether a job may not set this variable. */
export function isReservedEnvName(name: string): boolean {
  return RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * Checks a job's variables: names non-empty without `=` or NUL, values strings without
 * NUL, no reserved name. Throws an {@link ExecutionError} naming the variable.
 */
export function validateJobEnv(env: unknown, basePath = 'env'): asserts env is Record<string, string> {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    throw new ExecutionError('RUN_INVALID_ENV', 'Environment variables must be an object of strings', { path: basePath, value: env });
  }
  for (const [name, value] of Object.entries(env)) {
    const path = joinPath(basePath, name);
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new ExecutionError('RUN_INVALID_ENV', 'An environment variable name may not be empty or hold `=` or NUL', { path, value: name });
    }
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new ExecutionError('RUN_INVALID_ENV', `Environment variable "${name}" must be a string without NUL`, { path, value });
    }
    if (isReservedEnvName(name)) {
      throw new ExecutionError('RUN_RESERVED_ENV', `Environment variable "${name}" is set by the library`, {
        path,
        value: name,
        hint: `Names starting with ${RESERVED_ENV_PREFIXES.join(' or ')} are reserved`,
      });
    }
  }
}

/** What {@link buildRunEnvironment} needs. */
export interface RunEnvironmentInput {
  /** The host's environment (`process.env`). */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** Host variables passed on besides PATH, HOME, LANG, TZ: exact names, or prefixes ending in `*` (`LC_*`). */
  allowList: readonly string[];
  /** The job's variables (validated). */
  jobEnv: Readonly<Record<string, string>>;
  runId: string;
  /** @default 1 */
  attempt?: number;
  jobId?: string;
  projectId: string;
  pipelineUuid: string;
  /** The run's copy of the pipeline file (absolute); `''` without a working copy (then `ORCHEST_PIPELINE_PATH` is not set). */
  pipelineFile: string;
  pipelineParameters: Readonly<Record<string, unknown>>;
  /** What the run stands for (runs of a job); absent: none of its variables are set. */
  occurrence?: RunOccurrence;
}

/** The variables every step of a run sees; {@link stepEnvironment} adds the step's own. */
export function buildRunEnvironment(input: RunEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  const exact = new Set([...HOST_ENV_PASSTHROUGH, ...input.allowList.filter((n) => !n.endsWith('*'))]);
  const prefixes = input.allowList.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1));
  // Without prefixes only the named variables are looked up: walking the whole host
  // environment (process.env) on every run cost a tenth of a no-op run.
  const names = prefixes.length === 0 ? [...exact] : Object.keys(input.hostEnv);
  for (const name of names) {
    const value = input.hostEnv[name];
    if (value === undefined || isReservedEnvName(name)) continue;
    if (exact.has(name) || prefixes.some((p) => name.startsWith(p))) env[name] = value;
  }
  Object.assign(env, input.jobEnv);
  env.ORCHEST_PIPELINE_UUID = input.pipelineUuid;
  if (input.pipelineFile !== '') env.ORCHEST_PIPELINE_PATH = input.pipelineFile;
  env.ORCHEST_SESSION_UUID = input.runId;
  env.ORCHEST_SESSION_TYPE = 'noninteractive';
  env.ORCHEST_PROJECT_UUID = input.projectId;
  if (input.jobId !== undefined) env[StepEnvVar.JOB_ID] = input.jobId;
  env[StepEnvVar.RUN_ID] = input.runId;
  env[StepEnvVar.RUN_ATTEMPT] = String(input.attempt ?? 1);
  env[StepEnvVar.PIPELINE_PARAMETERS] = JSON.stringify(input.pipelineParameters);
  const o = input.occurrence;
  if (o !== undefined) {
    env[StepEnvVar.SCHEDULED_AT] = new Date(o.scheduledAt).toISOString();
    env[StepEnvVar.SCHEDULE_TZ] = o.timezone;
    env[StepEnvVar.TRIGGER] = o.trigger;
    env[StepEnvVar.BATCH_INDEX] = String(o.batchIndex);
    env[StepEnvVar.RUN_INDEX] = String(o.runIndex);
  }
  return env;
}

/** A step's complete environment: the run's plus the step's own variables. */
export function stepEnvironment(
  runEnv: Readonly<Record<string, string>>,
  stepId: string,
  stepParameters: Readonly<Record<string, unknown>>,
): Record<string, string> {
  return {
    ...runEnv,
    ORCHEST_STEP_UUID: stepId,
    [StepEnvVar.STEP_ID]: stepId,
    [StepEnvVar.STEP_PARAMETERS]: JSON.stringify(stepParameters),
  };
}
