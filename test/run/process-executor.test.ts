import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { OptionsError } from '../../src/errors.js';
import {
  MemoryLogStore,
  ProcessStepExecutor,
  RunExecutor,
  RunStatus,
  StepStatus,
  findStepProcesses,
  killStepProcesses,
  terminateStepProcesses,
  notebookKernel,
  type ProcessStepExecutorOptions,
  type RunExecutorOptions,
  type RunRequest,
  type StepProcessInfo,
} from '../../src/run/index.js';
import { defaults, makeProject, pipeline, processesWithEnv, tempDir, trackProcesses, waitForLog } from './helpers.js';

const isLinux = process.platform === 'linux';

async function runSteps(
  files: Record<string, string>,
  steps: Array<{ uuid: string; file_path: string; environment?: string; incoming_connections?: string[] }>,
  options: { executor?: ProcessStepExecutorOptions; run?: Partial<RunExecutorOptions>; request?: Partial<RunRequest>; signal?: AbortSignal } = {},
) {
  const project = await makeProject(files);
  const p = pipeline({ steps });
  const logStore = new MemoryLogStore();
  const executor = new RunExecutor({
    stepExecutors: new ProcessStepExecutor(options.executor),
    logStore,
    workRoot: await tempDir(),
    failurePolicy: 'continue',
    gracePeriodMs: 2000,
    ...options.run,
  });
  const processes = trackProcesses(executor);
  const log = (stepId: string) => logStore.read({ runId: 'r', stepId }).then((t) => t ?? '');
  const request: RunRequest = { runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project }, ...options.request };
  return { executor, logStore, processes, log, request, result: () => executor.execute(request, options.signal ? { signal: options.signal } : {}) };
}

function survivors(processes: readonly StepProcessInfo[]): number[] {
  return processes.flatMap((p) => processesWithEnv('PIPELINE_JOBS_STEP_TOKEN', p.token));
}

describe('ProcessStepExecutor: interpreters by file type', () => {
  it('runs .py, .sh, .js, .mjs, .cjs with their default interpreters, in the file folder', async () => {
    const t = await runSteps(
      {
        'py/a.py': 'import os\nprint("py", os.getcwd().endswith("/py"))\n',
        'b.sh': 'echo "sh $BASH_VERSION" | cut -c1-4\n',
        'c.js': 'console.log("js", typeof require)\n',
        'd.mjs': 'console.log("mjs", typeof import.meta.url)\n',
        'e.cjs': 'console.log("cjs", typeof module)\n',
      },
      ['py/a.py', 'b.sh', 'c.js', 'd.mjs', 'e.cjs'].map((f, i) => ({ uuid: `s${i}`, file_path: f })),
    );
    const result = await t.result();
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(await t.log('s0')).toBe('py True\n');
    expect(await t.log('s1')).toBe('sh 5\n');
    expect(await t.log('s2')).toBe('js function\n');
    expect(await t.log('s3')).toBe('mjs string\n');
    expect(await t.log('s4')).toBe('cjs object\n');
    expect(result.steps.s0!.exitCode).toBe(0);
  });

  it('maps other extensions (with a {file} placeholder), and a pinned environment wins over the map', async () => {
    const t = await runSteps(
      { 'a.txt': 'plain text\n', 'b.data': 'data file\n' },
      [
        { uuid: 'txt', file_path: 'a.txt', environment: 'env-cat' },
        { uuid: 'data', file_path: 'b.data' },
      ],
      {
        executor: { interpreters: { '.txt': ['false'], '.data': ['bash', '-c', 'echo "got: $(cat "$1")"', 'arg0', '{file}'] } },
        request: { environments: { 'env-cat': { id: 'env-cat', kind: 'local', interpreters: { '.txt': ['cat'] }, resolvedAt: 0 } } },
      },
    );
    const result = await t.result();
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(await t.log('txt')).toBe('plain text\n');
    expect(await t.log('data')).toBe('got: data file\n');
  });

  it('each fault is a clear step error in the result and the log', async () => {
    const t = await runSteps(
      {
        'unknown.xyz': 'x',
        'r.R': 'print(1)',
        'exit3.sh': 'echo before; exit 3\n',
        'selfkill.sh': 'kill -9 $$\n',
        'dir.sh/inner': 'x',
      },
      [
        { uuid: 'missing', file_path: 'nope.py' },
        { uuid: 'nofile', file_path: '' },
        { uuid: 'unknown', file_path: 'unknown.xyz' },
        { uuid: 'noR', file_path: 'r.R' },
        { uuid: 'exit3', file_path: 'exit3.sh' },
        { uuid: 'selfkill', file_path: 'selfkill.sh' },
        { uuid: 'isdir', file_path: 'dir.sh' },
      ],
      { executor: { interpreters: { '.R': ['Rscript-not-installed-here'] } }, run: { retries: { limit: 2, delayMs: 0 } } },
    );
    const result = await t.result();
    expect(result.status).toBe(RunStatus.FAILURE);
    const expected: Record<string, [string, number]> = {
      missing: ['STEP_FILE_MISSING', 1],
      nofile: ['STEP_NO_FILE', 1],
      unknown: ['STEP_UNKNOWN_FILE_TYPE', 1],
      noR: ['STEP_INTERPRETER_MISSING', 1],
      exit3: ['STEP_EXIT_CODE', 3],
      selfkill: ['STEP_KILLED', 3],
      isdir: ['STEP_FILE_MISSING', 1],
    };
    for (const [id, [code, attempts]] of Object.entries(expected)) {
      expect(result.steps[id], id).toMatchObject({ status: StepStatus.FAILURE, attempts, error: { code } });
      expect(await t.log(id), id).toContain(`${code}: `);
    }
    expect(result.steps.exit3).toMatchObject({ exitCode: 3, error: { message: 'The step exited with code 3' } });
    expect(result.steps.selfkill).toMatchObject({ signal: 'SIGKILL' });
    expect(result.steps.missing!.error).toMatchObject({ path: 'steps.missing.file_path', hint: expect.stringContaining('relative') });
    expect(result.steps.noR!.error!.message).toContain('Rscript-not-installed-here');
    expect(await t.log('exit3')).toMatch(/^before\n/);
  });

  it('a hand-built pipeline whose step escapes the project fails that step (STEP_FILE_OUTSIDE_PROJECT), nothing runs', async () => {
    const t = await runSteps({ 'ok.sh': 'echo ok\n' }, [{ uuid: 'escape', file_path: 'ok.sh' }]);
    const [step] = t.request.pipeline.steps;
    const escaping = { ...t.request.pipeline, steps: [{ ...step!, file_path: '../../../../../../bin/true' }] };
    const result = await t.executor.execute({ ...t.request, pipeline: escaping });
    expect(result.steps.escape).toMatchObject({ status: StepStatus.FAILURE, attempts: 0, error: { code: 'STEP_FILE_OUTSIDE_PROJECT', path: 'steps.escape.file_path' } });
    expect(t.processes).toEqual([]);
  });

  it('refuses bad options', () => {
    expect(() => new ProcessStepExecutor({ interpreters: { py: ['python3'] } })).toThrow(OptionsError);
    expect(() => new ProcessStepExecutor({ interpreters: { '.py': [] } })).toThrow(/non-empty array/);
    expect(() => new ProcessStepExecutor({ kernels: { python: '' } })).toThrow(OptionsError);
  });
});

describe('ProcessStepExecutor: output', () => {
  it('a flood is truncated with a marker and drained (the step is not blocked)', async () => {
    const t = await runSteps({ 'flood.mjs': "const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 5000; i++) process.stdout.write(line); console.error('end');\n" }, [
      { uuid: 'flood', file_path: 'flood.mjs' },
    ], { run: { maxLogBytes: 64 * 1024 } });
    const result = await t.result();
    expect(result.steps.flood).toMatchObject({ status: StepStatus.SUCCESS, logTruncated: true });
    const text = await t.log('flood');
    expect(text).toContain('[pipeline-jobs] log truncated: this step wrote more than 65536 bytes');
    expect(text.length).toBeLessThan(70 * 1024);
  });

  it("with logOverflow 'fail', an endless flood is stopped: STEP_OUTPUT_LIMIT, no process left", async () => {
    const t = await runSteps({ 'yes.sh': 'yes flood\n' }, [{ uuid: 'yes', file_path: 'yes.sh' }], { run: { maxLogBytes: 32 * 1024, logOverflow: 'fail', retries: 2 } });
    const result = await t.result();
    expect(result.steps.yes).toMatchObject({ status: StepStatus.FAILURE, attempts: 1, error: { code: 'STEP_OUTPUT_LIMIT' } });
    expect(await t.log('yes')).toContain('STEP_OUTPUT_LIMIT');
    if (isLinux) expect(survivors(t.processes)).toEqual([]);
  });
});

describe.runIf(isLinux)('ProcessStepExecutor: the whole process tree goes', () => {
  const CHILD = 'sleep 1000 &\necho ready\nwait\n';
  const SETSID_CHILD = 'setsid sleep 1000 &\necho ready\nwait\n';
  // The subshell exits at once: the setsid'd sleep is reparented and in its own session.
  const SETSID_GRANDCHILD = '(setsid sleep 1000 &)\necho ready\nsleep 1000\n';
  const IGNORES_TERM = "trap '' TERM\nsleep 1000 &\necho ready\nwait\n";

  for (const [name, script] of Object.entries({ child: CHILD, 'setsid child': SETSID_CHILD, 'setsid grandchild': SETSID_GRANDCHILD, 'TERM ignored': IGNORES_TERM })) {
    it(`cancel ends a step with a ${name}: ABORTED, no process with its token survives`, async () => {
      const controller = new AbortController();
      const t = await runSteps({ 's.sh': script }, [{ uuid: 's', file_path: 's.sh' }], { signal: controller.signal, run: { gracePeriodMs: 300 } });
      const done = t.result();
      await waitForLog(t.logStore, { runId: 'r', stepId: 's' }, 'ready');
      // `setsid` forks again when it is a group leader: its child may appear a moment after
      // "ready". Wait for the tree to be there before cancelling it.
      for (let i = 0; i < 100 && survivors(t.processes).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(survivors(t.processes).length).toBeGreaterThanOrEqual(2);
      controller.abort();
      const result = await done;
      expect(result.steps.s).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_CANCELLED' } });
      expect(result.steps.s!.process).toMatchObject({ pid: expect.any(Number), pgid: result.steps.s!.process!.pid, token: t.processes[0]!.token });
      expect(survivors(t.processes)).toEqual([]);
    });
  }

  it('findStepProcesses finds a token placed after 200 KB of environment', async () => {
    const token = 'deadbeef-0000-4000-8000-000000000001';
    const child = spawn('sleep', ['1000'], {
      env: { PATH: process.env.PATH!, BIG_A: 'a'.repeat(100_000), BIG_B: 'b'.repeat(100_000), PIPELINE_JOBS_STEP_TOKEN: token },
      stdio: 'ignore',
      detached: true,
    });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      expect(findStepProcesses({ token })).toEqual([child.pid]);
      const report = await terminateStepProcesses({ token }, { gracePeriodMs: 1000, clock: new SystemClock() });
      expect(report).toMatchObject({ signalled: [child.pid], survivors: [] });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a step with a 200 KB environment is still ended entirely', async () => {
    const controller = new AbortController();
    const big = { BIG_A: 'a'.repeat(100_000), BIG_B: 'b'.repeat(100_000) };
    const t = await runSteps({ 's.sh': SETSID_GRANDCHILD }, [{ uuid: 's', file_path: 's.sh' }], { signal: controller.signal, request: { env: big }, run: { gracePeriodMs: 300 } });
    const done = t.result();
    await waitForLog(t.logStore, { runId: 'r', stepId: 's' }, 'ready');
    controller.abort();
    expect((await done).steps.s!.status).toBe(StepStatus.ABORTED);
    expect(survivors(t.processes)).toEqual([]);
  });

  it('a step timeout ends the tree too (STEP_TIMEOUT)', async () => {
    const t = await runSteps({ 's.sh': SETSID_GRANDCHILD }, [{ uuid: 's', file_path: 's.sh' }], { run: { stepTimeoutMs: 1500, gracePeriodMs: 300 } });
    const result = await t.result();
    expect(result.steps.s).toMatchObject({ status: StepStatus.FAILURE, error: { code: 'STEP_TIMEOUT' } });
    expect(await t.log('s')).toContain('ready');
    expect(survivors(t.processes)).toEqual([]);
  });

  it('processes a successful step leaves behind are ended, and the log says so', async () => {
    const t = await runSteps({ 's.sh': '(setsid sleep 1000 &)\nsleep 1000 &\necho done\n' }, [{ uuid: 's', file_path: 's.sh' }], { run: { gracePeriodMs: 300 } });
    const result = await t.result();
    expect(result.steps.s!.status).toBe(StepStatus.SUCCESS);
    expect(await t.log('s')).toContain('the step left 2 process(es) running; they were ended');
    expect(survivors(t.processes)).toEqual([]);
  });

  it('killStepProcesses(record) ends a step from its recorded identity alone (crash recovery)', async () => {
    // "ready" only once all three processes exist: the shell, its child, the reparented setsid'd grandchild.
    const t = await runSteps({ 's.sh': '(setsid sleep 1000 &)\nsleep 1000 &\necho ready\nwait\n' }, [{ uuid: 's', file_path: 's.sh' }]);
    const done = t.result();
    await waitForLog(t.logStore, { runId: 'r', stepId: 's' }, 'ready');
    const record = JSON.parse(JSON.stringify(t.processes[0])) as StepProcessInfo;
    expect(await killStepProcesses({ ...record, bootId: 'another-boot' })).toMatchObject({ skipped: 'other-boot', signalled: [] });
    expect(await killStepProcesses({ ...record, hostname: 'another-host' })).toMatchObject({ skipped: 'other-host' });
    expect(survivors(t.processes).length).toBe(3);
    const report = await killStepProcesses(record, { gracePeriodMs: 1000 });
    expect(report.signalled.length).toBeGreaterThanOrEqual(3);
    const result = await done;
    expect(result.steps.s).toMatchObject({ status: StepStatus.FAILURE, error: { code: 'STEP_KILLED' }, signal: 'SIGTERM' });
    expect(survivors(t.processes)).toEqual([]);
  });
});

describe('notebook kernels', () => {
  const base = { uuid: 's', title: 's', file_path: 'n.ipynb', incoming_connections: [], parameters: {}, parameterOrder: [] };
  const opts = { kernels: { python: 'python3', 'orchest-kernel-env-r': 'ir', 'env-julia': 'julia-1.9' }, defaultKernel: 'python3' };
  it('maps Orchest names to local kernels; unknown Orchest names get the default', () => {
    expect(notebookKernel({ ...base, environment: 'e', kernel: { name: 'python' } }, undefined, opts)).toBe('python3');
    expect(notebookKernel({ ...base, environment: 'env-r', kernel: { name: 'orchest-kernel-env-r' } }, undefined, opts)).toBe('ir');
    expect(notebookKernel({ ...base, environment: 'env-r' }, undefined, opts)).toBe('ir');
    expect(notebookKernel({ ...base, environment: 'env-julia' }, undefined, opts)).toBe('julia-1.9');
    expect(notebookKernel({ ...base, environment: 'x', kernel: { name: 'orchest-kernel-x' } }, undefined, opts)).toBe('python3');
    expect(notebookKernel({ ...base, environment: 'x', kernel: { name: 'my-local' } }, undefined, opts)).toBe('my-local');
    expect(notebookKernel({ ...base, environment: 'x' }, { id: 'x', kind: 'local', details: { kernel: 'conda-env' }, resolvedAt: 0 }, opts)).toBe('conda-env');
  });
});
