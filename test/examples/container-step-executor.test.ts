import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// As a user would: the built package (run `npm run build` first; `npm test` does).
import { describeStepExecutorContract, shellContractSteps } from 'pipeline-jobs/testing/contracts';
import { ContainerStepExecutor } from '../../examples/container-step-executor.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fakeRuntime = path.join(root, 'examples', 'container-runtime', 'fake-runtime.mjs');
const state = mkdtempSync(path.join(tmpdir(), 'pj-fake-runtime-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

describeStepExecutorContract('ContainerStepExecutor (examples/, on a docker stand-in)', () => ({
  executor: new ContainerStepExecutor({ runtime: [process.execPath, fakeRuntime], runtimeEnv: { FAKE_RUNTIME_STATE: state } }),
  prepare: shellContractSteps,
}));

describe('the executor sample of docs/running.md', () => {
  it('is the example that passes the contract, word for word', () => {
    const example = readFileSync(path.join(root, 'examples', 'container-step-executor.ts'), 'utf8');
    const region = /\/\/ #region sample\n([\s\S]*?)\/\/ #endregion sample\n/.exec(example)?.[1];
    expect(region, 'examples/container-step-executor.ts has no `// #region sample` ... `// #endregion sample`').toBeDefined();
    const docs = readFileSync(path.join(root, 'docs', 'running.md'), 'utf8');
    const blocks = [...docs.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks, 'docs/running.md must show examples/container-step-executor.ts (its sample region) unchanged').toContain(region);
  });
});
