/**
 * A step writing into a log store that fails (disk full, permission): the failure is
 * recorded (onLogError decides fail or warn, never silent), followers end, no file
 * handle stays open. With a failing store double, and for real on a 1 MiB tmpfs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/errors.js';
import {
  FileLogStore,
  FunctionStepExecutor,
  MemoryLogStore,
  ProcessStepExecutor,
  RunExecutor,
  type LogKey,
  type LogStream,
  type RunExecutorOptions,
  type RunRequest,
} from '../../src/run/index.js';
import { defaults, makeProject, pipeline, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

/** A MemoryLogStore whose appends fail with ENOSPC once a log holds `capacity` bytes. */
class FullLogStore extends MemoryLogStore {
  readonly ended: string[] = [];
  readonly #capacity: number;
  readonly #sizes = new Map<string, number>();

  constructor(capacity: number) {
    super();
    this.#capacity = capacity;
  }

  override async append(key: LogKey, text: string, stream?: LogStream): Promise<void> {
    const k = `${key.runId}/${key.stepId}`;
    const size = (this.#sizes.get(k) ?? 0) + Buffer.byteLength(text);
    if (size > this.#capacity) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    this.#sizes.set(k, size);
    await super.append(key, text, stream);
  }

  override async end(key: LogKey): Promise<void> {
    this.ended.push(`${key.runId}/${key.stepId}`);
    await super.end(key);
  }
}

/** A step function that writes 4 MiB in 64 KiB chunks, letting appends happen in between. */
async function writeFourMiB({ stdout }: { stdout: { write: (s: string) => void } }): Promise<void> {
  const chunk = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 64; i++) {
    stdout.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function setup(logStore: MemoryLogStore | FileLogStore, options: Partial<RunExecutorOptions> = {}) {
  const p = pipeline({ steps: [{ uuid: 'a', file_path: 'a.py' }] });
  const executor = new RunExecutor({
    stepExecutors: new FunctionStepExecutor({ functions: { a: writeFourMiB as never } }),
    logStore,
    workRoot: await tempDir(),
    ...options,
  });
  const request: RunRequest = { runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: await makeProject({ 'a.py': '' }) } };
  return { executor, request };
}

/** Follows a log to its end; resolves what it read. */
async function followAll(store: MemoryLogStore | FileLogStore, key: LogKey): Promise<string> {
  let text = '';
  for await (const chunk of store.follow(key)) text += chunk;
  return text;
}

describe('a log store that fails while a step writes', () => {
  it('by default fails the step with STEP_LOG_FAILED (the run FAILURE) and ends the log for followers', async () => {
    const store = new FullLogStore(MiB);
    const { executor, request } = await setup(store);
    const following = followAll(store, { runId: 'r', stepId: 'a' });
    const result = await executor.execute(request);
    expect(result.status).toBe('FAILURE');
    expect(result.steps.a).toMatchObject({ status: 'FAILURE', error: { code: 'STEP_LOG_FAILED' }, logError: { code: 'STEP_LOG_FAILED' } });
    expect(result.steps.a!.error!.message).toContain('ENOSPC');
    expect(result.error!.message).toContain('STEP_LOG_FAILED');
    expect(store.ended).toEqual(['r/a']);
    expect((await following).length).toBeLessThanOrEqual(MiB);
  });

  it('with onLogError: warn lets the step succeed and records the error in its result', async () => {
    const store = new FullLogStore(MiB);
    const { executor, request } = await setup(store, { onLogError: 'warn' });
    const following = followAll(store, { runId: 'r', stepId: 'a' });
    const result = await executor.execute(request);
    expect(result.status).toBe('SUCCESS');
    expect(result.steps.a!.status).toBe('SUCCESS');
    expect(result.steps.a!.error).toBeUndefined();
    expect(result.steps.a!.logError).toMatchObject({ code: 'STEP_LOG_FAILED' });
    await following;
    expect(store.ended).toEqual(['r/a']);
  });

  it('refuses an unknown onLogError', async () => {
    const err = await setup(new MemoryLogStore(), { onLogError: 'loud' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect(err).toMatchObject({ code: 'OPTIONS_INVALID', path: 'options.onLogError', value: 'loud' });
  });
});

/**
 * A real full disk: a FileLogStore on a 1 MiB tmpfs. Mounting needs CAP_SYS_ADMIN (root in
 * most CI containers); where the kernel refuses, the test is skipped loudly, and under
 * CI=true it fails when running as root (a root CI job that cannot mount is a broken setup).
 */
const mountPoint = path.join(process.env.TMPDIR ?? '/tmp', `pj-full-${process.pid}`);
let mounted = false;
let mountError = '';
beforeAll(() => {
  if (process.platform !== 'linux') {
    mountError = 'not Linux';
    return;
  }
  mkdirSync(mountPoint, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    mountError = String((error as { stderr?: Buffer }).stderr ?? error).trim();
    console.warn(`SKIPPED: the real full-disk log test needs a 1 MiB tmpfs, and mounting it failed: ${mountError}`);
  }
});
afterAll(() => {
  // Lazy: a file a failed assertion left open must not keep the mount (and this folder) around.
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  if (process.platform === 'linux') rmdirSync(mountPoint);
});

describe('a FileLogStore on a full disk (1 MiB tmpfs)', () => {
  it('a step writing 4 MiB fails with STEP_LOG_FAILED, its follower ends, no file stays open', async (t) => {
    if (!mounted) {
      if (process.env.CI === 'true' && process.getuid?.() === 0) throw new Error(`running as root under CI but a tmpfs could not be mounted: ${mountError}`);
      t.skip();
      return;
    }
    const store = new FileLogStore({ directory: mountPoint, pollIntervalMs: 20 });
    const p = pipeline({ steps: [{ uuid: 's', file_path: 's.sh' }] });
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: store, workRoot: await tempDir(), gracePeriodMs: 2_000 });
    const project = await makeProject({ 's.sh': "head -c 4194304 /dev/zero | tr '\\0' x\n" });
    const following = followAll(store, { runId: 'full', stepId: 's' });
    const result = await executor.execute({ runId: 'full', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(result.status).toBe('FAILURE');
    expect(result.steps.s).toMatchObject({ status: 'FAILURE', error: { code: 'STEP_LOG_FAILED' } });
    expect(result.steps.s!.error!.message).toMatch(/ENOSPC|no space/i);
    const text = await following;
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(MiB);
    // No descriptor of this process points into the full file system any more.
    const open = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // closed while we listed
        throw error;
      }
    });
    expect(open.filter((target) => target.startsWith(mountPoint))).toEqual([]);
    await store.delete('full');
  }, 60_000);
});
