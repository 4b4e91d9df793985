import { existsSync } from 'node:fs';
import { link, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import { parsePipeline } from '../../src/pipeline/index.js';
import { FunctionStepExecutor, MemoryLogStore, ProcessStepExecutor, RunExecutor, RunStatus, StepStatus, runPipelineDocument, type StepExecutor } from '../../src/run/index.js';
import { TestDirectorySnapshots, defaults, deferred, makeProject, pipeline, tempDir } from './helpers.js';

async function executorWith(stepExecutors: StepExecutor, extra: Record<string, unknown> = {}) {
  const workRoot = await tempDir();
  const logStore = new MemoryLogStore();
  return { executor: new RunExecutor({ stepExecutors, logStore, workRoot, ...extra }), workRoot, logStore };
}

describe('working copies', () => {
  it('each run works on its own copy of the snapshot; the snapshot never changes; the copy is deleted at the end', async () => {
    const project = await makeProject({ 'data.txt': 'original\n', 'steps/mutate.sh': 'cat ../data.txt\necho changed > ../data.txt\nrm -f ../extra.txt\n', 'extra.txt': 'x' });
    const snapshots = new TestDirectorySnapshots(await tempDir());
    const snap = await snapshots.create(project);
    const before = await snapshots.digest(snap.id);
    const p = pipeline({ steps: [{ uuid: 'm', file_path: 'steps/mutate.sh' }] });
    const { executor, workRoot, logStore } = await executorWith(new ProcessStepExecutor());
    for (const runId of ['one', 'two']) {
      const result = await executor.execute({ runId, projectId: 'p', pipeline: p, parameters: defaults(p), source: { snapshots, snapshotId: snap.id } });
      expect(result.status).toBe(RunStatus.SUCCESS);
      // Each run saw the original content: the first run's change did not reach the second.
      expect(await logStore.read({ runId, stepId: 'm' })).toBe('original\n');
      expect(result.workingCopy).toBeUndefined();
      expect(existsSync(path.join(workRoot, 'work', runId))).toBe(false);
    }
    expect(await snapshots.digest(snap.id)).toBe(before);
    expect(await readFile(path.join(project, 'data.txt'), 'utf8')).toBe('original\n');
  });

  it("the run's pipeline file is replaced, not written in place, so hard-linked snapshots stay intact", async () => {
    const text = JSON.stringify({ name: 'p', uuid: 'u', parameters: { a: 1 }, steps: { s: { uuid: 's', title: 's', file_path: 'x.sh', incoming_connections: [], environment: '', parameters: { b: 2 } } } });
    const project = await makeProject({ 'p.orchest': text, 'x.sh': 'cat "$ORCHEST_PIPELINE_PATH"' });
    const root = await tempDir();
    /** TEST DOUBLE: materializes by hard-linking every file of the stored copy, as a content-addressed store may. */
    class HardLinkSnapshots extends TestDirectorySnapshots {
      override async materialize(id: string, target: string): Promise<void> {
        const from = path.join(root, id);
        await mkdir(target, { recursive: true });
        for (const name of await readdir(from)) await link(path.join(from, name), path.join(target, name));
      }
    }
    const snapshots = new HardLinkSnapshots(root);
    const snap = await snapshots.create(project);
    const p = parsePipeline(text, { path: 'p.orchest' });
    const { executor, logStore } = await executorWith(new ProcessStepExecutor());
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p, { pipeline: { a: 99 } }), source: { snapshots, snapshotId: snap.id } });
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(JSON.parse((await logStore.read({ runId: 'r', stepId: 's' }))!).parameters).toEqual({ a: 99 });
    expect(await readFile(path.join(root, snap.id, 'p.orchest'), 'utf8')).toBe(text);
  });

  it("keepWorkingCopy: true keeps it, 'on-failure' keeps only failed runs' copies", async () => {
    const project = await makeProject({});
    const p = pipeline({ steps: [{ uuid: 's' }] });
    const fail = new FunctionStepExecutor({
      functions: {
        s: ({ pipelineParameters }) => {
          if (pipelineParameters.fail) throw new Error('asked to');
        },
      },
    });
    const always = await executorWith(fail, { keepWorkingCopy: true });
    const kept = await always.executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(kept.workingCopy).toBe(path.join(always.workRoot, 'work', 'r'));
    expect(existsSync(kept.workingCopy!)).toBe(true);

    const onFailure = await executorWith(fail, { keepWorkingCopy: 'on-failure' });
    const ok = await onFailure.executor.execute({ runId: 'ok', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    const bad = await onFailure.executor.execute({ runId: 'bad', projectId: 'p', pipeline: p, parameters: { pipeline: { fail: true }, steps: {} }, source: { directory: project } });
    expect(ok.workingCopy).toBeUndefined();
    expect(existsSync(path.join(onFailure.workRoot, 'work', 'ok'))).toBe(false);
    expect(bad.status).toBe(RunStatus.FAILURE);
    expect(existsSync(bad.workingCopy!)).toBe(true);
  });

  it('declared outputs are kept in the artifacts dir (also when the run fails); the rest goes', async () => {
    const project = await makeProject({ 'keep/me.txt': 'no' });
    const p = pipeline({ steps: [{ uuid: 'w' }, { uuid: 'boom', incoming_connections: ['w'] }] });
    const functions = new FunctionStepExecutor({
      functions: {
        w: async ({ workDir }) => {
          await mkdir(path.join(workDir, 'reports/deep'), { recursive: true });
          await writeFile(path.join(workDir, 'reports/a.csv'), 'a');
          await writeFile(path.join(workDir, 'reports/deep/b.csv'), 'b');
          await writeFile(path.join(workDir, 'reports/.hidden.csv'), 'h');
          await writeFile(path.join(workDir, 'scratch.tmp'), 'tmp');
        },
        boom: () => {
          throw new Error('late failure');
        },
      },
    });
    const { executor, workRoot } = await executorWith(functions, { outputs: ['reports/**/*.csv', 'missing/*'] });
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(result.status).toBe(RunStatus.FAILURE);
    const out = path.join(workRoot, 'artifacts', 'r', 'outputs');
    expect(result.artifactsDir).toBe(path.join(workRoot, 'artifacts', 'r'));
    expect(result.outputs).toEqual(['reports/.hidden.csv', 'reports/a.csv', 'reports/deep/b.csv'].map((f) => path.join(out, f)));
    expect(await readFile(path.join(out, 'reports/deep/b.csv'), 'utf8')).toBe('b');
    expect(existsSync(path.join(workRoot, 'work', 'r'))).toBe(false);
  });

  it('a leftover working copy of the same run (an earlier crash) is replaced, with a warning', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => void warnings.push(m) };
    const project = await makeProject({ 'fresh.txt': 'fresh' });
    const p = pipeline({ steps: [{ uuid: 's' }] });
    let seen: string[] = [];
    const { executor, workRoot } = await executorWith(new FunctionStepExecutor({ functions: { s: async ({ workDir }) => void (seen = (await readdir(workDir)).sort()) } }), { logger });
    await mkdir(path.join(workRoot, 'work', 'r'), { recursive: true });
    await writeFile(path.join(workRoot, 'work', 'r', 'stale.txt'), 'stale');
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(seen).toEqual(['.pipeline-jobs', 'fresh.txt']);
    expect(warnings).toEqual(['removing a leftover working copy of this run']);
  });

  it('a working copy that cannot be made fails the run (RUN_WORKSPACE_FAILED); no step runs; every step says why', async () => {
    const snapshots = new TestDirectorySnapshots(await tempDir());
    const snap = await snapshots.create(await makeProject({}));
    snapshots.materialize = async () => {
      throw new Error('object store unreachable');
    };
    let ran = false;
    const p = pipeline({ steps: [{ uuid: 'a' }, { uuid: 'b', incoming_connections: ['a'] }] });
    const { executor, logStore } = await executorWith(new FunctionStepExecutor({ functions: { a: () => void (ran = true), b: () => void (ran = true) } }));
    const finished = deferred<string>();
    executor.on('run:finished', (e) => finished.resolve(e.status));
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { snapshots, snapshotId: snap.id } });
    expect(ran).toBe(false);
    expect(result.status).toBe(RunStatus.FAILURE);
    expect(result.error).toMatchObject({ code: 'RUN_WORKSPACE_FAILED', message: 'object store unreachable' });
    expect(result.steps.a).toMatchObject({ status: StepStatus.ABORTED, attempts: 0, error: { code: 'RUN_WORKSPACE_FAILED' } });
    expect(await logStore.read({ runId: 'r', stepId: 'b' })).toContain('not started: RUN_WORKSPACE_FAILED');
    expect(await finished.promise).toBe(RunStatus.FAILURE);
  });

  it('cancelling while the working copy is made ends the run ABORTED', async () => {
    const snapshots = new TestDirectorySnapshots(await tempDir());
    const snap = await snapshots.create(await makeProject({}));
    const entered = deferred();
    snapshots.materialize = (_id: string, _target: string, options?: { signal?: AbortSignal }) =>
      new Promise<void>((_, reject) => {
        entered.resolve();
        options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      });
    const p = pipeline({ steps: [{ uuid: 'a' }] });
    const { executor } = await executorWith(new FunctionStepExecutor({ functions: { a: () => undefined } }));
    const controller = new AbortController();
    const done = executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { snapshots, snapshotId: snap.id } }, { signal: controller.signal });
    await entered.promise;
    controller.abort();
    const result = await done;
    expect(result.status).toBe(RunStatus.ABORTED);
    expect(result.steps.a).toMatchObject({ status: StepStatus.ABORTED, error: { code: 'STEP_CANCELLED' } });
  });
});

describe('removing what a run left', () => {
  it('removeWorkingCopy and removeArtifacts delete a finished run\'s files; bad ids and active runs are refused', async () => {
    const project = await makeProject({});
    const p = pipeline({ steps: [{ uuid: 'w' }, { uuid: 'hold', incoming_connections: ['w'] }] });
    const gate = deferred();
    const entered = deferred();
    const functions = new FunctionStepExecutor({
      functions: {
        w: async ({ workDir }) => {
          await mkdir(path.join(workDir, 'out'), { recursive: true });
          await writeFile(path.join(workDir, 'out', 'r.txt'), 'r');
        },
        hold: async () => {
          entered.resolve();
          await gate.promise;
        },
      },
    });
    const { executor, workRoot, logStore } = await executorWith(functions, { keepWorkingCopy: true, outputs: ['out/*'] });
    expect(executor.logStore).toBe(logStore);
    const running = executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    await entered.promise;
    await expect(executor.removeWorkingCopy('r')).rejects.toMatchObject({ code: 'RUN_ALREADY_RUNNING' });
    gate.resolve();
    const result = await running;
    expect(existsSync(result.workingCopy!)).toBe(true);
    expect(result.outputs).toEqual([path.join(workRoot, 'artifacts', 'r', 'outputs', 'out', 'r.txt')]);
    await executor.removeWorkingCopy('r');
    await executor.removeArtifacts('r');
    expect(existsSync(result.workingCopy!)).toBe(false);
    expect(existsSync(result.artifactsDir)).toBe(false);
    await expect(executor.removeWorkingCopy('../x')).rejects.toMatchObject({ code: 'RUN_INVALID_REQUEST', path: 'runId' });
  });
});

describe("the run's pipeline document", () => {
  it('replaces parameters only, keeps every other field and key order, and does not touch the source', () => {
    const text = JSON.stringify({ name: 'n', uuid: 'u', parameters: { p: 1 }, extra: [1], steps: { s: { uuid: 's', title: 't', file_path: 'f.py', incoming_connections: [], environment: 'e', parameters: { x: 1 }, unknown: 'kept' } } });
    const p = parsePipeline(text, { path: 'dir/p.orchest' });
    const doc = runPipelineDocument(p, { pipeline: { p: 2 }, steps: { s: { x: 'two' } } });
    expect(doc).toEqual({ name: 'n', uuid: 'u', parameters: { p: 2 }, extra: [1], steps: { s: { uuid: 's', title: 't', file_path: 'f.py', incoming_connections: [], environment: 'e', parameters: { x: 'two' }, unknown: 'kept' } } });
    expect(Object.keys(doc)).toEqual(['name', 'uuid', 'parameters', 'extra', 'steps']);
    expect(p.source.parameters).toEqual({ p: 1 });
  });
});
