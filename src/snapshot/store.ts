import { readdirSync, statSync, unlinkSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { SnapshotError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createSnapshot } from './create.js';
import { invalidOption, isErrno, snapshotNotFound } from './errors.js';
import { collectGarbage } from './gc.js';
import { Layout } from './layout.js';
import { StoreLock } from './lock.js';
import { readManifest, readRecord, type Manifest, type ManifestEntry } from './manifest.js';
import { materializeSnapshot } from './materialize.js';
import {
  resolveCreateOptions,
  resolveStoreOptions,
  type MaterializeOptions,
  type ResolvedStoreOptions,
  type SnapshotStoreOptions,
  type StoreCreateOptions,
} from './options.js';
import type { Snapshots } from './port.js';
import { checkReadPath, indexEntries, readObject, resolveFile, verifyManifest } from './read.js';
import type { GcReport, StoredSnapshotRecord, StoreStats, VerifyReport } from './types.js';
import { WorkerPool } from './worker-pool.js';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MANIFEST_CACHE = 8;

/**
 * Immutable, content-addressed snapshots of project directories on local disk.
 *
 * `create` stores each distinct file once (by SHA-256) and writes a manifest; what git
 * would ignore is left out (every `.gitignore`, `.git/info/exclude`, `.git/`), plus a data
 * directory and caller patterns. `materialize` writes a working copy for one run (clones
 * where supported, never hard links). Safe to share between processes: two `create`s at
 * once, and `gc()` during `create` or `materialize`.
 *
 * @example
 * const store = new SnapshotStore({ root: '/var/lib/jobs/snapshots' });
 * const snap = await store.create('/home/me/my-project');
 * await store.materialize(snap.id, '/tmp/run-1');
 */
export class SnapshotStore implements Snapshots {
  readonly #o: ResolvedStoreOptions;
  readonly #layout: Layout;
  readonly #lock: StoreLock;
  readonly #manifests = new Map<string, { manifest: Manifest; index?: Map<string, ManifestEntry> }>();
  #ready: Promise<void> | undefined;

  /**
   * A store rooted at `options.root` (created on first use).
   * @param options see {@link SnapshotStoreOptions}; copied, never mutated.
   * @throws {@link OptionsError} `SNAPSHOT_INVALID_OPTION` naming the bad option
   */
  constructor(options: SnapshotStoreOptions) {
    this.#o = resolveStoreOptions(options);
    this.#layout = new Layout(this.#o.root);
    this.#lock = new StoreLock({
      layout: this.#layout,
      clock: this.#o.clock,
      logger: this.#o.logger,
      staleMs: this.#o.staleLockMs,
      pollMs: this.#o.lockPollMs,
    });
  }

  /** The store's directory. */
  get root(): string {
    return this.#o.root;
  }

  get #clock(): Clock {
    return this.#o.clock;
  }

  get #logger(): Logger {
    return this.#o.logger;
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      this.#layout.init();
    })();
    this.#ready.catch(() => {
      // Let a later call retry the initialisation after a transient error (the caller got it).
      this.#ready = undefined;
    });
    return this.#ready;
  }

  /**
   * Takes a snapshot of `projectDir`; visible to `get`/`list` only once complete.
   * @param projectDir the project directory to snapshot
   * @param options ignore rules, limits, cancel signal and progress reports (over the store's defaults)
   * @throws {@link SnapshotError} `SNAPSHOT_PROJECT_NOT_FOUND`, `SNAPSHOT_PROJECT_NOT_DIRECTORY`,
   *   `SNAPSHOT_ESCAPING_SYMLINK`, `SNAPSHOT_DANGLING_SYMLINK`, `SNAPSHOT_TOO_MANY_FILES`, `SNAPSHOT_TOO_LARGE`,
   *   `SNAPSHOT_UNREADABLE`, `SNAPSHOT_FILE_CHANGING`, `SNAPSHOT_IO_ERROR` (nothing is left visible);
   *   {@link OptionsError} `SNAPSHOT_INVALID_OPTION` naming the bad option
   */
  async create(projectDir: string, options?: StoreCreateOptions): Promise<StoredSnapshotRecord> {
    const rules = resolveCreateOptions(this.#o, options);
    if (typeof projectDir !== 'string' || projectDir === '') {
      throw invalidOption('projectDir', 'a directory path', projectDir);
    }
    await this.#init();
    return createSnapshot(
      {
        layout: this.#layout,
        lock: this.#lock,
        clock: this.#clock,
        logger: this.#logger,
        concurrency: this.#o.concurrency,
        durable: this.#o.durable,
        reclaim: async () => {
          await collectGarbage({ layout: this.#layout, lock: this.#lock, logger: this.#logger }, false, undefined);
        },
      },
      { ...rules, projectDir, signal: options?.signal, onProgress: options?.onProgress },
    );
  }

  async get(id: string): Promise<StoredSnapshotRecord | undefined> {
    if (typeof id !== 'string' || !ID.test(id)) return undefined;
    await this.#init();
    return readRecord(this.#layout.manifest(id), id);
  }

  /** Every complete snapshot, oldest first (a damaged manifest is skipped and logged). */
  async list(): Promise<StoredSnapshotRecord[]> {
    await this.#init();
    const out: StoredSnapshotRecord[] = [];
    for (const name of readdirSync(this.#layout.snapshots)) {
      const id = name.endsWith('.snap') ? name.slice(0, -5) : '';
      if (!ID.test(id)) continue;
      try {
        const r = readRecord(this.#layout.manifest(id), id);
        if (r !== undefined) out.push(r);
      } catch (e) {
        // One damaged manifest must not hide the others; get(id), verify and gc report it.
        if (!(e instanceof SnapshotError)) throw e;
        this.#logger.error('snapshot: skipping a damaged manifest in list()', { id, error: e.message });
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async #manifest(id: string): Promise<{ manifest: Manifest; index?: Map<string, ManifestEntry> }> {
    if (typeof id !== 'string' || !ID.test(id)) throw snapshotNotFound(String(id));
    const hit = this.#manifests.get(id);
    if (hit !== undefined) {
      this.#manifests.delete(id);
      this.#manifests.set(id, hit);
      return hit;
    }
    await this.#init();
    const manifest = await readManifest(this.#layout.manifest(id), id);
    if (manifest === undefined) throw snapshotNotFound(id);
    const entry = { manifest };
    this.#manifests.set(id, entry);
    if (this.#manifests.size > MANIFEST_CACHE) this.#manifests.delete(this.#manifests.keys().next().value as string);
    return entry;
  }

  /**
   * What the snapshot holds: files, symlinks and empty directories, sorted by path.
   * @throws {@link NotFoundError} `SNAPSHOT_NOT_FOUND` for an unknown id
   */
  async entries(id: string): Promise<readonly ManifestEntry[]> {
    return (await this.#manifest(id)).manifest.entries;
  }

  /**
   * One file of the snapshot; symlinks inside the snapshot are followed.
   * @param id the snapshot
   * @param path the file's path in the project, relative and `/`-separated
   * @throws {@link NotFoundError} `SNAPSHOT_NOT_FOUND` / `SNAPSHOT_FILE_NOT_FOUND`; {@link SnapshotError}
   *   `SNAPSHOT_INVALID_PATH`, `SNAPSHOT_NOT_A_FILE`, or `SNAPSHOT_OBJECT_MISSING` / `SNAPSHOT_CORRUPT` for
   *   damaged stored content
   */
  async readFile(id: string, path: string): Promise<Buffer> {
    const p = checkReadPath(path);
    const m = await this.#manifest(id);
    m.index ??= indexEntries(m.manifest);
    return readObject(this.#layout, resolveFile(id, m.index, p), id);
  }

  /**
   * Writes a working copy into `targetDir` (created; must be absent or empty).
   * @param id the snapshot
   * @param targetDir where the working copy goes
   * @param options cancel signal (a partly written copy is removed) and progress reports
   * @throws {@link NotFoundError} `SNAPSHOT_NOT_FOUND`; {@link SnapshotError} `SNAPSHOT_TARGET_NOT_EMPTY`,
   *   `SNAPSHOT_OBJECT_MISSING`, `SNAPSHOT_CORRUPT`, `SNAPSHOT_IO_ERROR`; {@link OptionsError}
   *   `SNAPSHOT_INVALID_OPTION` for an empty `targetDir`
   */
  async materialize(id: string, targetDir: string, options: MaterializeOptions = {}): Promise<void> {
    if (typeof targetDir !== 'string' || targetDir === '') {
      throw invalidOption('targetDir', 'a directory path', targetDir);
    }
    const { manifest } = await this.#manifest(id);
    const ctx = { layout: this.#layout, logger: this.#logger, concurrency: this.#o.concurrency };
    await materializeSnapshot(ctx, manifest, targetDir, options.signal, options.onProgress);
  }

  /**
   * Removes the snapshot. Its content goes at once when no `create` is running and
   * `reclaimOnDelete` is on; otherwise at the next `gc()`.
   * @throws {@link NotFoundError} `SNAPSHOT_NOT_FOUND` for an unknown id
   */
  async delete(id: string): Promise<void> {
    if (typeof id !== 'string' || !ID.test(id)) throw snapshotNotFound(String(id));
    await this.#init();
    this.#manifests.delete(id);
    try {
      unlinkSync(this.#layout.manifest(id));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw snapshotNotFound(id);
      throw e;
    }
    if (!this.#o.reclaimOnDelete) return;
    try {
      await collectGarbage({ layout: this.#layout, lock: this.#lock, logger: this.#logger }, false, undefined);
    } catch (e) {
      // The snapshot is deleted; only reclaiming its space failed, and gc() retries that.
      this.#logger.warn('snapshot: reclaiming space after delete failed', { id, error: String(e) });
    }
  }

  /**
   * Removes content no snapshot references and what interrupted operations left. Waits
   * for running `create`s to finish (new ones wait for the gc).
   */
  async gc(options: { signal?: AbortSignal } = {}): Promise<GcReport> {
    await this.#init();
    const report = await collectGarbage({ layout: this.#layout, lock: this.#lock, logger: this.#logger }, true, options.signal);
    return report as GcReport;
  }

  /** Re-hashes every object of a snapshot and reports missing or damaged ones. */
  async verify(id: string, options: { signal?: AbortSignal } = {}): Promise<VerifyReport> {
    const { manifest } = await this.#manifest(id);
    const pool = new WorkerPool(this.#o.concurrency);
    try {
      return await verifyManifest(this.#layout, pool, manifest, options.signal);
    } finally {
      await pool.close();
    }
  }

  /** Logical size of all snapshots vs what the store holds. */
  async stats(): Promise<StoreStats> {
    const records = await this.list();
    let objects = 0;
    let storedBytes = 0;
    let diskBytes = 0;
    for (let i = 0; i < 256; i++) {
      const dir = `${this.#layout.objects}/${i.toString(16).padStart(2, '0')}`;
      for (const name of readdirSync(dir)) {
        if (name.startsWith('.')) continue; // an object being written
        const st = statSync(`${dir}/${name}`, { throwIfNoEntry: false });
        if (st === undefined) continue;
        objects++;
        storedBytes += st.size;
        diskBytes += st.blocks * 512;
      }
    }
    for (const dir of [this.#layout.snapshots, this.#layout.cache]) {
      for (const name of readdirSync(dir)) diskBytes += (statSync(`${dir}/${name}`, { throwIfNoEntry: false })?.blocks ?? 0) * 512;
    }
    return {
      snapshots: records.length,
      logicalBytes: records.reduce((s, r) => s + r.logicalBytes, 0),
      objects,
      storedBytes,
      diskBytes,
    };
  }
}
