/**
 * A run's processes are found by the run id and attempt every step process carries,
 * without any record: `RunExecutor.endRunProcesses` and `findLeftovers`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import { MemoryLogStore, ProcessStepExecutor, RunExecutor, listRunProcesses, type RunRequest } from '../../src/run/index.js';
import { defaults, makeProject, pipeline, tempDir, trackProcesses } from './helpers.js';

const linux = process.platform === 'linux';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` holds (no timing assumption: a loaded machine only makes it slower). */
async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await pause(10);
  }
}

/** `runId/attempt` of the live run processes of these runs, sorted, one per process. */
function seen(...runIds: string[]): string[] {
  return listRunProcesses()
    .filter((p) => runIds.includes(p.runId))
    .flatMap((p) => p.pids.map(() => `${p.runId}/${p.attempt}`))
    .sort();
}

/** A process tree as a dead attempt left it: a shell in its own session with a child. */
function leftover(runId: string, attempt: number): { exited: Promise<void> } {
  const child = spawn('bash', ['-c', 'sleep 60 & wait'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, PIPELINE_JOBS_RUN_ID: runId, PIPELINE_JOBS_RUN_ATTEMPT: String(attempt) },
  });
  return { exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

async function executor() {
  const ex = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore: new MemoryLogStore(), workRoot: await tempDir(), gracePeriodMs: 1_000 });
  trackProcesses(ex);
  return ex;
}

describe.skipIf(!linux)('finding a run\'s processes by run id and attempt', () => {
  it('ends the chosen attempts of a run, with their children, and nothing else', async () => {
    const ex = await executor();
    const a1 = leftover('run-x', 1);
    const a2 = leftover('run-x', 2);
    const other = leftover('run-y', 1);
    // Each leftover is a shell and its sleep.
    await until('the leftovers run', () => seen('run-x', 'run-y').length === 6);
    expect(seen('run-x', 'run-y')).toEqual(['run-x/1', 'run-x/1', 'run-x/2', 'run-x/2', 'run-y/1', 'run-y/1']);
    expect((await ex.findLeftovers()).processes.map((p) => `${p.runId}/${p.attempt}`)).toEqual(expect.arrayContaining(['run-x/1', 'run-x/2', 'run-y/1']));

    const report = await ex.endRunProcesses('run-x', { attempts: (a) => a < 2 });
    expect(report.signalled.length).toBe(2); // the shell and its sleep
    await a1.exited;
    await until('attempt 1 is gone', () => !seen('run-x').includes('run-x/1'));
    expect(seen('run-x')).toEqual(['run-x/2', 'run-x/2']);
    await ex.endRunProcesses('run-x');
    await ex.endRunProcesses('run-y');
    await Promise.all([a2.exited, other.exited]);
    expect(seen('run-x', 'run-y')).toEqual([]);
  });

  it('every step process carries the attempt; a run executing here keeps its own attempt\'s processes', async () => {
    const ex = await executor();
    const go = `${await tempDir()}/go`;
    const p = pipeline({ steps: [{ uuid: 's', file_path: 's.sh' }] });
    const request: RunRequest = {
      runId: 'run-z', attempt: 3, projectId: 'p', pipeline: p, parameters: defaults(p),
      env: { GO: go },
      // Waits for the test to let it finish, so it is surely running while leftovers are ended.
      source: { directory: await makeProject({ 's.sh': 'while [ ! -e "$GO" ]; do sleep 0.02; done\necho "attempt $PIPELINE_JOBS_RUN_ATTEMPT"\n' }) },
    };
    const stale = leftover('run-z', 2);
    const running = ex.execute(request);
    await until('both attempts run', () => seen('run-z').includes('run-z/2') && seen('run-z').includes('run-z/3'));
    // Everything of the run is asked for: only the stale attempt goes, the executing one stays.
    await ex.endRunProcesses('run-z');
    await stale.exited;
    expect(seen('run-z').every((x) => x === 'run-z/3')).toBe(true);
    writeFileSync(go, '');
    const result = await running;
    expect(result.status).toBe('SUCCESS');
    expect(await ex.logStore.read({ runId: 'run-z', stepId: 's' })).toContain('attempt 3');
  });

  it('refuses an attempt that is not a positive integer, before anything is created', async () => {
    const ex = await executor();
    const p = pipeline({ steps: [{ uuid: 's', file_path: 's.sh' }] });
    for (const attempt of [0, -1, 1.5, '2']) {
      const err = await ex
        .execute({ runId: 'bad', attempt: attempt as number, projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: await makeProject({ 's.sh': '' }) } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecutionError);
      expect(err).toMatchObject({ code: 'RUN_INVALID_REQUEST', path: 'attempt', value: attempt });
    }
    expect((await ex.findLeftovers()).workingCopies).toEqual([]);
  });
});
