import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor, type StepFunction } from '../../src/run/index.js';
import { JobScheduler, type JobSchedulerOptions } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A temporary directory removed after the test. */
export function tempDir(prefix = 'pj-sched-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A project with one pipeline `main.orchest` of the given steps (uuid -> incoming) and parameters. */
export function makeProject(options: {
  steps?: Record<string, string[]>;
  pipelineParameters?: Record<string, unknown>;
  stepParameters?: Record<string, Record<string, unknown>>;
  parametersFile?: string;
} = {}): string {
  const dir = tempDir('pj-project-');
  const steps = options.steps ?? { a: [] };
  const doc = {
    name: 'main',
    uuid: 'main-uuid',
    version: '1.0.0',
    parameters: options.pipelineParameters ?? {},
    settings: {},
    steps: Object.fromEntries(
      Object.entries(steps).map(([uuid, incoming]) => [
        uuid,
        { uuid, title: uuid, file_path: `${uuid}.py`, incoming_connections: incoming, environment: '', parameters: options.stepParameters?.[uuid] ?? {} },
      ]),
    ),
  };
  writeFileSync(path.join(dir, 'main.orchest'), JSON.stringify(doc, null, 2));
  for (const uuid of Object.keys(steps)) writeFileSync(path.join(dir, `${uuid}.py`), '# run in-process by the test\n');
  if (options.parametersFile !== undefined) writeFileSync(path.join(dir, 'main.parameters.json'), options.parametersFile);
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  return dir;
}

export interface Harness {
  clock: FakeClock;
  storage: Storage;
  scheduler: JobScheduler;
  snapshots: SnapshotStore;
  logs: MemoryLogStore;
  executor: RunExecutor;
  /** Starts another scheduler on the same storage (a restart after a crash or downtime). */
  restart(extra?: Partial<JobSchedulerOptions>): Promise<JobScheduler>;
}

/** A scheduler on a FakeClock, in-memory storage, a real SnapshotStore and function steps. */
export async function harness(options: {
  functions?: Record<string, StepFunction>;
  start?: string;
  storage?: Storage;
  scheduler?: Partial<JobSchedulerOptions>;
} = {}): Promise<Harness> {
  const clock = new FakeClock(options.start ?? '2026-03-01T00:00:00Z');
  const root = tempDir('pj-store-');
  const snapshots = new SnapshotStore({ root: path.join(root, 'snapshots'), clock });
  const logs = new MemoryLogStore();
  const functions = options.functions ?? { a: () => undefined };
  const executor = new RunExecutor({
    stepExecutors: new FunctionStepExecutor({ functions }),
    logStore: logs,
    workRoot: path.join(root, 'runs'),
    clock,
  });
  const storage = options.storage ?? new MemoryStorage({ clock });
  const make = (extra: Partial<JobSchedulerOptions> = {}): JobScheduler =>
    new JobScheduler({ storage, snapshots, executor, clock, concurrency: 4, ...options.scheduler, ...extra });
  const scheduler = make();
  await scheduler.start();
  const live = [scheduler];
  cleanups.push(async () => {
    for (const s of live) await s.stop({ mode: 'cancel' });
  });
  return {
    clock,
    storage,
    scheduler,
    snapshots,
    logs,
    executor,
    async restart(extra) {
      const next = make(extra);
      live.push(next);
      await next.start();
      return next;
    },
  };
}

/** A promise with its resolve function, for steps the test releases. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Waits (in real time, polling) until `predicate` holds: for work that crosses real I/O
 * (working copies on disk) while the fake clock stands still. Fails after `timeoutMs`.
 */
export async function until(predicate: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
