import type Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';

/** The schema version this release writes. A file with a higher version is refused. */
export const SQLITE_SCHEMA_VERSION = 5;

/** Migrations by the version they create; each runs once, in its own transaction with its version row. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE pj_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO pj_meta (key, value) VALUES ('seq', 0);
      CREATE TABLE pj_jobs (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, snapshot_id TEXT NOT NULL,
        pipeline TEXT NOT NULL, environments TEXT NOT NULL, grid TEXT NOT NULL, selection TEXT NOT NULL, schedule TEXT NOT NULL,
        env_vars TEXT NOT NULL, options TEXT NOT NULL,
        n_pending INTEGER NOT NULL, n_started INTEGER NOT NULL, n_success INTEGER NOT NULL, n_failure INTEGER NOT NULL, n_aborted INTEGER NOT NULL,
        batch_count INTEGER NOT NULL, run_count INTEGER NOT NULL, schedule_cursor INTEGER, max_concurrent_runs INTEGER NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER, version INTEGER NOT NULL
      );
      CREATE INDEX pj_jobs_by_time ON pj_jobs (created_at DESC, id DESC);
      CREATE INDEX pj_jobs_by_project ON pj_jobs (project_id, created_at DESC, id DESC);
      CREATE INDEX pj_jobs_by_status ON pj_jobs (status);
      CREATE TABLE pj_batches (
        job_id TEXT NOT NULL, batch_index INTEGER NOT NULL, trigger TEXT NOT NULL, occurrence_at INTEGER,
        run_count INTEGER NOT NULL, written_runs INTEGER NOT NULL, first_run_index INTEGER NOT NULL,
        env_vars TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, batch_index)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX pj_batches_occurrence ON pj_batches (job_id, occurrence_at) WHERE trigger = 'schedule';
      CREATE INDEX pj_batches_incomplete ON pj_batches (job_id) WHERE written_runs < run_count;
      CREATE TABLE pj_runs (
        id TEXT PRIMARY KEY, job_id TEXT NOT NULL, batch_index INTEGER NOT NULL, grid_index INTEGER NOT NULL,
        index_in_batch INTEGER NOT NULL, run_index INTEGER NOT NULL, status TEXT NOT NULL, parameters TEXT NOT NULL,
        created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, reason TEXT, error TEXT,
        attempts INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER, cancel_requested INTEGER NOT NULL,
        process_info TEXT, seq INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX pj_runs_position ON pj_runs (job_id, batch_index, index_in_batch);
      CREATE INDEX pj_runs_by_job ON pj_runs (job_id, run_index);
      CREATE INDEX pj_runs_pending ON pj_runs (seq) WHERE status = 'PENDING';
      CREATE INDEX pj_runs_leases ON pj_runs (lease_expires_at) WHERE status = 'STARTED';
      CREATE TABLE pj_steps (
        run_id TEXT NOT NULL, ord INTEGER NOT NULL, step_uuid TEXT NOT NULL, status TEXT NOT NULL,
        started_at INTEGER, finished_at INTEGER, attempts INTEGER NOT NULL, exit_code INTEGER, error TEXT,
        PRIMARY KEY (run_id, ord)
      ) WITHOUT ROWID;
      CREATE TABLE pj_ledger (
        job_id TEXT NOT NULL, ord INTEGER NOT NULL, action TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL,
        last_at INTEGER NOT NULL, count INTEGER NOT NULL, batch_index INTEGER,
        PRIMARY KEY (job_id, ord)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Typed records: the queue policy's buffered occurrence leaves the user's options for a
    // column of its own, and a batch records the grid and selection it runs. A version-1
    // batch gets its job's grid and selection of now: the best record there is of it.
    // And an index so that a claim never walks the backlog of a job at its limit.
    version: 2,
    sql: `
      ALTER TABLE pj_jobs ADD COLUMN buffered_occurrence INTEGER;
      UPDATE pj_jobs SET buffered_occurrence = json_extract(options, '$.bufferedOccurrence'), options = json_remove(options, '$.bufferedOccurrence')
        WHERE json_type(options, '$.bufferedOccurrence') IS NOT NULL;
      ALTER TABLE pj_batches ADD COLUMN grid TEXT NOT NULL DEFAULT 'null';
      ALTER TABLE pj_batches ADD COLUMN selection TEXT NOT NULL DEFAULT 'null';
      UPDATE pj_batches SET grid = (SELECT j.grid FROM pj_jobs j WHERE j.id = pj_batches.job_id),
        selection = (SELECT j.selection FROM pj_jobs j WHERE j.id = pj_batches.job_id)
        WHERE EXISTS (SELECT 1 FROM pj_jobs j WHERE j.id = pj_batches.job_id);
      -- A claim with a job at its limit takes the other jobs' runs from their own queues.
      CREATE INDEX pj_runs_pending_by_job ON pj_runs (job_id, seq) WHERE status = 'PENDING';
    `,
  },
  {
    // What a step knows: the trigger in detail (now, at, catch-up...). Older batches keep
    // NULL and read as their trigger.
    version: 3,
    sql: `ALTER TABLE pj_batches ADD COLUMN trigger_kind TEXT;`,
  },
  {
    // Idempotent creation: a job's key, unique among the jobs, and the fingerprint of the
    // spec it was created from. Older jobs have neither.
    version: 4,
    sql: `
      ALTER TABLE pj_jobs ADD COLUMN job_key TEXT;
      ALTER TABLE pj_jobs ADD COLUMN spec_fingerprint TEXT;
      CREATE UNIQUE INDEX pj_jobs_by_key ON pj_jobs (job_key) WHERE job_key IS NOT NULL;
    `,
  },
  {
    // A job's and a batch's JSON parts move to tables of their own (see job-rows.ts and
    // batch-rows.ts): SQLite rewrites a whole row on update and walks a large value's
    // overflow pages to read a column after it, so per-run writes and reads paid for the grid.
    version: 5,
    sql: `
      -- revision: the job version that last wrote the parts (parsed parts stay valid until it moves).
      CREATE TABLE pj_job_parts (
        job_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, pipeline TEXT NOT NULL, environments TEXT NOT NULL, grid TEXT NOT NULL,
        selection TEXT NOT NULL, schedule TEXT NOT NULL, env_vars TEXT NOT NULL, options TEXT NOT NULL
      );
      INSERT INTO pj_job_parts (job_id, revision, pipeline, environments, grid, selection, schedule, env_vars, options)
        SELECT id, version, pipeline, environments, grid, selection, schedule, env_vars, options FROM pj_jobs;
      ALTER TABLE pj_jobs DROP COLUMN pipeline;
      ALTER TABLE pj_jobs DROP COLUMN environments;
      ALTER TABLE pj_jobs DROP COLUMN grid;
      ALTER TABLE pj_jobs DROP COLUMN selection;
      ALTER TABLE pj_jobs DROP COLUMN schedule;
      ALTER TABLE pj_jobs DROP COLUMN env_vars;
      ALTER TABLE pj_jobs DROP COLUMN options;
      -- The same for a batch's grid, selection and variables (see batch-rows.ts).
      CREATE TABLE pj_batch_parts (
        job_id TEXT NOT NULL, batch_index INTEGER NOT NULL, env_vars TEXT NOT NULL, grid TEXT NOT NULL, selection TEXT NOT NULL,
        PRIMARY KEY (job_id, batch_index)
      );
      INSERT INTO pj_batch_parts (job_id, batch_index, env_vars, grid, selection) SELECT job_id, batch_index, env_vars, grid, selection FROM pj_batches;
      ALTER TABLE pj_batches DROP COLUMN env_vars;
      ALTER TABLE pj_batches DROP COLUMN grid;
      ALTER TABLE pj_batches DROP COLUMN selection;
    `,
  },
];

/**
 * Brings the schema to {@link SQLITE_SCHEMA_VERSION} under a write lock (BEGIN IMMEDIATE),
 * so processes opening the file at once migrate it once. Refuses a newer schema before
 * changing anything. `upTo` stops at an older version (tests build a file of a previous
 * release with it).
 */
export function migrate(db: Database.Database, now: number, upTo = SQLITE_SCHEMA_VERSION): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS pj_schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const row = db.prepare('SELECT max(version) AS v FROM pj_schema_version').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new StorageError('STORAGE_SCHEMA_TOO_NEW', `The database has schema version ${current}; this version of pipeline-jobs knows up to ${SQLITE_SCHEMA_VERSION}`, {
        path: 'schema_version',
        value: current,
        hint: 'Upgrade pipeline-jobs to the version that wrote this file, or use another file',
      });
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current || m.version > upTo) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO pj_schema_version (version, applied_at) VALUES (?, ?)').run(m.version, now);
    }
  }).immediate();
}

/** The problems `PRAGMA quick_check` / `integrity_check` finds; empty when the file is sound. */
export function integrityProblems(db: Database.Database, mode: 'quick' | 'full'): string[] {
  const rows = db.pragma(mode === 'quick' ? 'quick_check' : 'integrity_check') as Array<Record<string, string>>;
  const messages = rows.map((r) => Object.values(r)[0] ?? '');
  return messages.length === 1 && messages[0] === 'ok' ? [] : messages;
}
