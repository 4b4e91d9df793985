import { randomBytes } from 'node:crypto';
import pg from 'pg';

const CANDIDATES = [
  process.env.PIPELINE_JOBS_TEST_PG,
  'postgres://postgres@127.0.0.1:5432/test',
  'postgres://root@127.0.0.1:5432/test',
].filter((s): s is string => typeof s === 'string' && s !== '');

/**
 * A connection string to the test database (127.0.0.1:5432, database `test`, trust auth),
 * or `undefined` after saying so loudly. Under `CI=true` a missing database is an error:
 * CI cannot pass by skipping.
 */
export async function findTestDatabase(): Promise<string | undefined> {
  const errors: string[] = [];
  for (const url of CANDIDATES) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return url;
    } catch (error) {
      errors.push(`${url}: ${(error as Error).message}`);
    } finally {
      await client.end().catch(() => {
        // Closing a client that never connected fails too; the connect error is what matters.
      });
    }
  }
  const message = `PostgreSQL test database unreachable (${errors.join('; ')})`;
  if (process.env.CI === 'true') throw new Error(`${message}: CI must run the PostgreSQL tests`);
  console.warn(`\n*** SKIPPING PostgreSQL tests: ${message}. Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ***\n`);
  return undefined;
}

/** A fresh schema name for one test. */
export function freshSchema(): string {
  return `pj_t_${process.pid}_${randomBytes(5).toString('hex')}`;
}

/** Drops test schemas. */
export async function dropSchemas(url: string, schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}
