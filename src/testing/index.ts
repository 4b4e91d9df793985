/**
 * `pipeline-jobs/testing`: what tests of hosts and integrators need: a fake clock and
 * in-memory adapters. The contract suites adapters must pass are in
 * `pipeline-jobs/testing/contracts` (they import vitest, which is ESM-only).
 * @packageDocumentation
 * @module pipeline-jobs/testing
 */
export { FakeClock } from './fake-clock.js';
export { MemoryStorage, type MemoryStorageOptions } from '../storage/memory/index.js';
export { MemoryLogStore } from '../run/memory-log-store.js';
