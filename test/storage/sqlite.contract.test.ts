import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { describeStorageContract } from '../../src/testing/storage-contract.js';

describeStorageContract('SqliteStorage', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pj-sqlite-contract-'));
  const file = path.join(dir, 'jobs.sqlite');
  const storage = new SqliteStorage({ path: file });
  await storage.init();
  return {
    storage,
    second: async () => {
      const other = new SqliteStorage({ path: file });
      await other.init();
      return other;
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
