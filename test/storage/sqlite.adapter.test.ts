import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteStorage } from '../../src/storage/sqlite/index.js';
import { makeJob, newRuns, rejection, T0 } from '../../src/testing/storage-contract/fixtures.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pj-sqlite-'));
  file = path.join(dir, 'jobs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function opened(options: Partial<ConstructorParameters<typeof SqliteStorage>[0]> = {}): Promise<SqliteStorage> {
  const s = new SqliteStorage({ path: file, ...options });
  await s.init();
  return s;
}

/** A file with one job, 2,000 runs and a second table's worth of pages, closed cleanly (WAL checkpointed). */
async function populated(): Promise<string> {
  const s = await opened();
  const job = makeJob();
  await s.insertJob(job);
  await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 2000, expectStatus: ['STARTED'], now: T0 });
  await s.insertRuns(job.id, 0, newRuns(2000), T0);
  await s.close();
  return job.id;
}

describe('SqliteStorage files', () => {
  it('creates the schema in WAL mode and records its version; a second init and a reopen keep the data', async () => {
    const s = await opened();
    const job = makeJob();
    await s.insertJob(job);
    await s.init();
    await s.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version FROM pj_schema_version ORDER BY version').all()).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
    raw.close();
    const again = await opened();
    expect(await again.getJob(job.id)).toEqual(job);
    await again.close();
  });

  it('refuses a file written by a newer schema version with STORAGE_SCHEMA_TOO_NEW, changing nothing', async () => {
    await populated();
    const raw = new Database(file);
    raw.prepare('INSERT INTO pj_schema_version (version, applied_at) VALUES (?, 0)').run(SQLITE_SCHEMA_VERSION + 1);
    raw.close();
    const before = readFileSync(file);
    const s = new SqliteStorage({ path: file });
    const err = await rejection(s.init());
    expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_SCHEMA_TOO_NEW', path: 'schema_version', value: SQLITE_SCHEMA_VERSION + 1 });
    expect(String((err as Error).message)).toContain(`version ${SQLITE_SCHEMA_VERSION + 1}`);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(await rejection(s.getJob('x'))).toMatchObject({ code: 'STORAGE_NOT_INITIALISED' });
  });

  it('refuses a file that is not a database with STORAGE_CORRUPT, every time', async () => {
    writeFileSync(file, 'this is a text file, not SQLite '.repeat(200));
    for (let i = 0; i < 2; i++) {
      const err = await rejection(new SqliteStorage({ path: file }).init());
      expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_CORRUPT', path: file });
    }
  });

  it('refuses a truncated file with STORAGE_CORRUPT at init, not at some later read', async () => {
    await populated();
    const size = statSync(file).size;
    truncateSync(file, Math.floor(size / 2 / 4096) * 4096);
    const err = await rejection(new SqliteStorage({ path: file }).init());
    expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_CORRUPT' });
    expect((err as { hint?: string }).hint).toMatch(/backup/);
  });

  it('refuses a file with damaged pages with STORAGE_CORRUPT', async () => {
    await populated();
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    // Overwrite pages in the middle (b-tree pages of the runs table and its indexes).
    for (let page = 3; page * 4096 < size - 4096; page += 7) writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, page * 4096 + 8);
    closeSync(fd);
    const err = await rejection(new SqliteStorage({ path: file }).init());
    expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_CORRUPT' });
  });

  it('refuses bad options with OPTIONS_INVALID', () => {
    expect(() => new SqliteStorage({ path: '' })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'path' }));
    expect(() => new SqliteStorage({ path: file, busyTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'busyTimeoutMs' }));
    expect(() => new SqliteStorage({ path: file, synchronous: 'OFF' as 'FULL' })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'synchronous' }));
    expect(() => new SqliteStorage({ path: file, integrityCheck: 'some' as 'off' })).toThrow(expect.objectContaining({ code: 'OPTIONS_INVALID', path: 'integrityCheck' }));
  });

  it('migrates once when several connections open a new file at once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => opened()));
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM pj_schema_version').get()).toEqual({ n: SQLITE_SCHEMA_VERSION });
    raw.close();
    await Promise.all(stores.map((s) => s.close()));
  });

  it('shares one file between processes: each run claimed once, the per-job limit held', async () => {
    const s = await opened();
    const limited = makeJob({ maxConcurrentRuns: 2 });
    const free = makeJob();
    for (const job of [limited, free]) {
      await s.insertJob(job);
      await s.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 300, expectStatus: ['STARTED'], now: T0 });
      await s.insertRuns(job.id, 0, newRuns(300), T0);
    }
    const child = (owner: string) =>
      run(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'claimer.ts'), 'sqlite', file, '3', owner], { cwd: path.resolve(here, '../..') });
    const [a, b, c] = await Promise.all([child(`a-${randomUUID()}`), child(`b-${randomUUID()}`), child(`c-${randomUUID()}`)]);
    const results = [a, b, c].map((r) => JSON.parse(r.stdout.trim()) as { claimed: string[]; maxStarted: number });
    const all = results.flatMap((r) => r.claimed);
    expect(all).toHaveLength(600);
    expect(new Set(all).size).toBe(600);
    expect(results.filter((r) => r.claimed.length > 0).length).toBeGreaterThan(1);
    for (const r of results) expect(r.maxStarted).toBeLessThanOrEqual(2);
    expect((await s.getJob(limited.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 300, FAILURE: 0, ABORTED: 0 });
    expect((await s.getJob(free.id))!.counters).toEqual({ PENDING: 0, STARTED: 0, SUCCESS: 300, FAILURE: 0, ABORTED: 0 });
    await s.close();
  }, 120_000);
});
