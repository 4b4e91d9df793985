import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor, RunStatus, StepStatus } from '../../src/run/index.js';
import { Gates, deferred, fnRequest as request, fnSetup as setup, makeProject, pipeline, tempDir } from './helpers.js';

describe('RunExecutor: cancellation', () => {
  it('cancelling stops running steps and skips pending ones; the run is ABORTED', async () => {
    const gates = new Gates();
    const p = pipeline({ steps: [{ uuid: 'a' }, { uuid: 'b', incoming_connections: ['a'] }] });
    const { executor, project, workRoot } = await setup({ a: ({ signal }) => gates.pass('a', signal), b: () => undefined });
    const controller = new AbortController();
    const done = executor.execute(request(p, project), { signal: controller.signal });
    await gates.started('a');
    expect(executor.activeRuns).toEqual(['run-1']);
    controller.abort();
    const result = await done;
    expect(result.status).toBe(RunStatus.ABORTED);
    expect(result.error?.code).toBe('RUN_CANCELLED');
    expect(result.steps.a).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_CANCELLED' } });
    expect(result.steps.b).toMatchObject({ status: StepStatus.ABORTED, attempts: 0 });
    expect(executor.activeRuns).toEqual([]);
    expect(existsSync(`${workRoot}/work/run-1`)).toBe(false);
  });

  it('an already aborted signal runs nothing', async () => {
    let ran = false;
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    const { executor, project } = await setup({
      a: () => {
        ran = true;
      },
    });
    const result = await executor.execute(request(p, project), { signal: AbortSignal.abort() });
    expect(ran).toBe(false);
    expect(result.status).toBe(RunStatus.ABORTED);
    expect(result.steps.a).toMatchObject({ status: StepStatus.ABORTED, attempts: 0, error: { code: 'STEP_CANCELLED' } });
  });

  it('close() cancels the active runs and waits for them', async () => {
    const gates = new Gates();
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    const { executor, project } = await setup({ a: ({ signal }) => gates.pass('a', signal) });
    const done = executor.execute(request(p, project));
    await gates.started('a');
    await executor.close();
    expect((await done).status).toBe(RunStatus.ABORTED);
  });

  it('a step function that ignores its signal is given up on after the grace period', async () => {
    const clock = new FakeClock(0);
    const never = deferred();
    const entered = deferred();
    const p = pipeline({ steps: [{ uuid: 'stubborn' }] });
    const { executor, project, logStore } = await setup(
      {
        stubborn: async () => {
          entered.resolve();
          await never.promise;
        },
      },
      { clock, gracePeriodMs: 3000 },
    );
    const controller = new AbortController();
    const done = executor.execute(request(p, project), { signal: controller.signal });
    await entered.promise;
    controller.abort();
    await clock.advance(3000);
    const result = await done;
    expect(result.steps.stubborn).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_CANCELLED' } });
    expect(await logStore.read({ runId: 'run-1', stepId: 'stubborn' })).toContain('did not return within the grace period');
    never.resolve();
  });

  it('an executor that never settles after the stop is given up on (STEP_UNRESPONSIVE), never a hang', async () => {
    const clock = new FakeClock(0);
    const entered = deferred();
    const p = pipeline({ steps: [{ uuid: 'x' }] });
    const workRoot = await tempDir();
    const project = await makeProject({});
    const logStore = new MemoryLogStore();
    const executor = new RunExecutor({
      stepExecutors: {
        run: () => {
          entered.resolve();
          return new Promise(() => undefined);
        },
      },
      logStore,
      workRoot,
      clock,
      gracePeriodMs: 1000,
      settleTimeoutMs: 2000,
    });
    const controller = new AbortController();
    const done = executor.execute(request(p, project), { signal: controller.signal });
    await entered.promise;
    controller.abort();
    await clock.advance(2999);
    let settled = false;
    void done.then(() => (settled = true));
    await clock.flush();
    expect(settled).toBe(false);
    await clock.advance(1);
    const result = await done;
    expect(result.steps.x!.status).toBe(StepStatus.ABORTED);
    expect(await logStore.read({ runId: 'run-1', stepId: 'x' })).toContain('did not stop within 3000 ms');
  });
});

describe('RunExecutor: choosing executors', () => {
  it('picks by environment id, then by the pinned kind, then "*"; no match is STEP_NO_EXECUTOR', async () => {
    const seen: Record<string, string> = {};
    const tag = (name: string) => new FunctionStepExecutor({ functions: { a: () => void (seen.a = name), b: () => void (seen.b = name), c: () => void (seen.c = name) } });
    const p = pipeline({
      steps: [
        { uuid: 'a', environment: 'env-special' },
        { uuid: 'b', environment: 'env-sbx' },
        { uuid: 'c', environment: 'env-other' },
      ],
    });
    const workRoot = await tempDir();
    const project = await makeProject({});
    const pinned = (id: string, kind: string) => ({ id, kind, resolvedAt: 0 });
    const environments = { 'env-sbx': pinned('env-sbx', 'sandbox'), 'env-other': pinned('env-other', 'image') };
    const withFallback = new RunExecutor({
      stepExecutors: { 'env-special': tag('by-id'), sandbox: tag('by-kind'), '*': tag('fallback') },
      logStore: new MemoryLogStore(),
      workRoot,
    });
    const ok = await withFallback.execute(request(p, project, { environments }));
    expect(ok.status).toBe(RunStatus.SUCCESS);
    expect(seen).toEqual({ a: 'by-id', b: 'by-kind', c: 'fallback' });

    const strict = new RunExecutor({ stepExecutors: { sandbox: tag('by-kind') }, logStore: new MemoryLogStore(), workRoot, failurePolicy: 'continue' });
    const bad = await strict.execute(request(p, project, { runId: 'run-2', environments }));
    expect(bad.steps.a).toMatchObject({ status: StepStatus.FAILURE, attempts: 0, error: { code: 'STEP_NO_EXECUTOR' } });
    expect(bad.steps.b!.status).toBe(StepStatus.SUCCESS);

    const chosen = new RunExecutor({ stepExecutors: (step) => (step.uuid === 'c' ? tag('chooser') : undefined), logStore: new MemoryLogStore(), workRoot, failurePolicy: 'continue' });
    const viaFn = await chooseRun(chosen, p, project);
    expect(viaFn.steps.c!.status).toBe(StepStatus.SUCCESS);
    expect(seen.c).toBe('chooser');
    expect(viaFn.steps.a!.error?.code).toBe('STEP_NO_EXECUTOR');
  });
});

function chooseRun(executor: RunExecutor, p: ReturnType<typeof pipeline>, project: string) {
  return executor.execute(request(p, project, { runId: 'run-3' }));
}

describe('RunExecutor: concurrent runs', () => {
  it('refuses a second execution of the same run id while the first runs', async () => {
    const gates = new Gates();
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    const { executor, project, workRoot } = await setup({ a: ({ signal }) => gates.pass('a', signal) });
    const first = executor.execute(request(p, project));
    await gates.started('a');
    const err = await executor.execute(request(p, project)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionError);
    expect(err).toMatchObject({ code: 'RUN_ALREADY_RUNNING', path: 'runId' });
    expect(existsSync(`${workRoot}/work/run-1`)).toBe(true);
    gates.open('a');
    expect((await first).status).toBe(RunStatus.SUCCESS);
  });
});
