import type Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import type { RunState } from '../../status.js';

interface Grouped {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A connection with a cache of prepared statements and a group commit for small writes. */
export class Db {
  readonly #cache = new Map<string, Database.Statement>();
  #group: Grouped[] = [];

  constructor(readonly raw: Database.Database) {}

  /** The prepared statement for `sql`, prepared once per connection. */
  stmt(sql: string): Database.Statement {
    let s = this.#cache.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE): all of it or nothing. */
  write<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  /**
   * Group commit: `fn` runs in a write transaction shared with the other `grouped` calls
   * made in the same burst (before the current microtasks end), one BEGIN IMMEDIATE and one
   * COMMIT for all of them, in call order; each resolves with its own result once that
   * transaction committed. Each `fn` runs in its own savepoint: one that throws is rolled
   * back alone and rejects alone (with a typed error); a failed commit rejects them all.
   * For the hot per-run writes (a run's end, its step states) of a busy process.
   */
  grouped<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#group.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.#group.length === 1) queueMicrotask(() => this.#flushGroup());
    });
  }

  /** Writes what `grouped` has queued (before the connection is closed). */
  flushGroup(): void {
    this.#flushGroup();
  }

  #flushGroup(): void {
    const group = this.#group;
    if (group.length === 0) return;
    this.#group = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.write(() => {
        for (const g of group) {
          try {
            outcomes.push({ ok: true, value: this.raw.transaction(g.fn)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      const typed = sqliteError(error, this.raw.name);
      for (const g of group) g.reject(typed);
      return;
    }
    group.forEach((g, i) => {
      const o = outcomes[i]!;
      if (o.ok) g.resolve(o.value);
      else g.reject(sqliteError(o.error, this.raw.name));
    });
  }

  /** Adds `delta` to a job's run counters. */
  addCounters(jobId: string, delta: Partial<Record<RunState, number>>): void {
    this.stmt(
      'UPDATE pj_jobs SET n_pending = n_pending + ?, n_started = n_started + ?, n_success = n_success + ?, n_failure = n_failure + ?, n_aborted = n_aborted + ? WHERE id = ?',
    ).run(delta.PENDING ?? 0, delta.STARTED ?? 0, delta.SUCCESS ?? 0, delta.FAILURE ?? 0, delta.ABORTED ?? 0, jobId);
  }

  /** Takes `n` consecutive values of the run sequence; resolves the first. */
  takeSeq(n: number): number {
    const row = this.stmt("UPDATE pj_meta SET value = value + ? WHERE key = 'seq' RETURNING value").get(n) as { value: number };
    return row.value - n + 1;
  }
}

/** SQLite error codes (better-sqlite3's `code`) that mean the file is not a sound database. */
const CORRUPT = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB', 'SQLITE_IOERR_SHORT_READ']);

/** Turns a driver error into a typed {@link StorageError}; typed errors pass through. */
export function sqliteError(error: unknown, file: string): Error {
  if (error instanceof StorageError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && CORRUPT.has(code)) {
    return new StorageError('STORAGE_CORRUPT', `The SQLite file is damaged or not a database: ${message}`, {
      path: file,
      cause: error,
      hint: 'Restore it from a backup, or move it aside to start with an empty store',
    });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT') {
    return new StorageError('STORAGE_BUSY', `The SQLite file stayed locked by another connection: ${message}`, {
      path: file,
      cause: error,
      hint: 'Raise `busyTimeoutMs`, or make the other process hold its transactions for less time',
    });
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    return new StorageError('STORAGE_CONFLICT', `A write broke a uniqueness rule: ${message}`, { path: file, cause: error });
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM'))) {
    return new StorageError('STORAGE_UNAVAILABLE', `The SQLite file cannot be opened for writing: ${message}`, { path: file, cause: error, hint: 'Check the path and its permissions' });
  }
  return new StorageError('STORAGE_FAILED', `SQLite failed: ${message}`, { path: file, cause: error });
}
