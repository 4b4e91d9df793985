import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgError } from '../../src/storage/postgres/pg.js';
import { freePort, PgServer, pgBinOrSkip } from './pg-server.js';

const bin = pgBinOrSkip();

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** A TCP server that does `onSocket` with every connection; closed after the test. */
async function fakeServer(onSocket: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {
      // The client going away is expected here.
    });
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function connectError(port: number, extra: pg.ClientConfig = {}): Promise<unknown> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ...extra });
  client.on('error', () => {
    // Reported through the rejected connect.
  });
  return rejection(client.connect());
}

const code = (error: unknown): string => (pgError(error, 'test') as unknown as { code: string }).code;

describe('classification of driver errors without a server', () => {
  it('a refused connection is STORAGE_UNAVAILABLE', async () => {
    expect(code(await connectError(await freePort()))).toBe('STORAGE_UNAVAILABLE');
  });

  it('a server that closes the connection ("Connection terminated unexpectedly") is STORAGE_UNAVAILABLE', async () => {
    const fake = await fakeServer((s) => s.end());
    try {
      const error = await connectError(fake.port);
      expect((error as Error).message).toBe('Connection terminated unexpectedly');
      expect(code(error)).toBe('STORAGE_UNAVAILABLE');
    } finally {
      await fake.close();
    }
  });

  it('a reset connection (ECONNRESET) is STORAGE_UNAVAILABLE', async () => {
    const fake = await fakeServer((s) => s.once('data', () => s.resetAndDestroy()));
    try {
      const error = await connectError(fake.port);
      expect((error as { code?: string }).code).toBe('ECONNRESET');
      expect(code(error)).toBe('STORAGE_UNAVAILABLE');
    } finally {
      await fake.close();
    }
  });

  it('a server that accepts and never answers hits the connect timeout: STORAGE_UNAVAILABLE', async () => {
    const fake = await fakeServer(() => undefined);
    try {
      const error = await connectError(fake.port, { connectionTimeoutMillis: 100 });
      expect(code(error)).toBe('STORAGE_UNAVAILABLE');
    } finally {
      await fake.close();
    }
  });

  it('a write to a closed connection (EPIPE, as Node reports it) is STORAGE_UNAVAILABLE', () => {
    // The shape of Node's socket error (a live EPIPE depends on kernel timing).
    const epipe = Object.assign(new Error('write EPIPE'), { errno: -32, code: 'EPIPE', syscall: 'write' });
    expect(code(epipe)).toBe('STORAGE_UNAVAILABLE');
  });
});

describe.skipIf(!bin)('classification of errors from a real server', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await PgServer.create(bin!);
  });
  afterAll(() => server?.destroy());

  const connected = async (extra: pg.ClientConfig = {}): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: server.url(), ...extra });
    client.on('error', () => {
      // The tests provoke these; the rejected queries carry them.
    });
    await client.connect();
    return client;
  };

  it('a session ended by the administrator (57P01), and the client used after it, are STORAGE_UNAVAILABLE', async () => {
    const victim = await connected();
    const admin = await connected();
    const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const sleeping = rejection(victim.query('SELECT pg_sleep(30)'));
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    const error = await sleeping;
    expect((error as { code?: string }).code).toBe('57P01');
    expect(code(error)).toBe('STORAGE_UNAVAILABLE');
    const after = await rejection(victim.query('SELECT 1'));
    expect(code(after)).toBe('STORAGE_UNAVAILABLE');
    await admin.end();
  });

  it('too many connections (53300), a statement timeout (57014) and a read timeout are STORAGE_UNAVAILABLE', async () => {
    const admin = await connected();
    await admin.query(`DROP ROLE IF EXISTS limited; CREATE ROLE limited LOGIN CONNECTION LIMIT 1`);
    const first = new pg.Client({ connectionString: server.url().replace('postgres@', 'limited@') });
    await first.connect();
    const tooMany = await connectError(server.port, { user: 'limited' });
    expect((tooMany as { code?: string }).code).toBe('53300');
    expect(code(tooMany)).toBe('STORAGE_UNAVAILABLE');
    await first.end();

    const statement = await rejection(admin.query('SET statement_timeout = 50; SELECT pg_sleep(5)'));
    expect((statement as { code?: string }).code).toBe('57014');
    expect(code(statement)).toBe('STORAGE_UNAVAILABLE');
    await admin.end();

    const slow = await connected({ query_timeout: 50 });
    const read = await rejection(slow.query('SELECT pg_sleep(1)'));
    expect((read as Error).message).toBe('Query read timeout');
    expect(code(read)).toBe('STORAGE_UNAVAILABLE');
    await slow.end();
  });

  it('a pool with no free connection within its timeout is STORAGE_UNAVAILABLE', async () => {
    const pool = new pg.Pool({ connectionString: server.url(), max: 1, connectionTimeoutMillis: 50 });
    const held = await pool.connect();
    const error = await rejection(pool.connect());
    expect(code(error)).toBe('STORAGE_UNAVAILABLE');
    held.release();
    await pool.end();
  });

  it('a bad statement stays STORAGE_FAILED and a duplicate key STORAGE_CONFLICT', async () => {
    const client = await connected();
    expect(code(await rejection(client.query('SELEC 1')))).toBe('STORAGE_FAILED');
    await client.query('CREATE TEMP TABLE u (k int PRIMARY KEY); INSERT INTO u VALUES (1)');
    expect(code(await rejection(client.query('INSERT INTO u VALUES (1)')))).toBe('STORAGE_CONFLICT');
    await client.end();
  });
});
