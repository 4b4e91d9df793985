import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * An integrator whose executor breaks the contract must learn which rule it broke and what
 * was seen. Runs the suite on the 0.1 README's sample (it drops the signal of a killed step)
 * in a child vitest, as the integrator would run it, and reads its report.
 */
describe('the step-executor contract suite, failing', () => {
  it('names the broken rule and what run() returned', () => {
    const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const result = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/examples/fixtures/vitest.config.ts', '--reporter=verbose', '--no-color'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: 120_000,
    });
    const report = `${result.stdout}\n${result.stderr}`;
    expect(result.status, report).toBe(1);
    expect(report).not.toContain('expected false to be true');
    expect(report).toContain('Contract rule broken: a step stopped because context.signal aborted is not a success');
    expect(report).toContain('run() resolved {"exitCode":null,"signal":"(absent)"}, which counts as a success');
    expect(report).toContain('return its signal too');
    // It never handles the spawn's error event: run() hangs when the file is missing.
    expect(report).toContain('Contract rule broken: run() settles');
    // The rules it keeps still pass.
    expect(report).toMatch(/✓ .*a failing step is a failure/);
  }, 150_000);
});
