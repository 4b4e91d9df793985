import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/storage/records.js';
import { JobStatus } from '../../src/status.js';
import { gate, harness, makeProject, until, type Harness } from './harness.js';

const MIN = 60_000;
const cronSpec = (projectDir: string, schedule: Record<string, unknown>, extra: object = {}) => ({
  name: 'cron job',
  projectDir,
  pipeline: 'main.orchest',
  schedule: { type: 'cron' as const, cron: '*/10 * * * *', ...schedule },
  ...extra,
});

async function ledger(h: Harness, jobId: string) {
  return (await h.scheduler.listOccurrences(jobId)).items.map((r) => ({ action: r.action, reason: r.reason, at: new Date(r.at).toISOString(), count: r.count }));
}

describe('cron jobs', () => {
  it('fire at each occurrence, one batch each, recorded in the ledger', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(cronSpec(makeProject(), {}));
    expect(job.status).toBe(JobStatus.STARTED);
    await h.clock.advance(30 * MIN);
    await h.scheduler.onIdle();
    const j = (await h.scheduler.getJob(job.id))!;
    expect(j.batchCount).toBe(3);
    expect(j.counters.SUCCESS).toBe(3);
    expect(await ledger(h, job.id)).toEqual([
      { action: 'started', reason: null, at: '2026-03-01T00:10:00.000Z', count: 1 },
      { action: 'started', reason: null, at: '2026-03-01T00:20:00.000Z', count: 1 },
      { action: 'started', reason: null, at: '2026-03-01T00:30:00.000Z', count: 1 },
    ]);
    expect((await h.scheduler.previewJob(job.id, 2)).map((o) => o.time)).toEqual([Date.parse('2026-03-01T00:40:00Z'), Date.parse('2026-03-01T00:50:00Z')]);
  });

  it('an occurrence found within the lateness threshold runs; a later one is missed', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(cronSpec(makeProject(), { lateness: 60_000, missed: 'skip' }));
    await h.scheduler.stop();
    await h.clock.advance(10 * MIN + 59_000); // down through 00:10, back 59 s late
    const s2 = await h.restart();
    await s2.onIdle();
    expect((await ledger(h, job.id)).map((r) => r.action)).toEqual(['started']);
    await s2.stop();
    await h.clock.advance(10 * MIN + 2_000); // 00:20 found 61 s late: missed
    const s3 = await h.restart();
    await s3.onIdle();
    expect((await ledger(h, job.id)).slice(1)).toEqual([{ action: 'skipped', reason: 'missed', at: '2026-03-01T00:20:00.000Z', count: 1 }]);
  });

  it.each([
    ['skip', [{ action: 'skipped', reason: 'missed', at: '2026-03-01T00:10:00.000Z', count: 6 }]],
    [
      'latest',
      [
        { action: 'skipped', reason: 'missed', at: '2026-03-01T00:10:00.000Z', count: 5 },
        { action: 'started', reason: null, at: '2026-03-01T01:00:00.000Z', count: 1 },
      ],
    ],
    [
      { policy: 'all', cap: 2 },
      [
        { action: 'skipped', reason: 'missed', at: '2026-03-01T00:10:00.000Z', count: 4 },
        { action: 'started', reason: null, at: '2026-03-01T00:50:00.000Z', count: 1 },
        { action: 'started', reason: null, at: '2026-03-01T01:00:00.000Z', count: 1 },
      ],
    ],
  ])('missed policy %j after downtime', async (missed, expected) => {
    const h = await harness();
    const job = await h.scheduler.createJob(cronSpec(makeProject(), { missed }));
    await h.scheduler.stop();
    await h.clock.advance(65 * MIN); // 00:10 .. 01:00 missed (6 occurrences)
    const s2 = await h.restart();
    await s2.onIdle();
    expect(await ledger(h, job.id)).toEqual(expected);
  });

  it('occurrences while paused are skipped as one record and never caught up', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(cronSpec(makeProject(), {}));
    await h.clock.advance(10 * MIN);
    await h.scheduler.pauseJob(job.id);
    await h.clock.advance(30 * MIN);
    await h.scheduler.resumeJob(job.id);
    await h.clock.advance(10 * MIN);
    await h.scheduler.onIdle();
    expect(await ledger(h, job.id)).toEqual([
      { action: 'started', reason: null, at: '2026-03-01T00:10:00.000Z', count: 1 },
      { action: 'skipped', reason: 'paused', at: '2026-03-01T00:20:00.000Z', count: 3 },
      { action: 'started', reason: null, at: '2026-03-01T00:50:00.000Z', count: 1 },
    ]);
  });

  it('runs on the DST-shifted instant: 02:30 in New York on spring-forward day runs at 03:30 EDT', async () => {
    const h = await harness({ start: '2026-03-08T06:00:00Z' });
    const job = await h.scheduler.createJob(cronSpec(makeProject(), { cron: '30 2 * * *', timezone: 'America/New_York' }));
    await h.clock.advanceTo('2026-03-08T08:00:00Z');
    await h.scheduler.onIdle();
    expect(await ledger(h, job.id)).toEqual([{ action: 'started', reason: null, at: '2026-03-08T07:30:00.000Z', count: 1 }]);
  });

  it('ends past its endAt, with the status its runs give', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(cronSpec(makeProject(), { endAt: '2026-03-01T00:25:00Z' }));
    await h.clock.advance(30 * MIN);
    const done = await h.scheduler.waitForJob(job.id);
    expect(done.status).toBe(JobStatus.SUCCESS);
    expect(done.batchCount).toBe(2);
  });

  describe('overlap policies, with a run still going when the next occurrence comes', () => {
    async function overlapCase(overlap: string) {
      const hold = gate();
      let started = 0;
      const h = await harness({
        functions: {
          a: async ({ signal }) => {
            started++;
            if (started === 1) await Promise.race([hold.promise, new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))]);
          },
        },
      });
      const job = await h.scheduler.createJob(cronSpec(makeProject(), { overlap }));
      const counters = async () => (await h.scheduler.getJob(job.id))!.counters;
      await h.clock.advance(10 * MIN); // first batch starts and hangs
      // the step function itself must be running (a claimed run may still be making its working copy)
      await until(() => started === 1, 'the first run to start');
      await h.clock.advance(10 * MIN); // second occurrence while the first runs
      // let whatever the second occurrence started finish before the third comes
      await until(async () => (await counters()).PENDING === 0 && (await counters()).STARTED <= 1 && started >= (overlap === 'allow' || overlap === 'cancel-previous' ? 2 : 1), 'the second occurrence to settle');
      await until(async () => overlap !== 'cancel-previous' || (await counters()).STARTED === 0, 'the cancelled run to end');
      await h.clock.advance(10 * MIN); // and a third
      return { h, job, hold, started: () => started };
    }

    it('allow starts beside it', async () => {
      const { h, job, hold } = await overlapCase('allow');
      expect((await ledger(h, job.id)).filter((r) => r.action === 'started')).toHaveLength(3);
      hold.open();
    });

    it('skip records the occurrence as skipped (overlap)', async () => {
      const { h, job, hold } = await overlapCase('skip');
      expect(await ledger(h, job.id)).toEqual([
        { action: 'started', reason: null, at: '2026-03-01T00:10:00.000Z', count: 1 },
        { action: 'skipped', reason: 'overlap', at: '2026-03-01T00:20:00.000Z', count: 2 },
      ]);
      hold.open();
    });

    it('queue buffers one and starts it when the running batch ends; later ones are skipped', async () => {
      const { h, job, hold } = await overlapCase('queue');
      expect((await ledger(h, job.id)).map((r) => [r.action, r.reason, r.at])).toEqual([
        ['started', null, '2026-03-01T00:10:00.000Z'],
        ['skipped', 'overlap', '2026-03-01T00:30:00.000Z'],
      ]);
      hold.open();
      await h.scheduler.onIdle();
      await h.clock.flush();
      await h.scheduler.onIdle();
      expect((await ledger(h, job.id)).map((r) => [r.action, r.reason, r.at])).toEqual([
        ['started', null, '2026-03-01T00:10:00.000Z'],
        ['skipped', 'overlap', '2026-03-01T00:30:00.000Z'],
        ['started', null, '2026-03-01T00:20:00.000Z'],
      ]);
    });

    it('queue: updateJob({ maxRetainedRuns }) with an occurrence buffered works; the buffer is scheduler state, not an option', async () => {
      const { h, job, hold } = await overlapCase('queue');
      const updated = await h.scheduler.updateJob(job.id, { maxRetainedRuns: 1 });
      expect(updated.options).toEqual({ maxRetainedRuns: 1 });
      expect((await h.storage.getJob(job.id))!.bufferedOccurrence).toBe(Date.parse('2026-03-01T00:20:00.000Z'));
      hold.open();
      await h.scheduler.onIdle();
      await h.clock.flush();
      await h.scheduler.onIdle();
      expect((await ledger(h, job.id)).map((r) => [r.action, r.at])).toContainEqual(['started', '2026-03-01T00:20:00.000Z']);
      expect((await h.storage.getJob(job.id))!.bufferedOccurrence).toBeNull();
    });

    it('cancel-previous aborts the running batch, then starts', async () => {
      const { h, job, hold } = await overlapCase('cancel-previous');
      await h.scheduler.onIdle();
      const runs = (await h.scheduler.listRuns(job.id)).items;
      expect(runs[0]).toMatchObject({ batchIndex: 0, status: 'ABORTED', reason: 'overlap' });
      expect(runs.slice(1).map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
      hold.open();
    });
  });

  it('edits apply to batches that start after the edit', async () => {
    const seen: Array<[string | undefined, unknown]> = [];
    const h = await harness({ functions: { a: ({ env, pipelineParameters }) => void seen.push([env.GREETING, pipelineParameters.x]) } });
    const projectDir = makeProject({ pipelineParameters: { x: 1 } });
    const job = await h.scheduler.createJob(cronSpec(projectDir, {}, { env: { job: { GREETING: 'hello' } } }));
    await h.clock.advance(10 * MIN);
    await h.scheduler.onIdle();
    await h.scheduler.updateJob(job.id, { env: { GREETING: 'bonjour' }, parameters: { from: 'spec', spec: '{"pipeline_parameters": {"x": [7, 8]}}' } });
    await h.clock.advance(10 * MIN);
    await h.scheduler.onIdle();
    expect(seen.slice(0, 1)).toEqual([['hello', 1]]);
    expect(seen.slice(1).sort()).toEqual([
      ['bonjour', 7],
      ['bonjour', 8],
    ]);
    const updated = (await h.scheduler.getJob(job.id))!;
    expect(updated.selectedRuns).toBe(2); // a change of parameters resets the selection to all
    expect((updated.schedule as unknown as Record<string, Json>).cron).toBe('*/10 * * * *');
  });
});
