import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FileLogStore, JobScheduler, ProcessStepExecutor, RunExecutor, SnapshotStore } from '../index.js';
import type { Storage } from '../storage-kit.js';

/** Global options every command takes. */
export interface GlobalOptions {
  /** Folder of the embedded defaults. */
  home?: string;
  /** A SQLite file path or a `postgres://` URL. */
  store?: string;
  json?: boolean;
}

/** The embedded defaults, opened: one scheduler over a store, snapshots, logs and work folders under `home`. */
export interface CliEnv {
  readonly home: string;
  readonly storage: Storage;
  readonly snapshots: SnapshotStore;
  readonly logs: FileLogStore;
  readonly artifactsRoot: string;
  readonly scheduler: JobScheduler;
  /** Stops the scheduler (when started) and closes the store and logs. */
  close(options?: { mode?: 'drain' | 'cancel'; timeoutMs?: number }): Promise<void>;
}

/** Where the embedded defaults live: `--home`, else `$PIPELINE_JOBS_HOME`, else `./.pipeline-jobs`. */
export function homeOf(o: GlobalOptions): string {
  return path.resolve(o.home ?? process.env.PIPELINE_JOBS_HOME ?? '.pipeline-jobs');
}

/**
 * Opens the store named by `--store` (SQLite path or PostgreSQL URL; default
 * `<home>/jobs.sqlite`). Drivers are loaded on demand: a SQLite user needs no `pg`.
 */
export async function openStorage(o: GlobalOptions, home: string): Promise<Storage> {
  const store = o.store ?? process.env.PIPELINE_JOBS_STORE ?? path.join(home, 'jobs.sqlite');
  if (/^postgres(ql)?:\/\//.test(store)) {
    const { PostgresStorage } = await import('../storage/postgres/index.js');
    return new PostgresStorage({ connectionString: store });
  }
  await mkdir(path.dirname(path.resolve(store)), { recursive: true });
  const { SqliteStorage } = await import('../storage/sqlite/index.js');
  return new SqliteStorage({ path: path.resolve(store) });
}

/**
 * Opens everything a command needs. `keepAlive` is off unless asked: commands end when
 * their work ends; `worker` keeps the process up until a signal.
 */
export async function openEnv(o: GlobalOptions, extra: { concurrency?: number; keepAlive?: boolean } = {}): Promise<CliEnv> {
  const home = homeOf(o);
  const storage = await openStorage(o, home);
  await storage.init();
  const snapshots = new SnapshotStore({ root: path.join(home, 'snapshots') });
  const logs = new FileLogStore({ directory: path.join(home, 'logs') });
  const artifactsRoot = path.join(home, 'artifacts');
  const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: logs, workRoot: path.join(home, 'runs'), artifactsRoot });
  const scheduler = new JobScheduler({ storage, snapshots, executor, keepAlive: extra.keepAlive ?? false, ...(extra.concurrency ? { concurrency: extra.concurrency } : {}) });
  let closed = false;
  return {
    home,
    storage,
    snapshots,
    logs,
    artifactsRoot,
    scheduler,
    async close(options) {
      if (closed) return;
      closed = true;
      await scheduler.stop(options);
      await logs.close();
      await storage.close();
    },
  };
}
