import { describe, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { describeStorageContract } from '../../src/testing/storage-contract.js';
import { dropSchemas, findTestDatabase, freshSchema } from './pg-helpers.js';

const url = await findTestDatabase();

if (url) {
  describeStorageContract('PostgresStorage', async () => {
    const schema = freshSchema();
    const storage = new PostgresStorage({ connectionString: url, schema, poolSize: 4 });
    await storage.init();
    return {
      storage,
      second: async () => {
        const other = new PostgresStorage({ connectionString: url, schema, poolSize: 4 });
        await other.init();
        return other;
      },
      cleanup: () => dropSchemas(url, [schema]),
    };
  });
} else {
  describe('PostgresStorage contract', () => {
    it.skip('needs PostgreSQL on 127.0.0.1:5432 (see the warning above)', () => {});
  });
}
