import type { Pool } from 'pg';
import { StorageError } from '../../errors.js';
import type { Tables } from './pg.js';
import { claimFunctionSql } from './claim-sql.js';
import { finishClaimFunctionSql } from './finish-claim-sql.js';
import { transaction } from './pg.js';

/** The schema version this release writes. A database with a higher version is refused. */
export const POSTGRES_SCHEMA_VERSION = 6;

function migrations(t: Tables): ReadonlyArray<{ version: number; sql: string }> {
  const id = 'TEXT COLLATE "C"';
  return [
    {
      version: 1,
      sql: `
        CREATE SEQUENCE ${t.seq};
        CREATE TABLE ${t.jobs} (
          id ${id} PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, snapshot_id TEXT NOT NULL,
          pipeline TEXT NOT NULL, environments TEXT NOT NULL, grid TEXT NOT NULL, selection TEXT NOT NULL, schedule TEXT NOT NULL,
          env_vars TEXT NOT NULL, options TEXT NOT NULL,
          n_pending BIGINT NOT NULL, n_started BIGINT NOT NULL, n_success BIGINT NOT NULL, n_failure BIGINT NOT NULL, n_aborted BIGINT NOT NULL,
          batch_count BIGINT NOT NULL, run_count BIGINT NOT NULL, schedule_cursor BIGINT, max_concurrent_runs INTEGER NOT NULL,
          created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, finished_at BIGINT, version BIGINT NOT NULL
        );
        CREATE INDEX ON ${t.jobs} (created_at DESC, id DESC);
        CREATE INDEX ON ${t.jobs} (project_id, created_at DESC, id DESC);
        CREATE INDEX ON ${t.jobs} (status);
        CREATE TABLE ${t.batches} (
          job_id ${id} NOT NULL, batch_index INTEGER NOT NULL, trigger TEXT NOT NULL, occurrence_at BIGINT,
          run_count BIGINT NOT NULL, written_runs BIGINT NOT NULL, first_run_index BIGINT NOT NULL,
          env_vars TEXT NOT NULL, created_at BIGINT NOT NULL,
          PRIMARY KEY (job_id, batch_index)
        );
        CREATE UNIQUE INDEX batches_occurrence ON ${t.batches} (job_id, occurrence_at) WHERE trigger = 'schedule';
        CREATE INDEX ON ${t.batches} (job_id) WHERE written_runs < run_count;
        CREATE TABLE ${t.runs} (
          id ${id} PRIMARY KEY, job_id ${id} NOT NULL, batch_index INTEGER NOT NULL, grid_index BIGINT NOT NULL,
          index_in_batch BIGINT NOT NULL, run_index BIGINT NOT NULL, status TEXT NOT NULL, parameters TEXT NOT NULL,
          created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT, reason TEXT, error TEXT,
          attempts INTEGER NOT NULL, lease_owner TEXT, lease_expires_at BIGINT, cancel_requested BOOLEAN NOT NULL,
          process_info TEXT, seq BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX runs_position ON ${t.runs} (job_id, batch_index, index_in_batch);
        CREATE INDEX ON ${t.runs} (job_id, run_index);
        CREATE INDEX runs_pending ON ${t.runs} (seq) WHERE status = 'PENDING';
        CREATE INDEX runs_leases ON ${t.runs} (lease_expires_at) WHERE status = 'STARTED';
        CREATE TABLE ${t.steps} (
          run_id ${id} NOT NULL, ord INTEGER NOT NULL, step_uuid TEXT NOT NULL, status TEXT NOT NULL,
          started_at BIGINT, finished_at BIGINT, attempts INTEGER NOT NULL, exit_code INTEGER, error TEXT,
          PRIMARY KEY (run_id, ord)
        );
        CREATE TABLE ${t.ledger} (
          job_id ${id} NOT NULL, ord INTEGER NOT NULL, action TEXT NOT NULL, reason TEXT, at BIGINT NOT NULL,
          last_at BIGINT NOT NULL, count BIGINT NOT NULL, batch_index INTEGER,
          PRIMARY KEY (job_id, ord)
        );
      `,
    },
    {
      // Counter deltas (claims and finishes stop queueing on the job row; see counters.ts),
      // the claim as one function call, and one index less on runs. A version-1 job row's counters stay valid as
      // the base the deltas add to, so no data moves.
      version: 2,
      sql: `
        CREATE TABLE ${t.counts} (
          job_id ${id} NOT NULL, pending BIGINT NOT NULL, started BIGINT NOT NULL, success BIGINT NOT NULL, failure BIGINT NOT NULL, aborted BIGINT NOT NULL
        );
        CREATE INDEX ON ${t.counts} (job_id);
        -- Run listings walk runs_position (same order): one index less to write on every status change.
        DROP INDEX "${t.schema}".runs_job_id_run_index_idx;
        ${claimFunctionSql(t)}
      `,
    },
    {
      // Typed records: the queue policy's buffered occurrence leaves the user's options for a
      // column of its own, and a batch records the grid and selection it runs; and a claim
      // that never walks the backlog of a job at its limit. A version-2
      // batch gets its job's grid and selection of now: the best record there is of it.
      version: 3,
      sql: `
        ALTER TABLE ${t.jobs} ADD COLUMN buffered_occurrence BIGINT;
        UPDATE ${t.jobs} SET buffered_occurrence = (options::jsonb ->> 'bufferedOccurrence')::bigint, options = (options::jsonb - 'bufferedOccurrence')::text
          WHERE options::jsonb ? 'bufferedOccurrence';
        ALTER TABLE ${t.batches} ADD COLUMN grid TEXT NOT NULL DEFAULT 'null', ADD COLUMN selection TEXT NOT NULL DEFAULT 'null';
        UPDATE ${t.batches} b SET grid = j.grid, selection = j.selection FROM ${t.jobs} j WHERE j.id = b.job_id;
        -- Each job's pending runs in run order: a claim takes the head of each job with room
        -- instead of walking the backlog of a job at its limit (see claim-sql.ts), which
        -- replaces the version-2 function.
        CREATE INDEX runs_job_pending ON ${t.runs} (job_id, seq) WHERE status = 'PENDING';
        ${claimFunctionSql(t)}
      `,
    },
    {
      // What a step knows: the trigger in detail (now, at, catch-up...). Older batches keep
      // NULL and read as their trigger.
      version: 4,
      sql: `ALTER TABLE ${t.batches} ADD COLUMN trigger_kind TEXT;`,
    },
    {
      // Idempotent creation: a job's key, unique among the jobs, and the fingerprint of
      // the spec it was created from. Older jobs have neither.
      version: 5,
      sql: `
        ALTER TABLE ${t.jobs} ADD COLUMN job_key TEXT, ADD COLUMN spec_fingerprint TEXT;
        CREATE UNIQUE INDEX jobs_by_key ON ${t.jobs} (job_key) WHERE job_key IS NOT NULL;
      `,
    },
    {
      // Ends and a claim in one round trip and one commit (Storage.finishAndClaim).
      version: 6,
      sql: finishClaimFunctionSql(t),
    },
  ];
}

/**
 * Creates the schema or brings it to {@link POSTGRES_SCHEMA_VERSION}, in one transaction
 * under an advisory lock, so processes starting at once migrate it once. Refuses a newer
 * schema before changing anything. `upTo` stops at an older version (tests build a
 * database of a previous release with it).
 */
export async function migrate(pool: Pool, t: Tables, now: number, upTo = POSTGRES_SCHEMA_VERSION): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pipeline-jobs:migrate:${t.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t.version} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${t.version}`);
    const current = rows[0]?.v ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new StorageError('STORAGE_SCHEMA_TOO_NEW', `Schema "${t.schema}" has version ${current}; this version of pipeline-jobs knows up to ${POSTGRES_SCHEMA_VERSION}`, {
        path: t.schema,
        value: current,
        hint: 'Upgrade pipeline-jobs in every process that uses this database, or use another schema',
      });
    }
    for (const m of migrations(t)) {
      if (m.version <= current || m.version > upTo) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${t.version} (version, applied_at) VALUES ($1, $2)`, [m.version, now]);
    }
  });
}
