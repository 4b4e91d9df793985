import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError, StorageError } from '../../src/errors.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { tempDir } from '../scheduler/harness.js';
import { PgServer, pgBinOrSkip } from './pg-server.js';

const bin = pgBinOrSkip();

/**
 * What `p` settled with, or 'unsettled' after `guardMs`. The guard is no speed assertion:
 * it only turns "never settles" (the bug) into a failure instead of a hung test.
 */
async function settle(p: Promise<unknown>, guardMs = 20_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('unsettled'), guardMs);
  });
  try {
    return await Promise.race([p.then(() => 'resolved', (error: unknown) => error), guard]);
  } finally {
    clearTimeout(timer);
  }
}

function scheduler(storage: PostgresStorage): JobScheduler {
  const root = tempDir('pj-faults-');
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs') });
  return new JobScheduler({ storage, snapshots: new SnapshotStore({ root: path.join(root, 'snapshots') }), executor, keepAlive: false });
}

describe('start() against a server that accepts connections and never answers', () => {
  it('fails with STORAGE_UNAVAILABLE after connectTimeoutMs', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const storage = new PostgresStorage({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutMs: 300 });
      const outcome = await settle(scheduler(storage).start());
      expect(outcome).toBeInstanceOf(StorageError);
      expect((outcome as StorageError).code).toBe('STORAGE_UNAVAILABLE');
      expect(sockets.length).toBeGreaterThan(0);
      await storage.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses bad timeouts with a typed error', () => {
    for (const [key, value] of [['connectTimeoutMs', -1], ['queryTimeoutMs', 1.5], ['queryTimeoutMs', '10']] as const) {
      expect(() => new PostgresStorage({ connectionString: 'postgres://x@127.0.0.1/x', [key]: value })).toThrow(OptionsError);
    }
  });
});

describe.skipIf(!bin)('a frozen PostgreSQL server (SIGSTOP)', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await PgServer.create(bin!);
  });
  afterAll(() => server?.destroy());

  it('an operation on an open connection fails with STORAGE_UNAVAILABLE after queryTimeoutMs, and the store works again after', async () => {
    const storage = new PostgresStorage({ connectionString: server.url(), schema: 'pj_frozen', queryTimeoutMs: 300, connectTimeoutMs: 300, poolSize: 2 });
    await storage.init();
    server.freeze();
    try {
      const outcome = await settle(storage.listJobIds(['STARTED']));
      expect(outcome).toBeInstanceOf(StorageError);
      expect((outcome as StorageError).code).toBe('STORAGE_UNAVAILABLE');
      // A new scheduler's start() against the frozen server: the connect timeout.
      const fresh = new PostgresStorage({ connectionString: server.url(), schema: 'pj_frozen', connectTimeoutMs: 300 });
      const started = await settle(scheduler(fresh).start());
      expect((started as StorageError).code).toBe('STORAGE_UNAVAILABLE');
      await fresh.close();
    } finally {
      server.thaw();
    }
    expect(await storage.listJobIds(['STARTED'])).toEqual([]);
    await storage.close();
  });
});
