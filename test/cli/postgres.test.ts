import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTestDatabase } from '../storage/pg-helpers.js';
import { cli, etl, json, remove, requireBuild, tempDir } from './helpers.js';

/** `--store postgres://...`: the CLI on a PostgreSQL store (a database of its own, dropped after). */
describe('pipeline-jobs CLI on PostgreSQL', async () => {
  const url = await findTestDatabase();
  const db = `pj_cli_${process.pid}_${randomBytes(4).toString('hex')}`;
  let cwd: string;
  let store: string;

  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    if (!url) return;
    requireBuild();
    cwd = tempDir();
    await admin(`CREATE DATABASE ${db}`);
    const u = new URL(url);
    u.pathname = `/${db}`;
    store = u.toString();
  });
  afterAll(async () => {
    if (!url) return;
    remove(cwd);
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });

  it.skipIf(!url)('runs a job and reads it back through --store', async () => {
    const r = await cli(cwd, '--store', store, 'run', etl, '--select', '0');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const jobs = json<{ name: string; status: string }[]>(await cli(cwd, '--store', store, 'jobs', '--json'));
    expect(jobs).toEqual([expect.objectContaining({ name: 'etl', status: 'SUCCESS' })]);
    // Nothing went to the default SQLite file.
    expect(json<unknown[]>(await cli(cwd, 'jobs', '--json'))).toEqual([]);
  });
});
