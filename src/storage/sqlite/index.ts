/**
 * `pipeline-jobs/sqlite`: durable storage in one SQLite file. Needs the optional peer
 * dependency `better-sqlite3` (12.x); hosts that do not import this entry never load it.
 * @packageDocumentation
 * @module pipeline-jobs/sqlite
 */
export { SqliteStorage } from './sqlite-storage.js';
export type { SqliteStorageOptions } from './sqlite-storage.js';
export { SQLITE_SCHEMA_VERSION } from './schema.js';
