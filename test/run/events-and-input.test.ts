import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecutionError, NotFoundError, OptionsError, PipelineError, PipelineJobsError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Pipeline } from '../../src/pipeline/model.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor, RunStatus, type RunExecutorOptions, type RunRequest } from '../../src/run/index.js';
import { TestDirectorySnapshots, defaults, makeProject, pipeline, tempDir } from './helpers.js';

function recordingLogger(): Logger & { errors: Array<[string, Record<string, unknown> | undefined]> } {
  const errors: Array<[string, Record<string, unknown> | undefined]> = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (m, f) => void errors.push([m, f]) };
}

describe('RunExecutor events', () => {
  it('emits run and step events in order with clock timings, one payload each', async () => {
    const clock = new FakeClock(5000);
    const p = pipeline({ steps: [{ uuid: 'a' }, { uuid: 'b', incoming_connections: ['a'] }] });
    const executor = new RunExecutor({
      stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined, b: () => undefined } }),
      logStore: new MemoryLogStore(),
      workRoot: await tempDir(),
      clock,
    });
    const seen: string[] = [];
    const payloads: unknown[] = [];
    for (const name of ['run:started', 'run:finished', 'step:started', 'step:finished', 'step:retrying'] as const) {
      executor.on(name, (e) => {
        seen.push(`${name}${'stepId' in e ? `:${e.stepId}` : ''}`);
        payloads.push(e);
      });
    }
    const result = await executor.execute({ runId: 'r', jobId: 'j', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: await makeProject({}) } });
    expect(seen).toEqual(['run:started', 'step:started:a', 'step:finished:a', 'step:started:b', 'step:finished:b', 'run:finished']);
    expect(payloads[0]).toMatchObject({ runId: 'r', jobId: 'j', projectId: 'p', pipelineUuid: 'test-pipeline', startedAt: 5000 });
    expect(payloads[2]).toEqual({ runId: 'r', jobId: 'j', projectId: 'p', stepId: 'a', status: 'SUCCESS', attempts: 1, startedAt: 5000, finishedAt: 5000, durationMs: 0 });
    expect(payloads[5]).toMatchObject({ status: RunStatus.SUCCESS, durationMs: 0, result });
  });

  it('contains listener errors (thrown or rejected) and reports them to the logger; unsubscribe works', async () => {
    const logger = recordingLogger();
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    const executor = new RunExecutor({
      stepExecutors: new FunctionStepExecutor({ functions: { a: () => undefined } }),
      logStore: new MemoryLogStore(),
      workRoot: await tempDir(),
      logger,
    });
    let calls = 0;
    executor.on('step:started', () => {
      throw new Error('listener bug');
    });
    executor.on('step:finished', async () => {
      throw new Error('async listener bug');
    });
    const off = executor.on('run:started', () => void calls++);
    off();
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: await makeProject({}) } });
    await new Promise((r) => setImmediate(r));
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(calls).toBe(0);
    expect(logger.errors.map(([, f]) => [f?.event, (f?.error as Error).message])).toEqual([
      ['step:started', 'listener bug'],
      ['step:finished', 'async listener bug'],
    ]);
  });

  it('the result is plain JSON data', async () => {
    const p = pipeline({ steps: [{ uuid: 'a' }, { uuid: 'b' }] });
    const executor = new RunExecutor({
      stepExecutors: new FunctionStepExecutor({
        functions: {
          a: ({ log }) => log('hi'),
          b: () => {
            throw new Error('x');
          },
        },
      }),
      logStore: new MemoryLogStore(),
      workRoot: await tempDir(),
      failurePolicy: 'continue',
    });
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: await makeProject({}) } });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(result.steps.b!.history[0]).toMatchObject({ attempt: 1, status: 'FAILURE', error: { code: 'STEP_ERROR', message: 'x' } });
  });
});

describe('RunExecutor: bad input changes nothing', () => {
  async function fresh(extra: Partial<RunExecutorOptions> = {}) {
    const workRoot = `${await tempDir()}/not-yet`;
    const logStore = new MemoryLogStore();
    const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: {} }), logStore, workRoot, ...extra });
    const events: string[] = [];
    executor.on('run:started', () => void events.push('run:started'));
    return { executor, workRoot, logStore, events };
  }

  const p = pipeline({ parameters: { x: 1 }, steps: [{ uuid: 'a', parameters: { k: 1 } }] });
  const base = async (): Promise<RunRequest> => ({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: await makeProject({}) } });

  const cases: Array<[string, (r: RunRequest) => RunRequest, string, string, new (...a: never[]) => PipelineJobsError]> = [
    ['a run id with a slash', (r) => ({ ...r, runId: '../x' }), 'RUN_INVALID_REQUEST', 'runId', ExecutionError],
    ['an empty project id', (r) => ({ ...r, projectId: '' }), 'RUN_INVALID_REQUEST', 'projectId', ExecutionError],
    ['parameters of an unknown step', (r) => ({ ...r, parameters: { pipeline: {}, steps: { ghost: {} } } }), 'RUN_INVALID_REQUEST', 'parameters.steps.ghost', ExecutionError],
    ['parameters that are not objects', (r) => ({ ...r, parameters: { pipeline: [] as never, steps: {} } }), 'RUN_INVALID_REQUEST', 'parameters.pipeline', ExecutionError],
    ['a reserved env name', (r) => ({ ...r, env: { ORCHEST_STEP_UUID: 'spoof' } }), 'RUN_RESERVED_ENV', 'env.ORCHEST_STEP_UUID', ExecutionError],
    ['a non-string env value', (r) => ({ ...r, env: { N: 1 as never } }), 'RUN_INVALID_ENV', 'env.N', ExecutionError],
    ['an env name with =', (r) => ({ ...r, env: { 'A=B': 'x' } }), 'RUN_INVALID_ENV', 'env["A=B"]', ExecutionError],
    ['a missing directory', (r) => ({ ...r, source: { directory: '/nonexistent/dir' } }), 'RUN_INVALID_REQUEST', 'source.directory', ExecutionError],
    ['a bad override', (r) => ({ ...r, options: { maxParallelism: 0 } }), 'OPTIONS_INVALID', 'request.options.maxParallelism', OptionsError],
    ['a bad step override', (r) => ({ ...r, options: { steps: { a: { timeoutMs: -1 } } } }), 'OPTIONS_INVALID', 'request.options.steps.a.timeoutMs', OptionsError],
    ['an escaping output pattern', (r) => ({ ...r, options: { outputs: ['../secret'] } }), 'OPTIONS_INVALID', 'request.options.outputs[0]', OptionsError],
    [
      'a cyclic pipeline',
      (r) => ({ ...r, pipeline: cyclic(p) }),
      'PIPELINE_CYCLE',
      'pipeline.steps.a.incoming_connections',
      PipelineError,
    ],
    ['an escaping pipeline path', (r) => ({ ...r, pipeline: { ...p, path: '../p.orchest' } }), 'RUN_INVALID_REQUEST', 'pipeline.path', ExecutionError],
  ];

  for (const [what, change, code, path, type] of cases) {
    it(`refuses ${what} (${code} at ${path}) before creating anything`, async () => {
      const { executor, workRoot, logStore, events } = await fresh();
      const err = await executor.execute(change(await base())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect(err).toMatchObject({ code, path });
      expect(existsSync(workRoot)).toBe(false);
      expect(logStore.keys()).toEqual([]);
      expect(events).toEqual([]);
      expect(executor.activeRuns).toEqual([]);
    });
  }

  it('refuses an unknown snapshot id (NotFoundError) without materializing', async () => {
    const { executor, workRoot } = await fresh();
    const snapshots = new TestDirectorySnapshots(await tempDir());
    const err = await executor.execute({ ...(await base()), source: { snapshots, snapshotId: 'nope' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'SNAPSHOT_NOT_FOUND', path: 'source.snapshotId', value: 'nope' });
    expect(snapshots.materializeCalls).toBe(0);
    expect(existsSync(workRoot)).toBe(false);
  });

  it('refuses bad constructor options with OptionsError naming the option', () => {
    const ok = { stepExecutors: new FunctionStepExecutor({ functions: {} }), logStore: new MemoryLogStore(), workRoot: '/tmp/x' };
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ workRoot: '' }, 'options.workRoot'],
      [{ logStore: {} }, 'options.logStore'],
      [{ stepExecutors: 42 }, 'options.stepExecutors'],
      [{ stepExecutors: { local: {} } }, 'options.stepExecutors.local'],
      [{ maxParallelism: 1.5 }, 'options.maxParallelism'],
      [{ failurePolicy: 'sometimes' }, 'options.failurePolicy'],
      [{ retries: -1 }, 'options.retries'],
      [{ retries: { limit: 1, factor: 0.5 } }, 'options.retries.factor'],
      [{ stepTimeoutMs: 0 }, 'options.stepTimeoutMs'],
      [{ gracePeriodMs: Number.NaN }, 'options.gracePeriodMs'],
      [{ keepWorkingCopy: 'sometimes' }, 'options.keepWorkingCopy'],
      [{ envAllowList: ['*'] }, 'options.envAllowList'],
      [{ maxLogBytes: 0 }, 'options.maxLogBytes'],
      [{ logOverflow: 'explode' }, 'options.logOverflow'],
    ];
    for (const [change, path] of bad) {
      let err: unknown;
      try {
        new RunExecutor({ ...ok, ...change } as RunExecutorOptions);
      } catch (e) {
        err = e;
      }
      expect(err, path).toBeInstanceOf(OptionsError);
      expect(err, path).toMatchObject({ code: 'OPTIONS_INVALID', path });
    }
  });

  it('does not mutate the options object it was given', () => {
    const options = Object.freeze({
      stepExecutors: new FunctionStepExecutor({ functions: {} }),
      logStore: new MemoryLogStore(),
      workRoot: '/tmp/x',
      envAllowList: Object.freeze(['LC_*']),
    });
    expect(() => new RunExecutor(options as RunExecutorOptions)).not.toThrow();
  });
});

function cyclic(p: Pipeline): Pipeline {
  const [a] = p.steps;
  return { ...p, steps: [{ ...a!, incoming_connections: ['a'] }] };
}
