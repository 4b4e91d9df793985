/**
 * The contract every `StepExecutor` must pass (see the port's "Must hold" list), as a
 * vitest suite an integrator runs against their own executor:
 *
 * @example
 * import { describeStepExecutorContract, shellContractSteps } from 'pipeline-jobs/testing';
 * describeStepExecutorContract('my container executor', () => ({ executor: new MyExecutor(), prepare: shellContractSteps }));
 */
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../clock.js';
import { PipelineJobsError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { Pipeline, PipelineStep } from '../pipeline/model.js';
import { buildRunEnvironment, stepEnvironment } from '../run/step-environment.js';
import type { StepContext, StepExecutor, StepInvocation, StepOutcome, StepProcessInfo } from '../run/step-executor.js';

/**
 * What a contract step program does. Each is a small program (or function) the subject
 * provides through `prepare`:
 * - `succeed`: prints `out:<PIPELINE_JOBS_STEP_ID>` to stdout and `err:<CONTRACT_VAR>` to stderr; exits 0.
 * - `fail`: exits with code 3 (or throws).
 * - `params`: prints `params:<PIPELINE_JOBS_STEP_PARAMETERS>`.
 * - `cwd`: prints `cwd:<its working directory, symlinks resolved>`.
 * - `write-file`: writes `written` to `contract-output.txt` in its working directory.
 * - `hang`: prints `ready`, then waits forever (a graceful stop ends it).
 * - `ignore-term`: prints `ready`, ignores SIGTERM, waits forever (only a forced stop ends it).
 * - `flood`: prints 2 MiB of `x` to stdout, then `flood-end` to stderr; exits 0.
 */
export type ContractBehaviour = 'succeed' | 'fail' | 'params' | 'cwd' | 'write-file' | 'hang' | 'ignore-term' | 'flood';

/** What the suite needs from the executor under test. */
export interface StepExecutorContractSubject {
  readonly executor: StepExecutor;
  /** Writes (or registers) the program for `behaviour` in `projectDir`; returns its `file_path` (relative). */
  prepare(behaviour: ContractBehaviour, projectDir: string): string | Promise<string>;
  close?(): void | Promise<void>;
}

/** Options of {@link describeStepExecutorContract}. */
export interface StepExecutorContractOptions {
  /** The grace period given to the executor. @default 500 */
  gracePeriodMs?: number;
}

/** POSIX shell programs for the contract (`.sh` files): for executors that run shell scripts. */
export async function shellContractSteps(behaviour: ContractBehaviour, projectDir: string): Promise<string> {
  const scripts: Record<ContractBehaviour, string> = {
    succeed: 'echo "out:$PIPELINE_JOBS_STEP_ID"\necho "err:$CONTRACT_VAR" >&2\n',
    fail: 'echo failing\nexit 3\n',
    params: 'printf "params:%s\\n" "$PIPELINE_JOBS_STEP_PARAMETERS"\n',
    cwd: 'echo "cwd:$(pwd -P)"\n',
    'write-file': 'echo written > contract-output.txt\n',
    hang: 'echo ready\nwhile :; do sleep 1; done\n',
    'ignore-term': "trap '' TERM\necho ready\nwhile :; do sleep 1; done\n",
    flood: "head -c 2097152 /dev/zero | tr '\\0' x\necho flood-end >&2\n",
  };
  const rel = `contract/${behaviour}.sh`;
  await mkdir(path.join(projectDir, 'contract'), { recursive: true });
  await writeFile(path.join(projectDir, rel), scripts[behaviour]);
  return rel;
}

const TRICKY_PARAMETERS = Object.freeze({ quote: `it's "quoted"`, shell: '$(touch pwned); `id` && rm -rf ~', unicode: 'grüße ✓', n: 3, nested: { a: [1, null] } });

interface Harness {
  readonly outcome: Promise<StepOutcome>;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly context: StepContext;
  readonly controller: AbortController;
  readonly processes: StepProcessInfo[];
  /** Resolves when stdout contains `text`. */
  waitFor(text: string): Promise<void>;
}

/**
 * Declares the contract suite for a step executor. `factory` is called once per suite;
 * `close` is called after it.
 */
export function describeStepExecutorContract(
  name: string,
  factory: () => StepExecutorContractSubject | Promise<StepExecutorContractSubject>,
  options: StepExecutorContractOptions = {},
): void {
  const gracePeriodMs = options.gracePeriodMs ?? 500;
  describe(`StepExecutor contract: ${name}`, () => {
    let subject: StepExecutorContractSubject;
    const dirs: string[] = [];
    beforeAll(async () => {
      subject = await factory();
    });
    afterAll(async () => {
      await subject?.close?.();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    });

    async function start(behaviour: ContractBehaviour | { file: string }, stepId = 'contract-step', signal?: AbortSignal): Promise<Harness> {
      const projectDir = await mkdtemp(path.join(os.tmpdir(), 'pj-contract-'));
      const artifactsDir = await mkdtemp(path.join(os.tmpdir(), 'pj-contract-artifacts-'));
      dirs.push(projectDir, artifactsDir);
      const filePath = typeof behaviour === 'string' ? await subject.prepare(behaviour, projectDir) : behaviour.file;
      const step: PipelineStep = {
        uuid: stepId,
        title: stepId,
        file_path: filePath,
        incoming_connections: [],
        environment: '',
        parameters: TRICKY_PARAMETERS,
        parameterOrder: Object.keys(TRICKY_PARAMETERS),
      };
      const pipeline: Pipeline = {
        uuid: 'contract-pipeline',
        name: 'contract',
        parameters: {},
        parameterOrder: [],
        settings: {},
        services: {},
        steps: [step],
        source: {},
        path: '',
        warnings: [],
      };
      const file = path.join(projectDir, filePath);
      const runEnv = buildRunEnvironment({
        hostEnv: process.env,
        allowList: [],
        jobEnv: { CONTRACT_VAR: 'contract-value' },
        runId: 'contract-run',
        projectId: 'contract-project',
        pipelineUuid: pipeline.uuid,
        pipelineFile: path.join(projectDir, 'contract.orchest'),
        pipelineParameters: {},
      });
      const controller = new AbortController();
      if (signal?.aborted) controller.abort(signal.reason);
      else signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const waiters: Array<() => void> = [];
      const bytes = (chunk: string | Uint8Array): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
      const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8');
      const processes: StepProcessInfo[] = [];
      const context: StepContext = {
        signal: controller.signal,
        stdout: {
          write: (c) => {
            out.push(bytes(c));
            for (const w of waiters.splice(0)) w();
          },
        },
        stderr: { write: (c) => void err.push(bytes(c)) },
        cwd: path.dirname(file),
        workDir: projectDir,
        artifactsDir,
        env: stepEnvironment(runEnv, stepId, TRICKY_PARAMETERS),
        gracePeriodMs,
        clock: new SystemClock(),
        logger: silentLogger,
        recordProcess: (info) => void processes.push(info),
      };
      const invocation: StepInvocation = {
        runId: 'contract-run',
        projectId: 'contract-project',
        pipeline,
        step,
        attempt: 1,
        parameters: TRICKY_PARAMETERS,
        pipelineParameters: {},
        filePath: file,
      };
      const outcome = Promise.resolve().then(() => subject.executor.run(invocation, context));
      outcome.catch(() => undefined); // observed by each test; this only prevents an unhandled rejection warning
      const waitFor = async (wanted: string): Promise<void> => {
        while (!text(out).includes(wanted)) {
          const settled = await Promise.race([new Promise<'more'>((r) => waiters.push(() => r('more'))), outcome.then(() => 'ended' as const, () => 'ended' as const)]);
          if (settled === 'ended' && !text(out).includes(wanted)) {
            throw new Error(`the step ended without printing ${JSON.stringify(wanted)}; stdout: ${text(out)}; stderr: ${text(err)}`);
          }
        }
      };
      return { outcome, stdout: () => text(out), stderr: () => text(err), context, controller, processes, waitFor };
    }

    const succeeded = (o: StepOutcome): boolean => (o.exitCode === undefined || o.exitCode === null || o.exitCode === 0) && !o.signal;
    /** Whether the attempt failed: rejected, or resolved with a non-zero exit or a signal. */
    const failed = async (p: Promise<StepOutcome>): Promise<boolean> => p.then((o) => !succeeded(o), () => true);

    it('a succeeding step resolves as success; stdout and stderr reach their writers; it sees context.env', async () => {
      const h = await start('succeed', 'step-ok');
      const outcome = await h.outcome;
      expect(succeeded(outcome)).toBe(true);
      expect(h.stdout()).toBe('out:step-ok\n');
      expect(h.stderr()).toContain('err:contract-value\n');
    });

    it('a failing step is a failure (non-zero exit, signal, or rejection)', async () => {
      const h = await start('fail');
      expect(await failed(h.outcome)).toBe(true);
    });

    it('parameters reach the step intact, without a shell interpreting them', async () => {
      const h = await start('params');
      expect(succeeded(await h.outcome)).toBe(true);
      const line = h.stdout().split('\n').find((l) => l.startsWith('params:'));
      expect(JSON.parse(line!.slice(7))).toEqual(TRICKY_PARAMETERS);
    });

    it('the step runs in context.cwd and can write into the working copy', async () => {
      const h = await start('cwd');
      expect(succeeded(await h.outcome)).toBe(true);
      expect(h.stdout()).toContain(`cwd:${await realpath(h.context.cwd)}\n`);
      const w = await start('write-file');
      expect(succeeded(await w.outcome)).toBe(true);
      expect(await readFile(path.join(w.context.cwd, 'contract-output.txt'), 'utf8')).toBe('written\n');
    });

    it('an aborted signal stops a running step; run() settles and it is not a success', async () => {
      const h = await start('hang');
      await h.waitFor('ready');
      h.controller.abort();
      expect(await failed(h.outcome)).toBe(true);
    });

    it('a step that ignores the graceful stop is stopped by force after the grace period', async () => {
      const h = await start('ignore-term');
      await h.waitFor('ready');
      h.controller.abort();
      expect(await failed(h.outcome)).toBe(true);
    });

    it('an already aborted signal means the step does not start', async () => {
      const h = await start('write-file', 'never', AbortSignal.abort());
      await h.outcome.catch(() => undefined); // rejecting is allowed here; what matters is that nothing ran
      await expect(stat(path.join(h.context.cwd, 'contract-output.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a flood of output arrives complete and in order (the step is never blocked)', async () => {
      const h = await start('flood');
      expect(succeeded(await h.outcome)).toBe(true);
      expect(h.stdout()).toBe('x'.repeat(2 * 1024 * 1024));
      expect(h.stderr()).toContain('flood-end');
    });

    it('a step whose file is missing rejects with a library error (a stable code)', async () => {
      const h = await start({ file: 'contract/does-not-exist.sh' });
      const error = await h.outcome.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PipelineJobsError);
      expect((error as PipelineJobsError).code).toMatch(/^STEP_/);
    });

    it('concurrent steps do not mix their output', async () => {
      const [a, b, c] = await Promise.all([start('succeed', 'one'), start('succeed', 'two'), start('succeed', 'three')]);
      await Promise.all([a!.outcome, b!.outcome, c!.outcome]);
      expect([a!.stdout(), b!.stdout(), c!.stdout()]).toEqual(['out:one\n', 'out:two\n', 'out:three\n']);
    });
  });
}
