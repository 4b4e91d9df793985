import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionStepExecutor, MemoryLogStore, RunExecutor } from '../../src/run/index.js';
import { JobScheduler } from '../../src/scheduler/index.js';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { makeProject, tempDir, until } from '../scheduler/harness.js';
import { PgServer, pgBinOrSkip } from './pg-server.js';

const bin = pgBinOrSkip();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!bin)('PostgreSQL stopped for 5 s under 50 running runs of a real JobScheduler', () => {
  let server: PgServer;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  beforeAll(async () => {
    server = await PgServer.create(bin!);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterAll(() => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    server?.destroy();
  });

  it('records every run’s real outcome once it is back, runs nothing twice, ends each job right, and never crashes', { timeout: 120_000 }, async () => {
    const storage = new PostgresStorage({ connectionString: server.url(), schema: 'pj_outage', poolSize: 6, connectTimeoutMs: 1_000, queryTimeoutMs: 5_000, reconnectMs: 200 });
    await storage.init();
    const executions = new Map<string, number>();
    let ended = 0;
    let down = false;
    let endedWhileDown = 0;
    // Steps last 0.3-9.1 s, so some end before the outage, many during it, some after.
    const step = async ({ runId, pipelineParameters, signal }: { runId: string; pipelineParameters: Readonly<Record<string, unknown>>; signal: AbortSignal }) => {
      executions.set(runId, (executions.get(runId) ?? 0) + 1);
      const x = Number(pipelineParameters.x);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, 300 + ((x * 7919) % 40) * 220);
        signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
      });
      ended++;
      if (down) endedWhileDown++;
      if (pipelineParameters.fail === true) throw new Error(`step of x=${x} fails, as designed`);
    };
    const root = tempDir('pj-faults-');
    const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: step } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs') });
    const scheduler = new JobScheduler({
      storage, snapshots: new SnapshotStore({ root: path.join(root, 'snapshots') }), executor,
      concurrency: 50, keepAlive: false, leaseMs: 30_000, heartbeatMs: 1_000, pollMs: 500,
    });
    const finished = new Map<string, number>();
    scheduler.on('run:finished', (e) => finished.set(e.runId, (finished.get(e.runId) ?? 0) + 1));
    await scheduler.start();
    const values = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
    const good = makeProject({ steps: { a: [] }, pipelineParameters: { x: 0, fail: false }, parametersFile: JSON.stringify({ pipeline_parameters: { x: values(0, 40) } }) });
    const bad = makeProject({ steps: { a: [] }, pipelineParameters: { x: 0, fail: true }, parametersFile: JSON.stringify({ pipeline_parameters: { x: values(40, 10) } }) });
    const ok = await scheduler.createJob({ name: 'succeeds', projectDir: good, pipeline: 'main.orchest' });
    const ko = await scheduler.createJob({ name: 'fails', projectDir: bad, pipeline: 'main.orchest' });
    await until(() => executions.size === 50, 'all 50 runs to start', 30_000);

    await server.stop('fast');
    down = true;
    const stoppedAt = Date.now();
    await pause(5_000);
    down = false;
    await server.start();
    const outageMs = Date.now() - stoppedAt;

    await until(async () => ['SUCCESS', 'FAILURE'].includes((await storage.getJob(ok.id))!.status) && ['SUCCESS', 'FAILURE'].includes((await storage.getJob(ko.id))!.status), 'both jobs to end', 60_000);
    await scheduler.stop();
    const okRuns = (await storage.listRuns(ok.id)).items;
    const koRuns = (await storage.listRuns(ko.id)).items;
    console.info(`outage ${outageMs} ms; steps that ended during it: ${endedWhileDown} of ${ended}`);
    expect(endedWhileDown).toBeGreaterThan(0);
    expect(okRuns.map((r) => `${r.status}/${r.reason ?? ''}`)).toEqual(okRuns.map(() => 'SUCCESS/'));
    expect(koRuns.map((r) => `${r.status}/${r.reason ?? ''}`)).toEqual(koRuns.map(() => 'FAILURE/failed'));
    expect((await storage.getJob(ok.id))!.status).toBe('SUCCESS');
    expect((await storage.getJob(ko.id))!.status).toBe('FAILURE');
    expect([...executions.values()].filter((n) => n !== 1)).toEqual([]);
    expect([...finished.values()].filter((n) => n !== 1)).toEqual([]);
    expect(finished.size).toBe(50);
    expect((await storage.getJob(ok.id))!.counters).toMatchObject({ PENDING: 0, STARTED: 0, SUCCESS: 40, FAILURE: 0 });
    expect((await storage.getJob(ko.id))!.counters).toMatchObject({ PENDING: 0, STARTED: 0, SUCCESS: 0, FAILURE: 10 });
    await storage.close();
    expect(uncaught).toEqual([]);
  });
});
