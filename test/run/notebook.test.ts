import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/index.js';
import type { RunParameters } from '../../src/pipeline/model.js';
import {
  BubblewrapStepExecutor,
  MemoryLogStore,
  ProcessStepExecutor,
  RunExecutor,
  RunStatus,
  StepStatus,
  type StepExecutor,
} from '../../src/run/index.js';
import { fixturesDir, haveFixtures } from '../helpers/shared.js';
import { defaults, deferred, haveTool, makeProject, pipeline, processesWithEnv, tempDir, trackProcesses } from './helpers.js';

const haveJupyter = haveTool('jupyter', ['nbconvert', '--version']);
const haveBwrap = haveJupyter && haveTool('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--die-with-parent', 'true']);
const fixtures = haveFixtures();

/** A notebook (nbformat 4.5) with one code cell per source. */
function notebook(cells: string[], kernelName = 'orchest-kernel-4b3659e0-db0a-4ff0-9b60-fb53903dd218'): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({ cell_type: 'code', execution_count: null, id: `cell-${i}`, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: kernelName } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

// Reads parameters the way Orchest's SDK does: the pipeline file at ORCHEST_PIPELINE_PATH,
// the step found by ORCHEST_STEP_UUID, its `parameters`; dumps them with the ORCHEST_ env.
const DUMP_PARAMS = `import json, os
with open(os.environ["ORCHEST_PIPELINE_PATH"]) as f:
    pipeline = json.load(f)
step = pipeline["steps"][os.environ["ORCHEST_STEP_UUID"]]
out = {
    "step_parameters": step["parameters"],
    "pipeline_parameters": pipeline["parameters"],
    "env": {k: v for k, v in os.environ.items() if k.startswith("ORCHEST_")},
}
with open(step["parameters"]["test-output-file"], "w") as f:
    json.dump(out, f)
print("dumped", step["parameters"]["step-param-a"])`;

const STEP = 'bb789d4f-9e8c-462d-8a6d-9b437ca705f7';

async function dumpEnvParamsProject(): Promise<string> {
  const project = await tempDir('pj-orchest-project-');
  await cp(path.join(fixturesDir, 'projects', 'dump-env-params'), project, { recursive: true });
  await writeFile(path.join(project, 'dump-env-params.ipynb'), notebook([DUMP_PARAMS]));
  return project;
}

describe.runIf(haveJupyter && fixtures)("notebook steps read their parameters the way Orchest's SDK does", () => {
  const executors: Array<[string, () => StepExecutor, boolean]> = [
    ['ProcessStepExecutor', () => new ProcessStepExecutor(), true],
    ['BubblewrapStepExecutor', () => new BubblewrapStepExecutor(), haveBwrap],
  ];
  for (const [name, make, enabled] of executors) {
    it.runIf(enabled)(`${name}: the dump-env-params project over several grid points`, async () => {
      const project = await dumpEnvParamsProject();
      const text = await readFile(path.join(project, 'dump-env-params.orchest'), 'utf8');
      const p = parsePipeline(text, { path: 'dump-env-params.orchest' });
      const logStore = new MemoryLogStore();
      const executor = new RunExecutor({ stepExecutors: make(), logStore, workRoot: await tempDir(), outputs: ['test-output.json'] });
      const grid: RunParameters[] = [
        { pipeline: { 'pipeline-param-A': 1 }, steps: { [STEP]: { 'step-param-a': 1, 'test-output-file': 'test-output.json' } } },
        { pipeline: { 'pipeline-param-A': 20 }, steps: { [STEP]: { 'step-param-a': 'two', 'test-output-file': 'test-output.json' } } },
        { pipeline: { 'pipeline-param-A': [3, { x: null }] }, steps: { [STEP]: { 'step-param-a': 3.5, 'test-output-file': 'test-output.json' } } },
      ];
      const results = await Promise.all(
        grid.map((parameters, i) =>
          executor.execute({ runId: `run-${i}`, jobId: 'job', projectId: 'orchest-project', pipeline: p, parameters, source: { directory: project } }),
        ),
      );
      for (const [i, result] of results.entries()) {
        const log = (await logStore.read({ runId: `run-${i}`, stepId: STEP })) ?? '';
        expect(result.status, log).toBe(RunStatus.SUCCESS);
        expect(result.outputs).toEqual([path.join(result.artifactsDir, 'outputs', 'test-output.json')]);
        const dumped = JSON.parse(await readFile(result.outputs[0]!, 'utf8'));
        expect(dumped.step_parameters).toEqual(grid[i]!.steps[STEP]);
        expect(dumped.pipeline_parameters).toEqual(grid[i]!.pipeline);
        expect(dumped.env).toMatchObject({
          ORCHEST_STEP_UUID: STEP,
          ORCHEST_PIPELINE_UUID: 'e3bde42d-6de2-4e69-a191-56b35deb5cf2',
          ORCHEST_SESSION_UUID: `run-${i}`,
          ORCHEST_SESSION_TYPE: 'noninteractive',
          ORCHEST_PROJECT_UUID: 'orchest-project',
        });
        // The executed notebook and its HTML are kept; the working copy is gone.
        const [executed, html] = result.steps[STEP]!.artifacts;
        expect(executed).toMatch(/dump-env-params\.ipynb$/);
        expect(html).toMatch(/dump-env-params\.html$/);
        const nb = JSON.parse(await readFile(executed!, 'utf8'));
        expect(nb.cells[0].outputs[0].text.join('')).toBe(`dumped ${String(grid[i]!.steps[STEP]!['step-param-a'])}\n`);
        expect(await readFile(html!, 'utf8')).toContain('dumped');
        expect(result.workingCopy).toBeUndefined();
      }
    }, 180_000);
  }
});

describe.runIf(haveJupyter)('notebook steps: faults and cancellation', () => {
  it('a failing cell fails the step with its traceback in the log', async () => {
    const project = await makeProject({ 'bad.ipynb': notebook(['print("before")', '1 / 0'], 'python') });
    const p = pipeline({ steps: [{ uuid: 'nb', file_path: 'bad.ipynb', kernel: { name: 'python' } }] });
    const logStore = new MemoryLogStore();
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore, workRoot: await tempDir() });
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(result.steps.nb).toMatchObject({ status: StepStatus.FAILURE, error: { code: 'STEP_EXIT_CODE' } });
    expect(await logStore.read({ runId: 'r', stepId: 'nb' })).toContain('ZeroDivisionError');
  }, 120_000);

  it('an unknown kernel fails the step clearly', async () => {
    const project = await makeProject({ 'n.ipynb': notebook(['print(1)']) });
    const p = pipeline({ steps: [{ uuid: 'nb', file_path: 'n.ipynb', kernel: { name: 'no-such-kernel' } }] });
    const logStore = new MemoryLogStore();
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore, workRoot: await tempDir() });
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(result.steps.nb!.status).toBe(StepStatus.FAILURE);
    expect(await logStore.read({ runId: 'r', stepId: 'nb' })).toContain('no-such-kernel');
  }, 120_000);

  it("cancel ends nbconvert and the kernel (which runs in its own session); nothing with the step's token survives", async () => {
    const project = await makeProject({
      'long.ipynb': notebook([
        'import os, time\nwith open("ready.txt", "w") as f:\n    f.write(str(os.getsid(0) == os.getpid()))\ntime.sleep(1000)',
      ]),
    });
    const p = pipeline({ steps: [{ uuid: 'nb', file_path: 'long.ipynb' }] });
    const workRoot = await tempDir();
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: new MemoryLogStore(), workRoot, gracePeriodMs: 2000 });
    const processes = trackProcesses(executor);
    const controller = new AbortController();
    const done = executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } }, { signal: controller.signal });
    const copy = path.join(workRoot, 'work', 'r');
    const ready = await waitForFile(copy, 'ready.txt', done);
    expect(ready).toBe('True'); // the kernel leads its own session: a process group kill alone would miss it
    const token = processes[0]!.token;
    expect(processesWithEnv('PIPELINE_JOBS_STEP_TOKEN', token).length).toBeGreaterThanOrEqual(2);
    controller.abort();
    const result = await done;
    expect(result.steps.nb!.status).toBe(StepStatus.ABORTED);
    expect(processesWithEnv('PIPELINE_JOBS_STEP_TOKEN', token)).toEqual([]);
  }, 120_000);
});

/**
 * Resolves with the file's content once the step created it; rejects if the run ends
 * first. Polls: the kernel is a real process, and there is no event to wait on.
 */
async function waitForFile(dir: string, name: string, run: Promise<unknown>): Promise<string> {
  const found = deferred<string>();
  let ended = false;
  void run.then(
    () => {
      ended = true;
      found.reject(new Error(`the run ended before ${name} appeared`));
    },
    (e: unknown) => found.reject(e),
  );
  const timer = setInterval(() => {
    if (ended) return;
    readFile(path.join(dir, name), 'utf8').then(
      (text) => text !== '' && found.resolve(text),
      () => undefined, // not there yet
    );
  }, 100);
  try {
    return await found.promise;
  } finally {
    clearInterval(timer);
  }
}
