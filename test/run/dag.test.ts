import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { RunStatus, StepStatus, type StepFunction } from '../../src/run/index.js';
import { Gates, deferred, fnRequest as request, fnSetup as setup, pipeline } from './helpers.js';

describe('RunExecutor: DAG order and parallelism', () => {
  it('starts a step only after all its incoming steps succeeded; ties in file order', async () => {
    const order: string[] = [];
    const fn: StepFunction = ({ step }) => {
      order.push(step.uuid);
    };
    // d depends on b and c, which depend on a; e is independent; file order: d, c, e, b, a.
    const p = pipeline({
      steps: [
        { uuid: 'd', incoming_connections: ['b', 'c'] },
        { uuid: 'c', incoming_connections: ['a'] },
        { uuid: 'e' },
        { uuid: 'b', incoming_connections: ['a'] },
        { uuid: 'a' },
      ],
    });
    const { executor, project } = await setup({ a: fn, b: fn, c: fn, d: fn, e: fn }, { maxParallelism: 1 });
    const result = await executor.execute(request(p, project));
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(order).toEqual(['e', 'a', 'c', 'b', 'd']);
    expect(Object.keys(result.steps)).toEqual(['d', 'c', 'e', 'b', 'a']);
  });

  it("bounds parallelism by the pipeline's max_steps_parallelism", async () => {
    const gates = new Gates();
    const fn: StepFunction = ({ step, signal }) => gates.pass(step.uuid, signal);
    const p = pipeline({ settings: { max_steps_parallelism: 2 }, steps: [{ uuid: 's1' }, { uuid: 's2' }, { uuid: 's3' }, { uuid: 's4' }] });
    const { executor, project } = await setup({ s1: fn, s2: fn, s3: fn, s4: fn });
    const done = executor.execute(request(p, project));
    await gates.started('s1');
    await gates.started('s2');
    expect(gates.log).toEqual(['start:s1', 'start:s2']);
    gates.open('s2');
    await gates.started('s3');
    expect(gates.log).toEqual(['start:s1', 'start:s2', 'end:s2', 'start:s3']);
    gates.open('s1');
    gates.open('s3');
    gates.open('s4');
    expect((await done).status).toBe(RunStatus.SUCCESS);
    expect(gates.maxRunning).toBe(2);
  });

  it('takes the smaller of the option and the pipeline setting; runs independent steps together when unbounded', async () => {
    const gates = new Gates();
    const fn: StepFunction = ({ step, signal }) => gates.pass(step.uuid, signal);
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const p = pipeline({ settings: { max_steps_parallelism: 4 }, steps: ids.map((uuid) => ({ uuid })) });
    const { executor, project } = await setup(Object.fromEntries(ids.map((id) => [id, fn])));
    const bounded = executor.execute(request(p, project, { options: { maxParallelism: 3 } }));
    await Promise.all(['s1', 's2', 's3'].map((id) => gates.started(id)));
    expect(gates.running).toBe(3);
    ids.forEach((id) => gates.open(id));
    await bounded;
    expect(gates.maxRunning).toBe(3);

    const free = new Gates();
    const fn2: StepFunction = ({ step, signal }) => free.pass(step.uuid, signal);
    const q = pipeline({ steps: ids.map((uuid) => ({ uuid })) });
    const other = await setup(Object.fromEntries(ids.map((id) => [id, fn2])));
    const all = other.executor.execute(request(q, other.project));
    await Promise.all(ids.map((id) => free.started(id)));
    expect(free.running).toBe(5);
    ids.forEach((id) => free.open(id));
    expect((await all).status).toBe(RunStatus.SUCCESS);
  });
});

describe('RunExecutor: failure policy', () => {
  it('fail-fast: the failure stops running steps and pending ones, all ABORTED; the run is FAILURE', async () => {
    const gates = new Gates();
    const p = pipeline({ steps: [{ uuid: 'slow' }, { uuid: 'bad' }, { uuid: 'after', incoming_connections: ['slow'] }] });
    const badGo = deferred();
    const { executor, project, logStore } = await setup({
      slow: ({ signal }) => gates.pass('slow', signal),
      bad: async () => {
        await badGo.promise;
        throw new Error('boom');
      },
      after: () => undefined,
    });
    const done = executor.execute(request(p, project));
    await gates.started('slow');
    badGo.resolve();
    const result = await done;
    expect(result.status).toBe(RunStatus.FAILURE);
    expect(result.error).toMatchObject({ code: 'RUN_STEP_FAILED', path: 'steps.bad' });
    expect(result.steps.bad).toMatchObject({ status: StepStatus.FAILURE, error: { code: 'STEP_ERROR', message: 'boom' }, attempts: 1 });
    expect(result.steps.slow).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_FAIL_FAST' } });
    expect(result.steps.after).toMatchObject({ status: StepStatus.ABORTED, attempts: 0, error: { code: 'STEP_FAIL_FAST' } });
    expect(result.steps.after!.startedAt).toBeUndefined();
    expect(await logStore.read({ runId: 'run-1', stepId: 'bad' })).toContain('STEP_ERROR: boom');
    expect(await logStore.read({ runId: 'run-1', stepId: 'after' })).toContain('not started: STEP_FAIL_FAST');
  });

  it("continue: independent steps still run, the failed step's dependents (transitively) are ABORTED", async () => {
    const ran: string[] = [];
    const ok: StepFunction = ({ step }) => {
      ran.push(step.uuid);
    };
    const p = pipeline({
      steps: [
        { uuid: 'bad' },
        { uuid: 'child', incoming_connections: ['bad'] },
        { uuid: 'grandchild', incoming_connections: ['child'] },
        { uuid: 'free' },
        { uuid: 'free2', incoming_connections: ['free'] },
      ],
    });
    const { executor, project } = await setup(
      {
        bad: () => {
          throw new Error('nope');
        },
        child: ok,
        grandchild: ok,
        free: ok,
        free2: ok,
      },
      { failurePolicy: 'continue' },
    );
    const result = await executor.execute(request(p, project));
    expect(result.status).toBe(RunStatus.FAILURE);
    expect(ran.sort()).toEqual(['free', 'free2']);
    expect(result.steps.free2!.status).toBe(StepStatus.SUCCESS);
    expect(result.steps.child).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_UPSTREAM_FAILED' } });
    expect(result.steps.grandchild).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_UPSTREAM_FAILED' } });
  });
});

describe('RunExecutor: retries and timeouts (FakeClock)', () => {
  it('retries a failed step with exponential backoff on the clock', async () => {
    const clock = new FakeClock(1_000_000);
    let calls = 0;
    const p = pipeline({ steps: [{ uuid: 'flaky' }] });
    const { executor, project, logStore } = await setup(
      {
        flaky: () => {
          calls++;
          if (calls < 3) throw new Error(`fail ${calls}`);
        },
      },
      { clock, retries: { limit: 3, delayMs: 1000, factor: 2 } },
    );
    const retrying: Array<{ attempt: number; delayMs: number }> = [];
    const waits = [deferred(), deferred()];
    executor.on('step:retrying', (e) => {
      retrying.push({ attempt: e.attempt, delayMs: e.delayMs });
      waits[retrying.length - 1]!.resolve();
    });
    const done = executor.execute(request(p, project));
    await waits[0]!.promise;
    expect(calls).toBe(1);
    await clock.advance(999);
    expect(calls).toBe(1);
    await clock.advance(1);
    await waits[1]!.promise;
    expect(calls).toBe(2);
    await clock.advance(2000);
    const result = await done;
    expect(retrying).toEqual([
      { attempt: 1, delayMs: 1000 },
      { attempt: 2, delayMs: 2000 },
    ]);
    expect(result.steps.flaky).toMatchObject({ status: StepStatus.SUCCESS, attempts: 3 });
    expect(result.steps.flaky!.history.map((h) => [h.attempt, h.status, h.startedAt - 1_000_000])).toEqual([
      [1, 'FAILURE', 0],
      [2, 'FAILURE', 1000],
      [3, 'SUCCESS', 3000],
    ]);
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(await logStore.read({ runId: 'run-1', stepId: 'flaky' })).toMatch(/fail 1[\s\S]*retrying in 1000 ms[\s\S]*attempt 2 of 4[\s\S]*attempt 3 of 4/);
  });

  it('gives up after the retry limit; does not retry an ExecutionError; per-step overrides win', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const p = pipeline({ steps: [{ uuid: 'always' }, { uuid: 'missing' }] });
    const { executor, project } = await setup(
      {
        always: () => {
          calls++;
          throw new Error('still failing');
        },
      },
      { clock, retries: 5, failurePolicy: 'continue' },
    );
    executor.on('step:retrying', () => void clock.advance(60_000));
    const result = await executor.execute(request(p, project, { options: { steps: { always: { retries: { limit: 1, delayMs: 10 } } } } }));
    expect(calls).toBe(2);
    expect(result.steps.always).toMatchObject({ status: StepStatus.FAILURE, attempts: 2 });
    expect(result.steps.missing).toMatchObject({ status: StepStatus.FAILURE, attempts: 1, error: { code: 'STEP_FUNCTION_MISSING' } });
  });

  it('a step timeout fails the attempt (STEP_TIMEOUT) and is retried', async () => {
    const clock = new FakeClock(0);
    const p = pipeline({ steps: [{ uuid: 'hang' }] });
    const started: number[] = [];
    const { executor, project } = await setup(
      {
        hang: ({ signal, attempt }) =>
          new Promise((_, reject) => {
            started.push(attempt);
            signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
          }),
      },
      { clock, stepTimeoutMs: 5000, retries: { limit: 1, delayMs: 100 } },
    );
    const first = deferred();
    const second = deferred();
    executor.on('step:started', (e) => (e.attempt === 1 ? first : second).resolve());
    const done = executor.execute(request(p, project));
    await first.promise;
    await clock.advance(5000);
    await clock.advance(100);
    await second.promise;
    await clock.advance(5000);
    const result = await done;
    expect(started).toEqual([1, 2]);
    expect(result.steps.hang).toMatchObject({ status: StepStatus.FAILURE, attempts: 2, error: { code: 'STEP_TIMEOUT' } });
    expect(result.status).toBe(RunStatus.FAILURE);
  });

  it('a run timeout stops everything: running steps ABORTED, run FAILURE with RUN_TIMEOUT', async () => {
    const clock = new FakeClock(0);
    const gates = new Gates();
    const p = pipeline({ steps: [{ uuid: 'a' }, { uuid: 'b', incoming_connections: ['a'] }] });
    const { executor, project } = await setup({ a: ({ signal }) => gates.pass('a', signal), b: () => undefined }, { clock, runTimeoutMs: 60_000 });
    const done = executor.execute(request(p, project));
    await gates.started('a');
    await clock.advance(60_000);
    const result = await done;
    expect(result.status).toBe(RunStatus.FAILURE);
    expect(result.error?.code).toBe('RUN_TIMEOUT');
    expect(result.steps.a).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_RUN_TIMEOUT' } });
    expect(result.steps.b).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_RUN_TIMEOUT' } });
  });
});

