import { MemoryStorage } from '../../src/storage/memory/memory-storage.js';
import { describeStorageContract } from '../../src/testing/storage-contract.js';

describeStorageContract('MemoryStorage', async () => {
  const storage = new MemoryStorage();
  await storage.init();
  return { storage };
});
