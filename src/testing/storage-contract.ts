import { afterEach, beforeEach, describe } from 'vitest';
import type { Storage } from '../storage/port.js';
import { batchesContract } from './storage-contract/batches.js';
import { retentionContract } from './storage-contract/retention.js';
import { keysContract } from './storage-contract/keys.js';
import { claimsContract } from './storage-contract/claims.js';
import type { ContractContext, StorageContractFactory } from './storage-contract/fixtures.js';
import { jobsContract } from './storage-contract/jobs.js';
import { recoveryContract } from './storage-contract/recovery.js';
import { finishClaimContract } from './storage-contract/finish-claim.js';
import { releaseContract } from './storage-contract/release.js';
import { runsContract } from './storage-contract/runs.js';
import { soundnessContract } from './storage-contract/soundness.js';

export type { StorageContractFactory, StorageContractSubject } from './storage-contract/fixtures.js';

/**
 * The contract every `Storage` adapter must pass: each "must hold" of the port, as
 * vitest tests. Call it at the top level of a test file with a factory that gives a
 * fresh, initialised store for each test (and, when it can, a `second` instance on the
 * same data, so claims are proven across connections too).
 *
 * Lease expiry is tested on the store's real clock with short leases (about 150 ms),
 * waited for by polling; the whole suite takes a few seconds.
 *
 * @example
 * import { describeStorageContract } from 'pipeline-jobs/testing';
 * describeStorageContract('my adapter', async () => {
 *   const storage = new MyStorage({ url: freshDatabase() });
 *   await storage.init();
 *   return { storage, cleanup: () => dropDatabase() };
 * });
 */
export function describeStorageContract(name: string, factory: StorageContractFactory): void {
  describe(`Storage contract: ${name}`, () => {
    let current: ContractContext | undefined;
    let cleanups: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      const subject = await factory();
      const all: Storage[] = [subject.storage];
      cleanups = [];
      if (subject.second) {
        const second = await subject.second();
        all.push(second);
        cleanups.push(() => second.close());
      }
      cleanups.push(() => subject.storage.close());
      if (subject.cleanup) cleanups.push(subject.cleanup);
      current = { storage: subject.storage, all };
    });

    afterEach(async () => {
      current = undefined;
      // Run every cleanup even when one fails, then report the first failure.
      const results = await Promise.allSettled(cleanups.map((fn) => fn()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });

    const ctx = (): ContractContext => {
      if (!current) throw new Error('storage contract: no store (the factory failed)');
      return current;
    };
    jobsContract(ctx);
    releaseContract(ctx);
    batchesContract(ctx);
    claimsContract(ctx);
    finishClaimContract(ctx);
    recoveryContract(ctx);
    runsContract(ctx);
    soundnessContract(ctx);
    retentionContract(ctx);
    keysContract(ctx);
  });
}
