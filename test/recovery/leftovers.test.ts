/**
 * What a dead run leaves (processes, working copy) is found and ended from the run
 * record alone: when the process that recovered the run died before cleaning, and when
 * the step's process identity was never recorded (killed between spawn and record).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeId } from '../../src/run/file-log-store.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { leftoverProcesses, makeScheduler, stackPaths, writeProject } from './fixtures/stack.js';

const dirs: string[] = [];
const markers: string[] = [];
afterAll(() => {
  // A failed assertion must not leave the simulated leftovers running.
  for (const m of markers) {
    for (const line of leftoverProcesses(m)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      if (pid > 0) process.kill(pid, 'SIGKILL');
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A process as a dead scheduler's step would have left it: its own session, reparented
 * away from this test (so no zombie of ours stays), with the run's variables, never recorded.
 */
function startLeftover(runId: string, attempt: number, marker: string): void {
  execFileSync('setsid', ['-f', 'bash', '-c', `exec -a pjcrash-${marker} sleep 120`], {
    env: { PATH: process.env.PATH, PIPELINE_JOBS_RUN_ID: runId, PIPELINE_JOBS_RUN_ATTEMPT: String(attempt) },
    stdio: 'ignore',
  });
}

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await pause(20);
  }
}

/** A stack with a one-run job whose run a dead process claimed (attempt 1), its lease already expired. */
async function deadRun(options: { rerun: boolean; step?: (p: ReturnType<typeof stackPaths>) => string; leaseMs?: number }) {
  const root = mkdtempSync(path.join(tmpdir(), 'pj-leftover-'));
  dirs.push(root);
  const p = stackPaths(root);
  writeProject(p, 1);
  if (options.step) writeFileSync(path.join(p.project, 'step.sh'), options.step(p));
  const marker = randomBytes(6).toString('hex');
  markers.push(marker);
  const storage: Storage = new MemoryStorage();
  await storage.init();
  const creator = makeScheduler(storage, p);
  const job = await creator.createJob({
    name: 'dead', projectDir: p.project, pipeline: 'main.orchest', schedule: { type: 'now' },
    env: { job: { PJ_LEDGER: p.ledger, PJ_MARKER: marker, PJ_JOB: 'dead', PJ_LONG: '0' } },
    ...(options.rerun ? { options: { onInterrupted: 'rerun' as const } } : {}),
  });
  const [run] = await storage.claimRuns({ owner: 'dead-host:1:x', limit: 1, leaseMs: options.leaseMs ?? 1 });
  expect(run).toBeDefined();
  await pause(5);
  return { p, marker, storage, job, run: run! };
}

describe('leftovers of a dead run', () => {
  it('are ended and removed by the next scheduler when the recovering process died before cleaning up', async () => {
    const { p, marker, storage, run } = await deadRun({ rerun: false });
    startLeftover(run.id, 1, marker);
    const copy = path.join(p.work, 'work', encodeId(run.id));
    mkdirSync(copy, { recursive: true });
    writeFileSync(path.join(copy, 'half-written.txt'), 'x');
    // The recovering process recorded the end, then was killed: nothing of its cleanup happened.
    const recovered = await storage.recoverExpiredRuns(() => false, Date.now());
    expect(recovered.map((r) => r.outcome)).toEqual(['failed']);
    await until('the leftover shows up', () => leftoverProcesses(marker).length === 1);

    const next = makeScheduler(storage, p);
    const errors: unknown[] = [];
    next.on('scheduler:error', ({ error }) => errors.push(error));
    await next.start();
    await next.stop();
    expect(leftoverProcesses(marker)).toEqual([]);
    expect(existsSync(copy)).toBe(false);
    expect(errors).toEqual([]);
    expect((await storage.getRun(run.id))!).toMatchObject({ status: 'FAILURE', reason: 'interrupted' });
  }, 60_000);

  it('of an unrecorded step process are ended before the run is re-run (onInterrupted: rerun)', async () => {
    // The re-run's step writes how many of the earlier attempt's processes were still there when it started.
    const seenOf = (p: ReturnType<typeof stackPaths>): string => path.join(p.root, 'seen.txt');
    const { p, marker, storage, run } = await deadRun({
      rerun: true,
      step: (p) => `ps -eo args | grep -c "^pjcrash-$PJ_MARKER" >> ${JSON.stringify(seenOf(p))}; echo "attempt $PIPELINE_JOBS_RUN_ATTEMPT" >> ${JSON.stringify(seenOf(p))}\n`,
    });
    // Killed between spawn and recording: the run has no process info at all.
    expect(run.processInfo).toBeNull();
    startLeftover(run.id, 1, marker);
    await until('the leftover shows up', () => leftoverProcesses(marker).length === 1);
    const next = makeScheduler(storage, p);
    await next.start();
    const ended = await next.waitForRun(run.id);
    await next.stop();
    expect(ended.status).toBe('SUCCESS');
    expect(leftoverProcesses(marker)).toEqual([]);
    expect(readFileSync(seenOf(p), 'utf8')).toBe('0\nattempt 2\n');
  }, 60_000);

  it('of a run another process still holds are left alone (same attempt, lease current)', async () => {
    const { p, marker, storage, run } = await deadRun({ rerun: false, leaseMs: 600_000 });
    startLeftover(run.id, 1, marker);
    await until('the process shows up', () => leftoverProcesses(marker).length === 1);
    const next = makeScheduler(storage, p);
    await next.start();
    await next.stop();
    // Still running: storage says that very attempt is STARTED with a live lease.
    expect(leftoverProcesses(marker)).toHaveLength(1);
    expect((await storage.getRun(run.id))!.status).toBe('STARTED');
  }, 60_000);
});
