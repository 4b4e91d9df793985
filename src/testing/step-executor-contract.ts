/**
 * The contract every `StepExecutor` must pass (see the port's "Must hold" list), as a
 * vitest suite an integrator runs against their own executor:
 *
 * @example
 * import { describeStepExecutorContract, shellContractSteps } from 'pipeline-jobs/testing/contracts';
 * describeStepExecutorContract('my container executor', () => ({ executor: new MyExecutor(), prepare: shellContractSteps }));
 */
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
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
  /** The executor under test. */
  readonly executor: StepExecutor;
  /** Writes (or registers) the program for `behaviour` in `projectDir`; returns its `file_path` (relative). */
  prepare(behaviour: ContractBehaviour, projectDir: string): string | Promise<string>;
  /** Called once after the suite, to release what the factory made. @default none */
  close?(): void | Promise<void>;
}

/** Options of {@link describeStepExecutorContract}. */
export interface StepExecutorContractOptions {
  /** The grace period given to the executor. @default 500 */
  gracePeriodMs?: number;
  /**
   * How long the suite waits for `run()` to settle once the step should be over (ended,
   * stopped, or unable to start), before it reports that `run()` never settles.
   * @default 10_000
   */
  settleTimeoutMs?: number;
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
 * `close` is called after it. A broken rule fails its test with a
 * {@link StepExecutorContractError} that names the rule and shows what `run()` returned and
 * what the step printed.
 */
export function describeStepExecutorContract(
  name: string,
  factory: () => StepExecutorContractSubject | Promise<StepExecutorContractSubject>,
  options: StepExecutorContractOptions = {},
): void {
  const gracePeriodMs = options.gracePeriodMs ?? 500;
  const settleTimeoutMs = options.settleTimeoutMs ?? 10_000;
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

    /** Waits for the attempt; a broken rule is reported with what `run()` returned and what the step printed. */
    async function settle(h: Harness): Promise<Settled> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), gracePeriodMs + settleTimeoutMs);
      });
      const settled = await Promise.race([
        h.outcome.then(
          (outcome): Settled => ({ outcome, h }),
          (error: unknown): Settled => ({ error, h }),
        ),
        late,
      ]);
      clearTimeout(timer);
      if (settled === 'late') {
        broken(
          'run() settles: it resolves or rejects once the step is over, also when it cannot start (an error event of a spawned process must reject, not vanish)',
          `run() neither resolved nor rejected within ${gracePeriodMs + settleTimeoutMs} ms`,
          h,
        );
      }
      return settled;
    }

    /** The rule and the evidence, so a failing suite says what to fix (not `expected false to be true`). */
    function expectSuccess(s: Settled, rule: string): StepOutcome {
      if ('error' in s) broken(rule, `run() rejected: ${describeError(s.error)}`, s.h);
      if (!succeeded(s.outcome)) broken(rule, `run() resolved ${describeOutcome(s.outcome)}, which is a failure (success: exitCode absent or 0, no signal)`, s.h);
      return s.outcome;
    }

    function expectFailure(s: Settled, rule: string): void {
      if ('outcome' in s && succeeded(s.outcome)) {
        const hint =
          s.outcome.exitCode === null
            ? ' A process ended by a signal has no exit code: return its signal too (`close` and `exit` give (code, signal)).'
            : '';
        broken(rule, `run() resolved ${describeOutcome(s.outcome)}, which counts as a success.${hint}`, s.h);
      }
    }

    it('a succeeding step resolves as success; stdout and stderr reach their writers; it sees context.env', async () => {
      const h = await start('succeed', 'step-ok');
      expectSuccess(await settle(h), 'a step that exits 0 resolves as a success');
      check(h.stdout() === 'out:step-ok\n', 'the step\'s stdout reaches context.stdout, and it sees context.env (PIPELINE_JOBS_STEP_ID)', `stdout was ${JSON.stringify(h.stdout())}, expected "out:step-ok\\n"`, h);
      check(h.stderr().includes('err:contract-value\n'), 'the step\'s stderr reaches context.stderr, and it sees context.env (the job\'s CONTRACT_VAR)', `stderr was ${JSON.stringify(h.stderr())}, expected it to contain "err:contract-value\\n"`, h);
    });

    it('a failing step is a failure (non-zero exit, signal, or rejection)', async () => {
      const h = await start('fail');
      expectFailure(await settle(h), 'a step that exits with code 3 is a failure');
    });

    it('parameters reach the step intact, without a shell interpreting them', async () => {
      const h = await start('params');
      expectSuccess(await settle(h), 'the params step succeeds');
      const line = h.stdout().split('\n').find((l) => l.startsWith('params:'));
      check(line !== undefined, 'the step sees PIPELINE_JOBS_STEP_PARAMETERS from context.env', 'it printed no "params:" line', h);
      let seen: unknown;
      try {
        seen = JSON.parse(line!.slice(7));
      } catch (error) {
        broken('parameters reach the step intact (JSON in PIPELINE_JOBS_STEP_PARAMETERS)', `the step saw ${JSON.stringify(line!.slice(7))}, not JSON: ${describeError(error)}`, h);
      }
      check(
        JSON.stringify(seen) === JSON.stringify(TRICKY_PARAMETERS),
        'parameters reach the step unchanged: values pass through the environment, never through a shell',
        `the step saw ${JSON.stringify(seen)}, expected ${JSON.stringify(TRICKY_PARAMETERS)}`,
        h,
      );
    });

    it('the step runs in context.cwd and can write into the working copy', async () => {
      const h = await start('cwd');
      expectSuccess(await settle(h), 'the cwd step succeeds');
      const cwd = await realpath(h.context.cwd);
      check(h.stdout().includes(`cwd:${cwd}\n`), 'the step runs in context.cwd', `it printed ${JSON.stringify(h.stdout())}, expected "cwd:${cwd}"`, h);
      const w = await start('write-file');
      expectSuccess(await settle(w), 'the write-file step succeeds');
      const written = await readFile(path.join(w.context.cwd, 'contract-output.txt'), 'utf8').catch((e: unknown) => `(not readable: ${describeError(e)})`);
      check(written === 'written\n', 'a file the step writes in its working directory lands in the working copy (context.cwd)', `contract-output.txt holds ${JSON.stringify(written)}`, w);
    });

    it('an aborted signal stops a running step; run() settles and it is not a success', async () => {
      const h = await start('hang');
      await h.waitFor('ready');
      h.controller.abort();
      expectFailure(await settle(h), 'a step stopped because context.signal aborted is not a success');
    });

    it('a step that ignores the graceful stop is stopped by force after the grace period', async () => {
      const h = await start('ignore-term');
      await h.waitFor('ready');
      h.controller.abort();
      expectFailure(await settle(h), `a step that ignores SIGTERM is stopped by force after context.gracePeriodMs (${gracePeriodMs} ms), and that is not a success`);
    });

    it('an already aborted signal means the step does not start', async () => {
      const h = await start('write-file', 'never', AbortSignal.abort());
      await settle(h); // rejecting is allowed here; what matters is that nothing ran
      const ran = await stat(path.join(h.context.cwd, 'contract-output.txt')).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return false;
          throw e;
        },
      );
      check(!ran, 'an already aborted context.signal means: do not start the step', 'the step ran: it wrote contract-output.txt', h);
    });

    it('a flood of output arrives complete and in order (the step is never blocked)', async () => {
      const h = await start('flood');
      expectSuccess(await settle(h), 'a step printing 2 MiB succeeds (its output is read as it comes, never blocking it)');
      const out = h.stdout();
      const expected = 2 * 1024 * 1024;
      check(out.length === expected && /^x*$/.test(out), 'all of a step\'s stdout reaches context.stdout, in order', `got ${out.length} characters${/^x*$/.test(out) ? '' : ' (not only "x")'}, expected ${expected} times "x"`);
      check(h.stderr().includes('flood-end'), 'stderr is delivered too while stdout floods', `stderr was ${JSON.stringify(h.stderr().slice(0, 200))}`);
    });

    it('a step whose file is missing rejects with a library error (a stable code)', async () => {
      const h = await start({ file: 'contract/does-not-exist.sh' });
      const s = await settle(h);
      const rule = 'a step that cannot start (its file is missing) rejects with an ExecutionError whose code starts with STEP_ (not retried)';
      if ('outcome' in s) broken(rule, `run() resolved ${describeOutcome(s.outcome)} instead of rejecting`, h);
      check(s.error instanceof PipelineJobsError, rule, `run() rejected with ${describeError(s.error)}, not an error class of pipeline-jobs (import ExecutionError from the same copy of the package)`, h);
      check(/^STEP_/.test((s.error as PipelineJobsError).code), rule, `its code is ${JSON.stringify((s.error as PipelineJobsError).code)}`, h);
    });

    it('concurrent steps do not mix their output', async () => {
      const [a, b, c] = await Promise.all([start('succeed', 'one'), start('succeed', 'two'), start('succeed', 'three')]);
      for (const h of [a!, b!, c!]) expectSuccess(await settle(h), 'three steps run at once all succeed');
      const outs = [a!.stdout(), b!.stdout(), c!.stdout()];
      check(
        JSON.stringify(outs) === JSON.stringify(['out:one\n', 'out:two\n', 'out:three\n']),
        'steps running at once each write only to their own context.stdout',
        `the three steps' stdout were ${JSON.stringify(outs)}`,
      );
    });
  });
}

/** A settled attempt, with its harness for the evidence. */
type Settled = { readonly outcome: StepOutcome; readonly h: Harness } | { readonly error: unknown; readonly h: Harness };

/** Thrown by the suite: the contract rule broken, and what was seen. */
export class StepExecutorContractError extends Error {
  /** `'StepExecutorContractError'`. */
  override readonly name = 'StepExecutorContractError';
}

function broken(rule: string, seen: string, h?: Harness): never {
  const evidence = h ? `\n  stdout: ${clip(h.stdout())}\n  stderr: ${clip(h.stderr())}` : '';
  throw new StepExecutorContractError(`Contract rule broken: ${rule}.\n  Seen: ${seen}${evidence}`);
}

function check(condition: boolean, rule: string, seen: string, h?: Harness): void {
  if (!condition) broken(rule, seen, h);
}

function describeOutcome(o: StepOutcome): string {
  return JSON.stringify({ exitCode: o.exitCode, signal: o.signal }, (_k, v: unknown) => (v === undefined ? '(absent)' : v));
}

function describeError(e: unknown): string {
  if (e instanceof PipelineJobsError) return `${e.constructor.name} ${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function clip(text: string): string {
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}... (${text.length} characters)` : text);
}
