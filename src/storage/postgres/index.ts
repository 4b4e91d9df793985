/**
 * `pipeline-jobs/postgres`: durable storage in PostgreSQL for several scheduler
 * processes on one machine or many. Needs the optional peer dependency `pg` (8.x);
 * hosts that do not import this entry never load it.
 * @packageDocumentation
 * @module pipeline-jobs/postgres
 */
export { PostgresStorage } from './postgres-storage.js';
export type { PostgresStorageOptions } from './postgres-storage.js';
export { POSTGRES_SCHEMA_VERSION } from './schema.js';
