import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/port.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import type { JobRecord } from '../../src/storage/records.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { T0, makeJob } from '../../src/testing/storage-contract/fixtures.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

const url = await findTestDatabase();
const schemas: string[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (url) await dropSchemas(url, schemas);
});

/** Two instances on the same data (two processes, as far as the cache goes). */
async function sqlitePair(): Promise<[Storage, Storage]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pj-parts-'));
  dirs.push(dir);
  const file = path.join(dir, 'jobs.sqlite');
  const a = new SqliteStorage({ path: file });
  await a.init();
  const b = new SqliteStorage({ path: file });
  await b.init();
  return [a, b];
}

async function postgresPair(): Promise<[Storage, Storage]> {
  const schema = freshSchema();
  schemas.push(schema);
  const a = new PostgresStorage({ connectionString: url!, schema, poolSize: 2 });
  await a.init();
  const b = new PostgresStorage({ connectionString: url!, schema, poolSize: 2 });
  await b.init();
  return [a, b];
}

const adapters: Array<[string, () => Promise<[Storage, Storage]>, boolean]> = [
  ['SqliteStorage', sqlitePair, true],
  ['PostgresStorage', postgresPair, url !== undefined],
];

for (const [name, pair, available] of adapters) {
  describe.runIf(available)(`${name}: parsed job and batch parts kept by version`, () => {
    it('a job read again shares the parts parsed before (no re-parse), frozen: changing them throws and changes nothing', async () => {
      const [a, b] = await pair();
      try {
        const job = makeJob();
        await a.insertJob(job);
        const first = (await a.getJob(job.id))!;
        const second = (await a.getJob(job.id))!;
        expect(second).toEqual(job);
        expect(second).not.toBe(first);
        expect(second.grid).toBe(first.grid);
        expect(second.pipeline).toBe(first.pipeline);
        expect(Object.isFrozen(second.grid.dimensions[0]!.values)).toBe(true);
        expect(() => {
          (second.envVars as Record<string, string>).A = 'changed';
        }).toThrow(TypeError);
        expect(await b.getJob(job.id)).toEqual(job);
        expect(await a.getJob(job.id)).toEqual(job);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a change made through another instance (its version moved) is read, not the parts held', async () => {
      const [a, b] = await pair();
      try {
        const job = makeJob();
        await a.insertJob(job);
        const before = (await a.getJob(job.id))!;
        const grid: JobRecord['grid'] = { ...job.grid, dimensions: [{ scope: 'pipeline', key: 'zeta', values: [7, 8] }] };
        const updated = await b.updateJob(job.id, { grid, envVars: { C: 'c' } }, { status: [job.status], version: job.version }, T0 + 1);
        expect(updated?.version).toBe(job.version + 1);
        const after = (await a.getJob(job.id))!;
        expect(after.grid).toEqual(grid);
        expect(after.envVars).toEqual({ C: 'c' });
        expect(after.version).toBe(job.version + 1);
        expect(before.grid).toEqual(job.grid);
        // Counters move without a version change: the small columns are read every time.
        const batch = (await b.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 1, expectStatus: [job.status], now: T0 + 2 }))!;
        await b.insertRuns(job.id, batch.batchIndex, [{ id: `${job.id}-r0`, gridIndex: 0, indexInBatch: 0, parameters: { pipeline: {}, steps: {} } }], T0 + 2);
        expect((await a.getJob(job.id))!.counters.PENDING).toBe(1);
        // Deleted elsewhere: gone here too.
        await b.deleteJob(job.id);
        expect(await a.getJob(job.id)).toBeUndefined();
        expect(await a.getBatch(job.id, batch.batchIndex)).toBeUndefined();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("a batch read again shares its parsed grid; its counts are read every time", async () => {
      const [a, b] = await pair();
      try {
        const job = makeJob();
        await a.insertJob(job);
        const batch = (await a.createBatch({ jobId: job.id, trigger: 'manual', occurrenceAt: null, runCount: 2, expectStatus: [job.status], now: T0 }))!;
        const first = (await a.getBatch(job.id, batch.batchIndex))!;
        expect(first.writtenRuns).toBe(0);
        await b.insertRuns(job.id, batch.batchIndex, [{ id: `${job.id}-r0`, gridIndex: 0, indexInBatch: 0, parameters: { pipeline: {}, steps: {} } }], T0 + 1);
        const second = (await a.getBatch(job.id, batch.batchIndex))!;
        expect(second.writtenRuns).toBe(1);
        expect(second.grid).toBe(first.grid);
        expect(second).toEqual({ ...batch, writtenRuns: 1 });
        expect(Object.isFrozen(second.envVars)).toBe(true);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
