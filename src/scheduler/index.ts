export { JobScheduler } from './job-scheduler.js';
export type { JobSchedulerOptions } from './options.js';
export type { RunRunner } from './runner.js';
export type { FollowLogOptions } from './results.js';
export { InterruptedPolicy } from './types.js';
export type { Job, JobOptions, JobQuery, JobSpec, JobUpdate, PageOptions, ParametersInput, PreviewJobOptions, OneOrMany, Run, RunQuery, SchedulerEvents, SelectionInput } from './types.js';
export { allowedFrom, endStatusOf, type JobAction } from './lifecycle.js';
export {
  StaticEnvironmentResolver,
  type EnvironmentDefinition,
  type StaticEnvironmentResolverOptions,
} from './static-environments.js';
