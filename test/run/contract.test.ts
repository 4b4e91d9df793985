import { realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BubblewrapStepExecutor, FunctionStepExecutor, ProcessStepExecutor, type StepFunction } from '../../src/run/index.js';
import { describeStepExecutorContract, shellContractSteps, type ContractBehaviour } from '../../src/testing/step-executor-contract.js';
import { haveTool } from './helpers.js';

describeStepExecutorContract('ProcessStepExecutor', () => ({ executor: new ProcessStepExecutor(), prepare: shellContractSteps }));

const never = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

const contractFunctions: Record<ContractBehaviour, StepFunction> = {
  succeed: ({ env, stdout, stderr }) => {
    stdout.write(`out:${env.PIPELINE_JOBS_STEP_ID}\n`);
    stderr.write(`err:${env.CONTRACT_VAR}\n`);
  },
  fail: () => {
    throw new Error('failing');
  },
  params: ({ env, log }) => log(`params:${env.PIPELINE_JOBS_STEP_PARAMETERS}`),
  cwd: ({ cwd, log }) => log(`cwd:${realpathSync(cwd)}`),
  'write-file': ({ cwd }) => writeFile(path.join(cwd, 'contract-output.txt'), 'written\n'),
  hang: async ({ signal, log }) => {
    log('ready');
    await never(signal);
  },
  // JavaScript cannot ignore "SIGTERM"; this one ignores its signal entirely.
  'ignore-term': async ({ log }) => {
    log('ready');
    await new Promise(() => undefined);
  },
  flood: ({ stdout, stderr }) => {
    stdout.write('x'.repeat(2 * 1024 * 1024));
    stderr.write('flood-end\n');
  },
};

describeStepExecutorContract('FunctionStepExecutor', () => ({
  executor: new FunctionStepExecutor({ functions: Object.fromEntries(Object.entries(contractFunctions).map(([b, fn]) => [`contract/${b}`, fn])) }),
  prepare: async (behaviour, projectDir) => {
    await mkdir(path.join(projectDir, 'contract'), { recursive: true });
    return `contract/${behaviour}`;
  },
}));

if (haveTool('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--die-with-parent', 'true'])) {
  describeStepExecutorContract('BubblewrapStepExecutor', () => ({ executor: new BubblewrapStepExecutor(), prepare: shellContractSteps }));
}
