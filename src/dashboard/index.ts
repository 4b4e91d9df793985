/**
 * `pipeline-jobs/dashboard`: a small web UI over a `JobScheduler` (Orchest's Jobs view),
 * mountable in a host's own `node:http` server.
 * @packageDocumentation
 * @module pipeline-jobs/dashboard
 */
export { createDashboard, type Dashboard, type DashboardOptions } from './handler.js';
export { describeSchedule } from './words.js';
