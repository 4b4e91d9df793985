import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JobStateError, NotFoundError, OptionsError, SnapshotError, StorageError } from '../../src/errors.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { dropSchemas, findTestDatabase, freshSchema } from '../storage/pg-helpers.js';
import { harness, makeProject, tempDir } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });

describe('createJob with a key: a retry returns the job, another spec is refused', () => {
  it('the same spec twice makes one job and one snapshot; the key reads back', async () => {
    const h = await harness();
    const projectDir = makeProject();
    const first = await h.scheduler.createJob(spec(projectDir, { key: 'req-1', draft: true, options: { maxRetainedRuns: 3 } }));
    // The same spec built another way (other key order, an explicit undefined) is the same spec.
    const again = await h.scheduler.createJob({ options: { maxRetainedRuns: 3 }, draft: true, pipeline: 'main.orchest', projectDir, name: 'job', key: 'req-1', env: undefined });
    expect(again.id).toBe(first.id);
    expect(again.key).toBe('req-1');
    expect((await h.scheduler.listJobs()).items).toHaveLength(1);
    expect(await h.snapshots.list()).toHaveLength(1);
  });

  it('another spec under a taken key: JOB_KEY_CONFLICT, and nothing changes (no job, no snapshot)', async () => {
    const h = await harness();
    const projectDir = makeProject();
    const first = await h.scheduler.createJob(spec(projectDir, { key: 'req-2', draft: true }));
    const before = await h.storage.getJob(first.id);
    const err = await h.scheduler.createJob(spec(projectDir, { key: 'req-2', draft: true, name: 'renamed' })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(JobStateError);
    expect(err).toMatchObject({ code: 'JOB_KEY_CONFLICT', path: 'key', value: 'req-2' });
    expect((err as JobStateError).hint).toMatch(/key/);
    expect((await h.scheduler.listJobs()).items.map((j) => j.id)).toEqual([first.id]);
    expect(await h.storage.getJob(first.id)).toEqual(before);
    expect(await h.snapshots.list()).toHaveLength(1);
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['too long', 'k'.repeat(201)],
  ])('a bad key (%s) is refused with OptionsError at "key", leaving nothing behind', async (_what, key) => {
    const h = await harness();
    const err = await h.scheduler.createJob(spec(makeProject(), { key })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect(err).toMatchObject({ code: 'JOB_SPEC_INVALID', path: 'key', value: key });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
    expect(await h.snapshots.list()).toEqual([]);
  });

  it('a deleted job frees its key; duplicateJob does not copy it', async () => {
    const h = await harness();
    const projectDir = makeProject();
    const first = await h.scheduler.createJob(spec(projectDir, { key: 'req-3', draft: true }));
    const copy = await h.scheduler.duplicateJob(first.id);
    expect(copy.key).toBeNull();
    await h.scheduler.deleteJob(first.id);
    const second = await h.scheduler.createJob(spec(projectDir, { key: 'req-3', draft: true, name: 'other spec' }));
    expect(second.id).not.toBe(first.id);
  });

  it('a create that failed after its insert (the kick) is retried into the same job, which then runs', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const inner = new MemoryStorage({ clock });
    let failBatches = 1;
    // The first batch write fails: createJob rejects although the job was stored.
    const storage = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'createBatch') {
          return async (...args: Parameters<Storage['createBatch']>) => {
            if (failBatches-- > 0) throw new StorageError('STORAGE_UNAVAILABLE', 'injected: the store went away');
            return target.createBatch(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const h = await harness({ storage });
    const projectDir = makeProject();
    await expect(h.scheduler.createJob(spec(projectDir, { key: 'req-4' }))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect((await h.scheduler.listJobs()).items).toHaveLength(1); // the insert had happened
    const retried = await h.scheduler.createJob(spec(projectDir, { key: 'req-4' }));
    expect((await h.scheduler.listJobs()).items.map((j) => j.id)).toEqual([retried.id]);
    expect((await h.scheduler.waitForJob(retried.id)).status).toBe('SUCCESS');
    expect((await h.scheduler.getJob(retried.id))!.counters.SUCCESS).toBe(1);
  });
});

/** Two schedulers on one store create with one key at once: one job, both get it. */
async function raceTwoSchedulers(open: () => Storage): Promise<void> {
  const a = open();
  const b = open();
  const h = await harness({ storage: a });
  const second = await h.restart({ storage: b });
  const projectDir = makeProject();
  const made = await Promise.all(
    Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? h.scheduler : second).createJob(spec(projectDir, { key: 'race', draft: true }))),
  );
  expect(new Set(made.map((j) => j.id)).size).toBe(1);
  expect((await h.scheduler.listJobs()).items).toHaveLength(1);
  // Every losing racer removed the snapshot it had taken: one is left, the job's.
  expect((await h.snapshots.list()).map((s) => s.id)).toEqual([made[0]!.snapshotId]);
  await second.stop();
  await b.close();
}

const url = await findTestDatabase();
const schemas: string[] = [];
afterAll(async () => {
  if (url) await dropSchemas(url, schemas);
});

describe('the key holds across processes', () => {
  it('two schedulers on one SQLite file', async () => {
    const file = path.join(tempDir('pj-key-'), 'jobs.sqlite');
    await raceTwoSchedulers(() => new SqliteStorage({ path: file }));
  });
  it.skipIf(!url && process.env.CI !== 'true')('two schedulers on one PostgreSQL schema', async () => {
    if (!url) throw new Error('PostgreSQL is not reachable on 127.0.0.1:5432: this test needs it (CI=true)');
    const schema = freshSchema();
    schemas.push(schema);
    await raceTwoSchedulers(() => new PostgresStorage({ connectionString: url, schema, poolSize: 3 }));
  });
});

describe('createJob on an existing snapshot, and per-job snapshot rules', () => {
  it('snapshotId runs the given snapshot: no new one is taken, and it stays while a job uses it', async () => {
    const h = await harness();
    const projectDir = makeProject();
    const snap = await h.snapshots.create(projectDir);
    const a = await h.scheduler.createJob({ name: 'a', snapshotId: snap.id, pipeline: 'main.orchest' });
    const b = await h.scheduler.createJob({ name: 'b', snapshotId: snap.id, pipeline: 'main.orchest' });
    expect([a.snapshotId, b.snapshotId]).toEqual([snap.id, snap.id]);
    expect(await h.snapshots.list()).toHaveLength(1);
    // The same project id as a job made from the directory itself.
    const c = await h.scheduler.createJob(spec(projectDir, { name: 'c', draft: true }));
    expect(a.projectId).toBe(c.projectId);
    expect((await h.scheduler.waitForJob(a.id)).status).toBe('SUCCESS');
    expect((await h.scheduler.waitForJob(b.id)).status).toBe('SUCCESS');
    await h.scheduler.deleteJob(a.id);
    expect(await h.snapshots.get(snap.id)).toBeDefined(); // b still uses it
    await h.scheduler.deleteJob(b.id);
    expect(await h.snapshots.get(snap.id)).toBeUndefined();
  });

  it('an unknown snapshotId: NotFoundError SNAPSHOT_NOT_FOUND at "snapshotId"', async () => {
    const h = await harness();
    const err = await h.scheduler.createJob({ name: 'a', snapshotId: 'no-such-snapshot', pipeline: 'main.orchest' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'SNAPSHOT_NOT_FOUND', path: 'snapshotId', value: 'no-such-snapshot' });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
  });

  it('a failed create whose snapshot cannot be removed: SnapshotError SNAPSHOT_CLEANUP_FAILED, the first error as cause', async () => {
    const h = await harness();
    h.snapshots.delete = async () => {
      throw new Error('disk gone');
    };
    const err = await h.scheduler.createJob(spec(makeProject(), { pipeline: 'missing.orchest' })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect(err).toMatchObject({ code: 'SNAPSHOT_CLEANUP_FAILED', path: 'snapshotId', cause: { code: 'JOB_PIPELINE_NOT_FOUND' } });
    expect((err as SnapshotError).message).toContain('disk gone');
    const [left] = await h.snapshots.list();
    expect((err as SnapshotError).value).toBe(left!.id);
    expect((await h.scheduler.listJobs()).items).toEqual([]);
  });

  it('a failed create on a given snapshot leaves the snapshot alone', async () => {
    const h = await harness();
    const snap = await h.snapshots.create(makeProject());
    await expect(h.scheduler.createJob({ name: 'a', snapshotId: snap.id, pipeline: 'missing.orchest' })).rejects.toMatchObject({ code: 'JOB_PIPELINE_NOT_FOUND' });
    expect(await h.snapshots.get(snap.id)).toBeDefined();
  });

  it.each([
    ['projectDir and snapshotId', (dir: string) => ({ projectDir: dir, snapshotId: 'x' }), 'snapshotId'],
    ['snapshotOptions with snapshotId', () => ({ snapshotId: 'x', snapshotOptions: { exclude: ['a'] } }), 'snapshotOptions'],
    ['snapshotOptions without a project', () => ({ pipeline: { name: 'p', steps: [{ uuid: 'a' }] }, snapshotOptions: { exclude: ['a'] } }), 'snapshotOptions'],
    ['snapshotOptions not an object', (dir: string) => ({ projectDir: dir, snapshotOptions: 'data/' }), 'snapshotOptions'],
    ['an empty snapshotId', () => ({ snapshotId: '' }), 'snapshotId'],
  ])('refused: %s (JOB_SPEC_INVALID, nothing left behind)', async (_what, extra, at) => {
    const h = await harness();
    const err = await h.scheduler.createJob({ name: 'a', pipeline: 'main.orchest', ...extra(makeProject()) } as never).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect(err).toMatchObject({ code: 'JOB_SPEC_INVALID', path: at });
    expect((await h.scheduler.listJobs()).items).toEqual([]);
    expect(await h.snapshots.list()).toEqual([]);
  });

  it('snapshotOptions apply to the job\'s snapshot; a bad rule names its path under snapshotOptions', async () => {
    const h = await harness();
    const projectDir = makeProject();
    writeFileSync(path.join(projectDir, 'big.csv'), 'x'.repeat(10));
    const job = await h.scheduler.createJob(spec(projectDir, { draft: true, snapshotOptions: { exclude: ['*.csv'] } }));
    await expect(h.snapshots.readFile(job.snapshotId!, 'big.csv')).rejects.toMatchObject({ code: 'SNAPSHOT_FILE_NOT_FOUND' });
    const plain = await h.scheduler.createJob(spec(projectDir, { draft: true }));
    expect((await h.snapshots.readFile(plain.snapshotId!, 'big.csv')).toString()).toBe('x'.repeat(10));
    const err = await h.scheduler.createJob(spec(projectDir, { snapshotOptions: { maxFiles: -1 } })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).path).toBe('snapshotOptions.maxFiles');
    expect((await h.scheduler.listJobs()).items).toHaveLength(2);
    expect(await h.snapshots.list()).toHaveLength(2);
  });
});

