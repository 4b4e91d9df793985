import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, remove, requireBuild, root, start, tempDir, until } from './helpers.js';

/** `npm run demo` ends by printing CLI commands; they work against what it left. */
describe('the demo', () => {
  let home: string;
  beforeAll(() => {
    requireBuild();
    home = tempDir('pj-demo-');
  });
  afterAll(() => remove(home));

  it('shows progress, then prints commands that work', async () => {
    const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(tsx, ['examples/demo.ts'], { cwd: root, env: { ...process.env, PIPELINE_JOBS_DEMO_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
      child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/run \w{8} report started/);
    expect(out.stdout).toContain('Job ended SUCCESS');
    const commands = [...out.stdout.matchAll(/^ {2}npx pipeline-jobs (.+?)(?: {2,}\(.*\))?$/gm)].map((m) => m[1]!.split(' '));
    expect(commands.map((c) => c[2])).toEqual(['runs', 'logs', 'serve']);
    for (const args of commands.slice(0, 2)) {
      // The printed --home is relative to where the demo ran (the repository root).
      const r = await cli(root, ...args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(args[2] === 'runs' ? /SUCCESS/ : /^report \(text\): sales-eu/);
    }
    const serve = start(root, [...commands[2]!, '--port', '0']);
    try {
      await until(() => /dashboard on (http:\S+)/.test(serve.output().stdout), 'the dashboard to listen');
      const url = /dashboard on (http:\/\/\S+)/.exec(serve.output().stdout)![1]!;
      expect(await (await fetch(url)).text()).toContain('demo ETL');
    } finally {
      serve.kill('SIGTERM');
      expect((await serve.exited).code).toBe(0);
    }
  });
});
