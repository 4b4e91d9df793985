/**
 * `pipeline-jobs/storage/contract`: the contract suite every storage adapter must pass
 * (vitest; ESM only, as vitest is). Same function as in `pipeline-jobs/testing/contracts`.
 * @packageDocumentation
 * @module pipeline-jobs/storage/contract
 */
export { describeStorageContract, type StorageContractFactory, type StorageContractSubject } from './testing/storage-contract.js';
