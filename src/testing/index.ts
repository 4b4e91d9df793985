/**
 * `pipeline-jobs/testing`: what tests of hosts and integrators need: a fake clock,
 * in-memory adapters and the contract suites adapters must pass. Imports vitest.
 * @packageDocumentation
 */
export { FakeClock } from './fake-clock.js';
export { describeStorageContract, type StorageContractFactory, type StorageContractSubject } from './storage-contract.js';
export { MemoryStorage, type MemoryStorageOptions } from '../storage/memory/index.js';
