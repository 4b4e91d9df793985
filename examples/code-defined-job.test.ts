/**
 * A job defined entirely in code, tested the way a host application tests its jobs: a
 * nightly cron schedule on a fake clock, function steps, no project directory and no file
 * on disk. Run it with `npx vitest run examples/code-defined-job.test.ts` (after `npm run build`).
 */
import { describe, expect, it } from 'vitest';
import { FunctionStepExecutor, JobScheduler, RunExecutor, definePipeline, type FunctionStepContext } from 'pipeline-jobs';
import { FakeClock, MemoryLogStore, MemoryStorage } from 'pipeline-jobs/testing';

const etl = definePipeline({
  name: 'nightly-etl',
  parameters: { table: 'orders' },
  steps: [{ uuid: 'extract' }, { uuid: 'load', incoming_connections: ['extract'] }],
});

describe('a nightly ETL defined in code', () => {
  it('runs once per night, each run told the day it stands for', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const days: string[] = [];
    const logs = new MemoryLogStore();
    const scheduler = new JobScheduler({
      storage: new MemoryStorage({ clock }),
      executor: new RunExecutor({
        clock,
        logStore: logs,
        workRoot: '.pipeline-jobs/runs', // never created: these runs have no working copy
        stepExecutors: new FunctionStepExecutor({
          functions: {
            // The occurrence, not the clock, says which day to process (Airflow's logical date).
            extract: ({ occurrence, pipelineParameters, log }: FunctionStepContext) => {
              const day = occurrence!.scheduledAt;
              days.push(new Date(day).toISOString().slice(0, 10));
              log(`extracting ${String(pipelineParameters.table)} of ${occurrence!.trigger} day ${new Date(day).toISOString()}`);
            },
            load: ({ env, log }: FunctionStepContext) => log(`loading run ${env.PIPELINE_JOBS_RUN_INDEX}`),
          },
        }),
      }),
      clock,
    });
    await scheduler.start();
    try {
      const job = await scheduler.createJob({
        name: 'nightly',
        pipeline: etl,
        schedule: { type: 'cron', cron: '0 2 * * *', timezone: 'Europe/Berlin' },
      });
      await clock.advance(3 * 24 * 60 * 60_000); // three nights pass, instantly
      await scheduler.onIdle();

      expect(days).toEqual(['2026-03-01', '2026-03-02', '2026-03-03']);
      const runs = (await scheduler.listRuns(job.id)).items;
      expect(runs.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      const firstRun = runs.find((r) => r.runIndex === 0)!;
      expect(await logs.read({ runId: firstRun.id, stepId: 'extract' })).toContain('extracting orders of schedule day 2026-03-01T01:00:00.000Z');
    } finally {
      await scheduler.stop();
    }
  });
});
