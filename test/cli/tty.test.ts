import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bashProject, bin, remove, requireBuild, tempDir } from './helpers.js';

/** `script` (util-linux) gives the CLI a terminal, so the live (redrawn) view is used. */
function haveScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    const message = `\`script\` (util-linux) is missing: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${message}: CI must run the terminal test`);
    console.warn(`\n*** SKIPPING the CLI terminal test: ${message} ***\n`);
    return false;
  }
}

describe.skipIf(!haveScript())('pipeline-jobs run on a terminal', () => {
  let cwd: string;
  beforeAll(() => {
    requireBuild();
    cwd = tempDir();
  });
  afterAll(() => remove(cwd));

  it('redraws one progress block with the running steps and a failing step\'s last log lines', async () => {
    const go = path.join(cwd, 'go');
    const dir = bashProject(path.join(cwd, 'p'), {
      a: { title: 'first', script: 'echo ok' },
      b: { title: 'breaks', script: `while [ ! -f '${go}' ]; do sleep 0.05; done\nfor i in 1 2 3 4 5 6 7 8 9 10; do echo "output line $i"; done\nexit 4`, incoming: ['a'] },
    });
    // A pty of script(1) has no size: give it one, or log-update draws nothing.
    const command = `stty rows 40 cols 120; '${process.execPath}' '${bin}' run '${dir}'; echo "exit=$?"`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: { ...process.env, CI: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += String(d);
        // The step waits until the live view has shown it running.
        if (/run 0: breaks/.test(text) && !existsSync(go)) writeFileSync(go, '');
      });
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    expect(out).toContain('\u001B[?25l'); // log-update hides the cursor: the live view, not plain lines
    expect(out).not.toMatch(/\[\d+(\.\d)?m?s\] run 0 started/); // no plain-mode lines
    expect(out).toMatch(/main: 0 done, 0 failed, 0 running of 1 {2}\(/);
    expect(out).toMatch(/main: 0 done, 0 failed, 1 running of 1 {2}\([^)]*\)\r?\n {2}run 0: breaks/);
    expect(out).toContain('run 0 step breaks failed; last lines of its log:');
    expect(out).toContain('| output line 10');
    expect(out).not.toContain('| output line 2\r'); // only the last 8 lines
    expect(out).toMatch(/main: 0 done, 1 failed, 0 running of 1/);
    expect(out).toMatch(/exit=1/);
  });
});
