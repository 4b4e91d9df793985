import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/errors.js';
import { MemoryStorage } from '../../src/storage/memory/index.js';
import type { Storage } from '../../src/storage/port.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { harness, makeProject } from './harness.js';

const spec = (projectDir: string, extra: object = {}) => ({ name: 'job', projectDir, pipeline: 'main.orchest', ...extra });
const grid = { from: 'spec' as const, spec: { pipeline_parameters: { x: [1, 2, 3, 4] } } };

describe('listRuns: runs with their step states, filters of one value or several, one page shape', () => {
  it('each listed run carries its steps\' states (not an empty list), read once for the page', async () => {
    const clock = new FakeClock('2026-03-01T00:00:00Z');
    const inner = new MemoryStorage({ clock });
    const reads = { one: 0, many: 0 };
    const storage = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const counted = prop === 'getStepStates' ? 'one' : prop === 'getStepStatesOf' ? 'many' : undefined;
        return (...args: unknown[]) => {
          if (counted) reads[counted]++;
          return value.apply(target, args);
        };
      },
    }) as Storage;
    const h = await harness({ storage, functions: { a: () => undefined, b: ({ pipelineParameters }) => { if (pipelineParameters.x === 2) throw new Error('two'); } } });
    const job = await h.scheduler.createJob(spec(makeProject({ steps: { a: [], b: ['a'] }, pipelineParameters: { x: 0 } }), { parameters: grid }));
    await h.scheduler.waitForJob(job.id);
    reads.one = 0;
    reads.many = 0;
    const page = await h.scheduler.listRuns(job.id);
    expect(page.items).toHaveLength(4);
    expect(page.nextCursor).toBeNull();
    for (const run of page.items) {
      expect(run.steps.map((s) => s.stepId).sort()).toEqual(['a', 'b']);
      expect(run.steps).toEqual((await h.scheduler.getRun(run.id))!.steps);
    }
    expect(page.items.find((r) => r.status === 'FAILURE')!.steps.find((s) => s.stepId === 'b')!.status).toBe('FAILURE');
    expect(reads).toEqual({ one: 4, many: 1 }); // the getRun calls above read one each; the page one read
  });

  it('status takes one value or several; bad values are typed errors', async () => {
    const h = await harness({ functions: { a: ({ pipelineParameters }) => { if (pipelineParameters.x === 2) throw new Error('two'); } } });
    const job = await h.scheduler.createJob(spec(makeProject({ pipelineParameters: { x: 0 } }), { parameters: grid }));
    await h.scheduler.waitForJob(job.id);
    expect((await h.scheduler.listRuns(job.id, { status: 'FAILURE' })).items.map((r) => r.parameters.pipeline.x)).toEqual([2]);
    expect((await h.scheduler.listRuns(job.id, { status: ['SUCCESS', 'FAILURE'] })).items).toHaveLength(4);
    expect((await h.scheduler.listRuns(job.id, { status: 'PENDING' })).items).toEqual([]);
    expect((await h.scheduler.listJobs({ status: 'FAILURE' })).items.map((j) => j.id)).toEqual([job.id]);
    expect((await h.scheduler.listJobs({ status: ['SUCCESS', 'STARTED'] })).items).toEqual([]);
    for (const [call, at] of [
      [() => h.scheduler.listRuns(job.id, { status: 'DONE' as never }), 'filter.status'],
      [() => h.scheduler.listRuns(job.id, { status: ['SUCCESS', 'nope'] as never }), 'filter.status[1]'],
      [() => h.scheduler.listRuns(job.id, { status: 3 as never }), 'filter.status'],
      [() => h.scheduler.listRuns(job.id, { batchIndex: -1 }), 'filter.batchIndex'],
      [() => h.scheduler.listRuns(job.id, { limit: 0 }), 'filter.limit'],
      [() => h.scheduler.listJobs({ status: 'RUNNING' as never }), 'filter.status'],
      [() => h.scheduler.listOccurrences(job.id, { limit: 1.5 }), 'page.limit'],
    ] as const) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      expect(err, at).toBeInstanceOf(OptionsError);
      expect(err).toMatchObject({ code: 'OPTIONS_INVALID', path: at });
    }
  });

  it('every listing pages with { limit, cursor } and answers { items, nextCursor }', async () => {
    const h = await harness();
    const job = await h.scheduler.createJob(spec(makeProject({ pipelineParameters: { x: 0 } }), { parameters: grid }));
    await h.scheduler.waitForJob(job.id);
    await h.scheduler.triggerJob(job.id).catch(() => undefined);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await h.scheduler.listRuns(job.id, { limit: 3, cursor });
      expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor']);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe((await h.scheduler.getJob(job.id))!.counters.SUCCESS);
    for (const page of [await h.scheduler.listJobs({ limit: 1 }), await h.scheduler.listBatches(job.id, { limit: 1 }), await h.scheduler.listOccurrences(job.id, { limit: 1 })]) {
      expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor']);
    }
  });
});

describe('previewJob: occurrences with their DST labels, as the pure preview', () => {
  it('a New York 02:30 job over the spring gap: shifted by default, skipped (and marked) with gap skip', async () => {
    const h = await harness({ start: '2026-03-06T12:00:00Z' });
    const projectDir = makeProject();
    const shift = await h.scheduler.createJob(spec(projectDir, { schedule: { type: 'cron', cron: '30 2 * * *', timezone: 'America/New_York' } }));
    const occurrences = await h.scheduler.previewJob(shift.id, 3);
    expect(occurrences.map((o) => [o.wallClock, o.dst ?? null, o.skipped ?? null])).toEqual([
      ['2026-03-07T02:30:00', null, null],
      ['2026-03-08T02:30:00', 'shifted', null], // the schedule's wall-clock time; it runs at 03:30 EDT
      ['2026-03-09T02:30:00', null, null],
    ]);
    expect(occurrences[1]!.time).toBe(Date.parse('2026-03-08T07:30:00Z'));
    const skip = await h.scheduler.createJob(spec(projectDir, { schedule: { type: 'cron', cron: '30 2 * * *', timezone: 'America/New_York', gap: 'skip' } }));
    const withSkips = await h.scheduler.previewJob(skip.id, 3);
    expect(withSkips.map((o) => o.skipped ?? null)).toEqual([null, 'dst', null]);
    expect((await h.scheduler.previewJob(skip.id, 3, { includeSkipped: false })).map((o) => o.wallClock)).toEqual(['2026-03-07T02:30:00', '2026-03-09T02:30:00', '2026-03-10T02:30:00']);
    expect((await h.scheduler.previewJob(skip.id, 1, { from: new Date('2026-03-09T12:00:00Z') })).map((o) => o.wallClock)).toEqual(['2026-03-10T02:30:00']);
    await expect(h.scheduler.previewJob(skip.id, -1)).rejects.toMatchObject({ code: 'OPTIONS_INVALID', path: 'n' });
    await expect(h.scheduler.previewJob(skip.id, Infinity)).rejects.toMatchObject({ code: 'OPTIONS_INVALID', path: 'n' });
    await expect(h.scheduler.previewJob(skip.id, 10_001)).rejects.toMatchObject({ code: 'OPTIONS_INVALID', path: 'n' });
    await expect(h.scheduler.previewJob(skip.id, 1, { from: 'soon' as never })).rejects.toMatchObject({ code: 'OPTIONS_INVALID', path: 'options.from' });
  });
});
