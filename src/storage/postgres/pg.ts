import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { StorageError } from '../../errors.js';
import type { StorageEvent } from '../port.js';
import { isTransientPgError } from './faults.js';

/** Lease time from the database's clock, in epoch milliseconds. */
export const DB_NOW_MS = '(extract(epoch from now()) * 1000)::bigint';

/** Schema-qualified table names. */
export interface Tables {
  schema: string;
  jobs: string;
  batches: string;
  runs: string;
  steps: string;
  ledger: string;
  /** Counter deltas of runs changing status, summed into the job's counters on read (see counters.ts). */
  counts: string;
  /** The claim function (one round trip per claim; see claim-sql.ts). */
  claim: string;
  /** The end-and-claim function (one round trip for both; see finish-claim-sql.ts). */
  finishClaim: string;
  version: string;
  seq: string;
  channel: string;
}

export function tables(schema: string): Tables {
  const q = (name: string): string => `"${schema}"."${name}"`;
  return {
    schema,
    jobs: q('jobs'),
    batches: q('batches'),
    runs: q('runs'),
    steps: q('steps'),
    ledger: q('ledger'),
    counts: q('job_counts'),
    claim: q('claim_runs'),
    finishClaim: q('finish_claim_runs'),
    version: q('schema_version'),
    seq: q('run_seq'),
    channel: `pj_${schema}`,
  };
}

/** Something that runs a query: the pool (one statement, autocommit) or a transaction's client. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** SQLSTATEs after which a transaction can simply be tried again. */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Runs `fn` in one transaction on a client of `pool`, committed when it resolves and
 * rolled back when it throws. A deadlock or serialisation failure (another process won
 * a race) is retried a few times: the rollback left nothing behind. `setup` runs right
 * after BEGIN in the same round trip (e.g. `SET LOCAL` planner settings).
 *
 * A connection lost while the client is checked out (the server stopped, the network
 * reset) makes `pg` emit `error` on the client, and the pool listens only to idle
 * clients: without a listener of ours that event would crash the host process. The query
 * in flight rejects with the same error, so it is recorded here and the client is dropped
 * from the pool instead of being reused; the caller sees the query's error.
 */
export async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, setup = ''): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let lost: Error | undefined;
    const onError = (error: Error): void => {
      lost ??= error;
    };
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query(setup === '' ? 'BEGIN' : `BEGIN; ${setup}`);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (lost !== undefined || isTransientPgError(error)) {
        // No ROLLBACK on a dead or unanswering connection (it would wait for nothing): the
        // server rolls back a transaction whose session ends.
        broken = lost ?? (error as Error);
      } else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable: drop it from the pool rather than reuse it.
          broken = rollbackError as Error;
        }
      }
      if (attempt < 5 && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
      throw error;
    } finally {
      // A dropped client keeps our listener: it may still emit while the pool ends it.
      if (broken === undefined && lost === undefined) client.off('error', onError);
      client.release(broken ?? lost);
    }
  }
}

/** Runs one statement, retrying when it lost a deadlock to another process. */
export async function statement<R extends QueryResultRow>(db: Queryable, sql: string, values: unknown[]): Promise<R[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await db.query<R>(sql, values)).rows;
    } catch (error) {
      if (attempt < 5 && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
      throw error;
    }
  }
}

/**
 * Runs one statement as a named prepared statement (parsed once per connection; the hot
 * paths of claims and finishes), retrying when it lost a deadlock to another process.
 * `name` must be unique per statement text: include the schema.
 */
export async function prepared<R extends QueryResultRow>(db: Pool | PoolClient, name: string, text: string, values: unknown[]): Promise<R[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await db.query<R>({ name, text, values })).rows;
    } catch (error) {
      if (attempt < 5 && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
      throw error;
    }
  }
}

/** Sends events to other processes on commit (`pg_notify` inside the transaction), split to fit NOTIFY's payload limit. */
export async function notify(db: Queryable, t: Tables, events: StorageEvent[]): Promise<void> {
  const payloads: string[] = [];
  for (const event of events) {
    const ids = event.runIds ?? [];
    if (ids.length <= 100) {
      payloads.push(JSON.stringify(event));
      continue;
    }
    for (let i = 0; i < ids.length; i += 100) payloads.push(JSON.stringify({ ...event, runIds: ids.slice(i, i + 100) }));
  }
  if (payloads.length === 0) return;
  await db.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [t.channel, payloads]);
}

/**
 * Turns a driver error into a typed {@link StorageError}; typed errors pass through.
 * `STORAGE_UNAVAILABLE` means the database could not be reached or did not answer (a
 * lost connection, a reset, a server shutting down or starting, too many connections, a
 * timeout; also a missing database or refused login): retry later. `STORAGE_CONFLICT`
 * is a uniqueness rule, `STORAGE_FAILED` anything else.
 */
export function pgError(error: unknown, where: string): Error {
  if (error instanceof StorageError) return error;
  const e = error as { code?: string; message?: string; constraint?: string } | null;
  const code = e?.code ?? '';
  const message = e?.message ?? String(error);
  if (code === '23505') return new StorageError('STORAGE_CONFLICT', `A write broke a uniqueness rule (${e?.constraint ?? 'unknown'}): ${message}`, { path: where, cause: error });
  if (isTransientPgError(error) || code === '3D000' || code.startsWith('28')) {
    return new StorageError('STORAGE_UNAVAILABLE', `PostgreSQL is unavailable: ${message}`, { path: where, cause: error, hint: 'Check the connection settings and that the server is running; the operation may be retried' });
  }
  return new StorageError('STORAGE_FAILED', `PostgreSQL failed: ${message}`, { path: where, cause: error });
}
