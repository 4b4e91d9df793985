/**
 * `pipeline-jobs/testing/contracts`: the contract suites every shipped adapter passes,
 * for integrators to run against their own (vitest; ESM only, as vitest is).
 * @packageDocumentation
 * @module pipeline-jobs/testing/contracts
 */
export { describeStorageContract, type StorageContractFactory, type StorageContractSubject } from './storage-contract.js';
export {
  describeStepExecutorContract,
  shellContractSteps,
  StepExecutorContractError,
  type ContractBehaviour,
  type StepExecutorContractSubject,
  type StepExecutorContractOptions,
} from './step-executor-contract.js';
