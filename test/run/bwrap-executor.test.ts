import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/errors.js';
import { BubblewrapStepExecutor, MemoryLogStore, RunExecutor, RunStatus, StepStatus, type BubblewrapStepExecutorOptions, type StepProcessInfo } from '../../src/run/index.js';
import { rootEntries } from '../../src/run/bwrap-executor.js';
import { defaults, haveTool, makeProject, pipeline, processesWithEnv, tempDir, trackProcesses, waitForLog } from './helpers.js';

const bwrapWorks = haveTool('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--die-with-parent', 'true']);

async function sandboxRun(script: string, options: BubblewrapStepExecutorOptions = {}, signal?: AbortSignal) {
  const project = await makeProject({ 'steps/s.sh': script });
  const p = pipeline({ steps: [{ uuid: 's', file_path: 'steps/s.sh' }] });
  const logStore = new MemoryLogStore();
  const executor = new RunExecutor({ stepExecutors: new BubblewrapStepExecutor(options), logStore, workRoot: await tempDir(), keepWorkingCopy: true, gracePeriodMs: 500 });
  const processes = trackProcesses(executor);
  const done = executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } }, signal ? { signal } : {});
  return { done, logStore, processes, log: async () => (await logStore.read({ runId: 'r', stepId: 's' })) ?? '' };
}

describe.runIf(bwrapWorks)('BubblewrapStepExecutor: the sandbox', () => {
  it('system read-only, working copy writable (also at /project-dir), /data from the host, own PID namespace, no network, private HOME', async () => {
    const dataDir = await tempDir('pj-data-');
    const t = await sandboxRun(
      [
        'touch /usr/pj-sandbox-test 2>/dev/null && echo usr-writable || echo usr-read-only',
        'echo local > in-copy.txt',
        'echo via > /project-dir/steps/via-project-dir.txt',
        'echo data > /data/result.txt',
        'echo "pid:$$"',
        // /proc/net shows the step's own network namespace (/sys is the host's, bound read-only).
        'echo "net:$(awk -F: \'NR>2{gsub(/ /,"",$1); print $1}\' /proc/net/dev | tr "\\n" " ")"',
        'touch "$HOME/x" && echo home-writable',
        'test -e "$HOME/.bashrc" && echo home-shows-host || echo home-private',
        'echo "cwd:$(pwd)"',
      ].join('\n'),
      { dataDir },
    );
    const result = await t.done;
    const log = await t.log();
    expect(result.steps.s!.status, log).toBe(StepStatus.SUCCESS);
    expect(log).toContain('usr-read-only');
    expect(existsSync('/usr/pj-sandbox-test')).toBe(false);
    const copy = result.workingCopy!;
    expect(await readFile(path.join(copy, 'steps/in-copy.txt'), 'utf8')).toBe('local\n');
    expect(await readFile(path.join(copy, 'steps/via-project-dir.txt'), 'utf8')).toBe('via\n');
    expect(await readFile(path.join(dataDir, 'result.txt'), 'utf8')).toBe('data\n');
    expect(Number(/pid:(\d+)/.exec(log)![1])).toBeLessThan(10);
    expect(/net:(.*)/.exec(log)![1]!.trim()).toBe('lo');
    expect(log).toContain('home-writable');
    expect(log).toContain('home-private');
    expect(log).toContain(`cwd:${path.join(copy, 'steps')}`);
  });

  it('network: true keeps the host network', async () => {
    const t = await sandboxRun('awk -F: \'NR>2{gsub(/ /,"",$1); print $1}\' /proc/net/dev | tr "\\n" " "', { network: true });
    await t.done;
    expect((await t.log()).trim().split(' ').sort()).toEqual((await readdir('/sys/class/net')).sort());
  });

  it('cancel ends the sandboxed tree (setsid grandchild included); nothing with the token survives', async () => {
    const controller = new AbortController();
    const t = await sandboxRun('(setsid sleep 1000 &)\necho ready\nsleep 1000\n', {}, controller.signal);
    await waitForLog(t.logStore, { runId: 'r', stepId: 's' }, 'ready');
    expect(processesWithEnv('PIPELINE_JOBS_STEP_TOKEN', t.processes[0]!.token).length).toBeGreaterThanOrEqual(3);
    controller.abort();
    const result = await t.done;
    expect(result.steps.s!.status).toBe(StepStatus.ABORTED);
    expect(processesWithEnv('PIPELINE_JOBS_STEP_TOKEN', t.processes[0]!.token)).toEqual([]);
  });

  it('a program missing in the sandbox, or bwrap itself missing, is STEP_INTERPRETER_MISSING', async () => {
    const missing = await sandboxRun('echo never', { interpreters: { '.sh': ['no-such-shell'] } });
    const r1 = await missing.done;
    expect(r1.steps.s).toMatchObject({ status: StepStatus.FAILURE, attempts: 1, error: { code: 'STEP_INTERPRETER_MISSING' } });
    expect(r1.steps.s!.error!.message).toContain('no-such-shell');
    const noBwrap = await sandboxRun('echo never', { bwrap: 'bwrap-not-installed' });
    const r2 = await noBwrap.done;
    expect(r2.status).toBe(RunStatus.FAILURE);
    expect(r2.steps.s!.error).toMatchObject({ code: 'STEP_INTERPRETER_MISSING', message: expect.stringContaining('bwrap-not-installed') });
  });
});

describe('BubblewrapStepExecutor: arguments', () => {
  it('binds the root entries read-only, mounts its own /proc /dev /tmp, and uses a pinned root', async () => {
    const root = await makeProject({ 'usr/bin/sh': '', 'etc/passwd': '', 'proc/x': '', 'data/x': '' });
    const executor = new BubblewrapStepExecutor({ dataDir: '/srv/data', extraArgs: ['--ro-bind', '/opt/m', '/models'] });
    const entries = await rootEntries(root);
    expect(entries.map((e) => e.name)).toEqual(['etc', 'usr']);
    const args = executor.sandboxArgs(
      {
        workDir: '/w/run',
        artifactsDir: '/a/run/steps/s',
        cwd: '/w/run/steps',
        env: { HOME: '/home/u' },
        environment: { id: 'sbx', kind: 'sandbox', details: { root }, resolvedAt: 0 },
      },
      entries,
    );
    expect(args.join(' ')).toBe(
      [
        'bwrap --die-with-parent --unshare-pid --unshare-ipc --unshare-uts --unshare-net --new-session',
        `--ro-bind ${root}/etc /etc --ro-bind ${root}/usr /usr`,
        '--dev /dev --proc /proc --tmpfs /tmp --tmpfs /home/u',
        '--bind /w/run /w/run --bind /w/run /project-dir --bind /a/run/steps/s /a/run/steps/s --bind /srv/data /data',
        '--chdir /w/run/steps --ro-bind /opt/m /models',
      ].join(' '),
    );
  });

  it('refuses bad options', () => {
    expect(() => new BubblewrapStepExecutor({ dataDir: 'relative' })).toThrow(OptionsError);
    expect(() => new BubblewrapStepExecutor({ home: 'rw' as never })).toThrow(/home/);
    expect(() => new BubblewrapStepExecutor({ root: 'x' })).toThrow(/root/);
    expect(() => new BubblewrapStepExecutor({ extraArgs: [1 as never] })).toThrow(/extraArgs/);
  });
});
