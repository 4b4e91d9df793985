import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { PgServer, pgBinOrSkip } from './pg-server.js';

const bin = pgBinOrSkip();

describe.skipIf(!bin)('the notification connection dropping while it is being closed', () => {
  let server: PgServer;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  beforeAll(async () => {
    server = await PgServer.create(bin!);
    process.on('uncaughtException', onUncaught);
  });
  afterAll(() => {
    process.off('uncaughtException', onUncaught);
    server?.destroy();
  });

  it('unsubscribing while the connection dies does not crash the host', async () => {
    const storage = new PostgresStorage({ connectionString: server.url(), schema: 'pj_listen', queryTimeoutMs: 0 });
    await storage.init();
    const unsubscribe = await storage.subscribe(() => undefined);
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`);
    await admin.end();
    expect(rows.length).toBe(1);
    // Nothing answers the UNLISTEN; then the listening session dies under it.
    server.freeze();
    const closing = unsubscribe().then(() => 'closed', (error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(rows[0]!.pid, 'SIGKILL');
    expect(await closing).toBe('closed');
    server.thaw();
    await storage.close();
    expect(uncaught).toEqual([]);
  });
});
