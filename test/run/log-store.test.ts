import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { OptionsError } from '../../src/errors.js';
import { FileLogStore, MemoryLogStore, type LogStore } from '../../src/run/index.js';
import { StepLog } from '../../src/run/step-log.js';
import { tempDir } from './helpers.js';

const key = { runId: 'run/1', stepId: '..' };

async function collect(it: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of it) out += chunk;
  return out;
}

const opened: FileLogStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function fileStore(directory: string, pollIntervalMs = 20): FileLogStore {
  const store = new FileLogStore({ directory, pollIntervalMs });
  opened.push(store);
  return store;
}

const stores: Array<[string, () => Promise<LogStore>]> = [
  ['MemoryLogStore', async () => new MemoryLogStore()],
  ['FileLogStore', async () => fileStore(await tempDir())],
];

for (const [name, make] of stores) {
  describe(name, () => {
    it('appends, reads, and tells an unknown log (undefined) from an empty one', async () => {
      const store = await make();
      expect(await store.read(key)).toBeUndefined();
      await store.end({ runId: 'r', stepId: 'silent' });
      expect(await store.read({ runId: 'r', stepId: 'silent' })).toBe('');
      await store.append(key, 'one\n', 'stdout');
      await store.append(key, 'two\n', 'stderr');
      expect(await store.read(key)).toBe('one\ntwo\n');
    });

    it('follow yields what is there, then new appends, and ends with end()', async () => {
      const store = await make();
      await store.append(key, 'a', 'stdout');
      const seen: string[] = [];
      const following = (async () => {
        for await (const chunk of store.follow(key)) {
          seen.push(chunk);
          if (seen.join('') === 'a') await store.append(key, 'b', 'stdout').then(() => store.end(key));
        }
      })();
      await following;
      expect(seen.join('')).toBe('ab');
    });

    it('follow waits for a log that does not exist yet, and stops when its signal aborts', async () => {
      const store = await make();
      const later = { runId: 'r2', stepId: 's' };
      const text = collect(store.follow(later));
      await store.append(later, 'hello', 'stdout');
      await store.end(later);
      expect(await text).toBe('hello');

      const controller = new AbortController();
      const never = collect(store.follow({ runId: 'r3', stepId: 's' }, { signal: controller.signal }));
      controller.abort();
      expect(await never).toBe('');
    });

    it('delete removes every step log of a run and ends followers', async () => {
      const store = await make();
      await store.append({ runId: 'x', stepId: 'a' }, 'A', 'stdout');
      await store.append({ runId: 'x', stepId: 'b' }, 'B', 'stdout');
      await store.append({ runId: 'y', stepId: 'a' }, 'Y', 'stdout');
      const follower = collect(store.follow({ runId: 'x', stepId: 'a' }));
      await store.delete('x');
      expect(await follower).toBe('A');
      expect(await store.read({ runId: 'x', stepId: 'a' })).toBeUndefined();
      expect(await store.read({ runId: 'x', stepId: 'b' })).toBeUndefined();
      expect(await store.read({ runId: 'y', stepId: 'a' })).toBe('Y');
    });
  });
}

describe('FileLogStore specifics', () => {
  it('writes plain text files a user can cat, with URI-encoded names that never escape', async () => {
    const dir = await tempDir();
    const store = fileStore(dir);
    await store.append(key, 'héllo\n', 'stdout');
    await store.end(key);
    expect(store.logPath(key)).toBe(`${dir}/run%2F1/%2E..log`);
    expect(await readFile(store.logPath(key), 'utf8')).toBe('héllo\n');
  });

  it('another store instance (another process) follows by polling and sees the end', async () => {
    const dir = await tempDir();
    const writer = fileStore(dir);
    const reader = fileStore(dir, 10);
    await writer.append(key, 'first ', 'stdout');
    const text = collect(reader.follow(key));
    await writer.append(key, 'second', 'stdout');
    await writer.end(key);
    expect(await text).toBe('first second');
  });

  it('refuses bad options', () => {
    expect(() => new FileLogStore({ directory: '' })).toThrow(OptionsError);
    expect(() => new FileLogStore({ directory: '/tmp', pollIntervalMs: 0 })).toThrow(/pollIntervalMs/);
  });
});

describe('StepLog (the per-step writer)', () => {
  it('decodes UTF-8 split across chunks, keeps per-stream order, and ends the log on close', async () => {
    const store = new MemoryLogStore();
    const log = new StepLog(store, key, { maxBytes: 1000, logger: silentLogger });
    const bytes = Buffer.from('héllo wörld\n');
    log.stdout.write(bytes.subarray(0, 2));
    log.stdout.write(bytes.subarray(2, 9));
    log.stdout.write(bytes.subarray(9));
    log.system('done');
    await log.close();
    expect(await store.read(key)).toBe('héllo wörld\n[pipeline-jobs] done\n');
    expect(await collect(store.follow(key))).toBe('héllo wörld\n[pipeline-jobs] done\n');
  });

  it('caps the size with a visible marker, counts what was dropped, and calls onOverflow once', async () => {
    const store = new MemoryLogStore();
    const log = new StepLog(store, key, { maxBytes: 10, logger: silentLogger });
    let overflows = 0;
    log.onOverflow = () => void overflows++;
    log.stdout.write('12345');
    log.stderr.write('67890abc');
    log.stdout.write('more and more');
    await log.close();
    const text = (await store.read(key))!;
    expect(text.startsWith('1234567890\n[pipeline-jobs] log truncated: this step wrote more than 10 bytes')).toBe(true);
    expect(text).toContain('[pipeline-jobs] 16 more bytes of output were dropped');
    expect(log.truncated).toBe(true);
    expect(overflows).toBe(1);
  });

  it('a failing store does not throw into the step; the error is kept and logged once', async () => {
    const errors: unknown[] = [];
    const failing: LogStore = {
      append: async () => {
        throw new Error('disk full');
      },
      end: async () => undefined,
      read: async () => undefined,
      follow: async function* () {},
      delete: async () => undefined,
    };
    const log = new StepLog(failing, key, { maxBytes: 100, logger: { ...silentLogger, error: (_m, f) => void errors.push(f?.error) } });
    log.stdout.write('a');
    await log.flush();
    log.stdout.write('b');
    await log.close();
    expect((log.error as Error).message).toBe('disk full');
    expect(errors).toHaveLength(1);
  });
});

describe('step logs through a run', () => {
  it('are followable while the step runs and complete after, in a FileLogStore', async () => {
    const { RunExecutor, ProcessStepExecutor } = await import('../../src/run/index.js');
    const { makeProject, pipeline, defaults } = await import('./helpers.js');
    const project = await makeProject({ 's.sh': 'echo one\necho err-line >&2\nwhile [ ! -e go ]; do sleep 0.05; done\necho two\n' });
    const p = pipeline({ steps: [{ uuid: 's', file_path: 's.sh' }] });
    const logs = fileStore(await tempDir(), 10);
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: logs, workRoot: await tempDir() });
    let copy = '';
    executor.on('run:started', (e) => void (copy = e.workingCopy));
    const done = executor.execute({ runId: 'live', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    let seen = '';
    for await (const chunk of logs.follow({ runId: 'live', stepId: 's' })) {
      seen += chunk;
      // Still running: it waits for "go", which only this follower creates.
      if (seen.includes('one\n') && seen.includes('err-line\n') && !seen.includes('two')) await writeFile(`${copy}/go`, '');
    }
    const result = await done;
    expect(result.status).toBe('SUCCESS');
    // stdout and stderr are two pipes: their relative order is not defined, each one's is.
    expect(seen.split('\n').slice(0, 2).sort()).toEqual(['err-line', 'one']);
    expect(seen.endsWith('two\n')).toBe(true);
    expect(await logs.read({ runId: 'live', stepId: 's' })).toBe(seen);
    expect(result.steps.s!.log).toEqual({ runId: 'live', stepId: 's' });
  });
});
