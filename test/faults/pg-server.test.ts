import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgServer, pgBinOrSkip, sweepStaleClusters } from './pg-server.js';

const bin = pgBinOrSkip();

describe.skipIf(!bin)('the fault tests’ own PostgreSQL server', () => {
  it('runs on its own port as a non-root user, stops and starts, and a cluster left by a killed test is swept', async () => {
    const server = await PgServer.create(bin!);
    try {
      expect(server.port).not.toBe(5432);
      const client = new pg.Client({ connectionString: server.url() });
      await client.connect();
      const { rows } = await client.query<{ u: string }>('SELECT current_user AS u');
      expect(rows[0]!.u).toBe('postgres');
      await client.end();
      await server.stop('immediate');
      await server.start();
      // A test process killed with SIGKILL leaves its cluster running with a dead owner pid.
      const dead = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
      writeFileSync(path.join(server.dir, 'owner.pid'), String(dead));
      sweepStaleClusters(bin!);
      expect(existsSync(server.dir)).toBe(false);
      expect(server.pids()).toEqual([]);
    } finally {
      server.destroy();
    }
  });
});
