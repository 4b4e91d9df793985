/**
 * `pipeline-jobs/testing`: what tests of hosts and integrators need: a fake clock,
 * in-memory adapters and the contract suites adapters must pass.
 * @packageDocumentation
 */
export { FakeClock } from './fake-clock.js';
