import { availableParallelism } from 'node:os';
import path from 'node:path';
import { SystemClock, type Clock } from '../clock.js';
import { silentLogger, type Logger } from '../logger.js';
import { invalidOption } from './errors.js';
import type { SnapshotCreateOptions } from './port.js';
import { SymlinkPolicy, type SnapshotProgress } from './types.js';

/** What a snapshot leaves out and how big it may be; set on the store, overridable per `create`. */
export interface SnapshotRules {
  /**
   * Extra patterns in `.gitignore` syntax, relative to the project root. They take
   * precedence over the project's own ignore files (like `git ls-files --exclude`), so
   * `!pattern` here re-includes what a `.gitignore` left out. Per-call patterns are added
   * after the store's.
   * @default []
   * @example ['*.parquet', 'outputs/', '!outputs/README.md']
   */
  exclude?: readonly string[];
  /**
   * A data directory to leave out whatever the ignore files say: relative to the project
   * root, or absolute (ignored when outside the project). Orchest's advice holds: data and
   * large artifacts belong outside the project (Orchest mounted `/data`); this is for
   * projects that keep them inside.
   * @default null (none: a snapshot holds what git would see)
   * @example 'data'
   */
  dataDir?: string | null;
  /**
   * Most files (and symlinks) a snapshot may hold; more is a `SNAPSHOT_TOO_MANY_FILES` error
   * naming the biggest directories.
   * @default 100_000
   */
  maxFiles?: number;
  /**
   * Most bytes (sum of file sizes) a snapshot may hold; more is a `SNAPSHOT_TOO_LARGE` error
   * naming the biggest contributors.
   * @default 1_073_741_824 (1 GiB)
   */
  maxBytes?: number;
  /**
   * A symlink that points outside the project, or dangles: refuse the snapshot
   * (`'error'`) or leave the link out and report it (`'skip'`). Never followed.
   * @default 'error'
   */
  symlinks?: SymlinkPolicy;
}

/** Options of the `SnapshotStore` constructor. */
export interface SnapshotStoreOptions extends SnapshotRules {
  /** The store's directory (created on first use). Put it on the same file system as the working copies, so clones work where supported. */
  root: string;
  /** Where time comes from (lock heartbeats, `createdAt`); tests pass a `FakeClock`. @default new SystemClock() */
  clock?: Clock;
  /** Where the store's diagnostics go. @default silentLogger */
  logger?: Logger;
  /**
   * Worker threads reading, hashing and copying files.
   * @default Math.min(4, os.availableParallelism())
   */
  concurrency?: number;
  /**
   * Also fsync every new object before a manifest is published (the manifest itself is
   * always fsynced). Without it a snapshot survives a crash of the process but a power
   * loss right after `create` may leave objects empty, which `verify` reports.
   * @default false
   */
  durable?: boolean;
  /**
   * After `delete`, remove the content no snapshot uses any more, when no `create` is
   * running (otherwise the next `gc()` or `delete` does).
   * @default true
   */
  reclaimOnDelete?: boolean;
  /**
   * A lock whose holder has not shown life for this long is taken as stale (holders on
   * this host are also checked by process id).
   * @default 300_000
   */
  staleLockMs?: number;
  /**
   * How often a waiting `create` or `gc` checks the lock again.
   * @default 50
   */
  lockPollMs?: number;
}

/** Options of `SnapshotStore.create`. */
export interface StoreCreateOptions extends SnapshotCreateOptions, SnapshotRules {
  /** Progress reports; an exception thrown here is logged and ignored. @default none */
  onProgress?: (progress: SnapshotProgress) => void;
}

/** Options of `SnapshotStore.materialize`. */
export interface MaterializeOptions {
  /** Stops the copy; a partly written working copy is removed. @default none */
  signal?: AbortSignal;
  /** Progress reports (`phase` is `store` while copying, then `done`). @default none */
  onProgress?: (progress: SnapshotProgress) => void;
}

export interface ResolvedRules {
  readonly exclude: readonly string[];
  readonly dataDir: string | null;
  readonly maxFiles: number;
  readonly maxBytes: number;
  readonly symlinks: SymlinkPolicy;
}

export interface ResolvedStoreOptions extends ResolvedRules {
  readonly root: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly durable: boolean;
  readonly reclaimOnDelete: boolean;
  readonly staleLockMs: number;
  readonly lockPollMs: number;
}

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalidOption(name, 'a positive integer', v);
  return v;
}

function bool(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalidOption(name, 'a boolean', v);
  return v;
}

function patterns(name: string, v: unknown): readonly string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidOption(name, 'an array of strings', v);
  v.forEach((p, i) => {
    if (typeof p !== 'string' || /[\n\r\0]/.test(p)) throw invalidOption(`${name}[${i}]`, 'a pattern string without line breaks', p);
  });
  return Object.freeze([...(v as string[])]);
}

function dataDir(name: string, v: unknown, fallback: string | null): string | null {
  if (v === undefined) return fallback;
  if (v === null) return null;
  if (typeof v !== 'string' || v === '' || v.includes('\0')) throw invalidOption(name, 'a non-empty path or null', v);
  if (!path.isAbsolute(v)) {
    const n = path.posix.normalize(v.replace(/\/+$/, ''));
    if (n === '.' || n === '..' || n.startsWith('../')) throw invalidOption(name, 'a path inside the project, or an absolute path', v);
  }
  return v;
}

function symlinks(name: string, v: unknown, fallback: SymlinkPolicy): SymlinkPolicy {
  if (v === undefined) return fallback;
  if (!Object.values(SymlinkPolicy).includes(v as SymlinkPolicy)) throw invalidOption(name, "'error' or 'skip'", v);
  return v as SymlinkPolicy;
}

function method(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'function') throw invalidOption(name, 'a function', v);
}

/** Validates and completes the constructor options (a copy; the input is not touched). */
export function resolveStoreOptions(o: SnapshotStoreOptions): ResolvedStoreOptions {
  if (o === null || typeof o !== 'object') throw invalidOption('options', 'an object', o);
  if (typeof o.root !== 'string' || o.root === '') throw invalidOption('root', 'a non-empty directory path', o.root);
  for (const k of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (o.clock !== undefined && typeof o.clock?.[k] !== 'function') throw invalidOption('clock', 'a Clock', o.clock);
  }
  if (o.logger !== undefined && typeof o.logger?.warn !== 'function') throw invalidOption('logger', 'a Logger', o.logger);
  return Object.freeze({
    root: path.resolve(o.root),
    clock: o.clock ?? new SystemClock(),
    logger: o.logger ?? silentLogger,
    exclude: patterns('exclude', o.exclude),
    dataDir: dataDir('dataDir', o.dataDir, null),
    maxFiles: positiveInt('maxFiles', o.maxFiles, 100_000),
    maxBytes: positiveInt('maxBytes', o.maxBytes, 2 ** 30),
    symlinks: symlinks('symlinks', o.symlinks, SymlinkPolicy.ERROR),
    concurrency: positiveInt('concurrency', o.concurrency, Math.min(4, availableParallelism())),
    durable: bool('durable', o.durable, false),
    reclaimOnDelete: bool('reclaimOnDelete', o.reclaimOnDelete, true),
    staleLockMs: positiveInt('staleLockMs', o.staleLockMs, 300_000),
    lockPollMs: positiveInt('lockPollMs', o.lockPollMs, 50),
  });
}

/** The rules for one `create`: the store's, with the call's on top (patterns are added). */
export function resolveCreateOptions(store: ResolvedStoreOptions, o: StoreCreateOptions | undefined): ResolvedRules {
  if (o === undefined) return store;
  if (o === null || typeof o !== 'object') throw invalidOption('options', 'an object', o);
  method('onProgress', o.onProgress);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidOption('signal', 'an AbortSignal', o.signal);
  return {
    exclude: [...store.exclude, ...patterns('exclude', o.exclude)],
    dataDir: dataDir('dataDir', o.dataDir, store.dataDir),
    maxFiles: positiveInt('maxFiles', o.maxFiles, store.maxFiles),
    maxBytes: positiveInt('maxBytes', o.maxBytes, store.maxBytes),
    symlinks: symlinks('symlinks', o.symlinks, store.symlinks),
  };
}
