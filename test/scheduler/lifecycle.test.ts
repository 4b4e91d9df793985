import { describe, expect, it } from 'vitest';
import { JobStateError, NotFoundError } from '../../src/errors.js';
import type { JobScheduler } from '../../src/scheduler/index.js';
import { JobStatus } from '../../src/status.js';
import { gate, harness, makeProject, type Harness } from './harness.js';

type State = 'DRAFT' | 'PENDING' | 'STARTED' | 'PAUSED' | 'SUCCESS' | 'FAILURE' | 'ABORTED';
type Kind = 'one-off' | 'cron';

/** Puts a job in `state`; a gated step keeps STARTED one-off jobs running. */
async function jobIn(h: Harness, state: State, kind: Kind, hold: Promise<void>): Promise<string> {
  const projectDir = makeProject();
  const base = { name: `${state}-${kind}`, projectDir, pipeline: 'main.orchest' };
  const s: JobScheduler = h.scheduler;
  const cron = { type: 'cron' as const, cron: '0 * * * *' };
  switch (state) {
    case 'DRAFT':
      return (await s.createJob({ ...base, draft: true, schedule: kind === 'cron' ? cron : { type: 'at', at: h.clock.now() + 3_600_000 } })).id;
    case 'PENDING':
      return (await s.createJob({ ...base, schedule: { type: 'at', at: h.clock.now() + 3_600_000 } })).id;
    case 'STARTED':
      if (kind === 'cron') return (await s.createJob({ ...base, schedule: cron })).id;
      {
        const job = await s.createJob({ ...base, options: { failurePolicy: 'fail-fast' } });
        expect(job.status).toBe(JobStatus.STARTED);
        void hold;
        return job.id;
      }
    case 'PAUSED': {
      const job = await s.createJob({ ...base, schedule: cron });
      await s.pauseJob(job.id);
      return job.id;
    }
    case 'SUCCESS':
    case 'FAILURE': {
      const job = await s.createJob({ ...base, name: state === 'FAILURE' ? 'fail' : 'ok' });
      const done = await s.waitForJob(job.id);
      expect(done.status).toBe(state);
      return job.id;
    }
    case 'ABORTED': {
      const job = await s.createJob({ ...base, draft: true });
      await s.cancelJob(job.id);
      return job.id;
    }
  }
}

const ACTIONS = ['confirm', 'update', 'pause', 'resume', 'trigger', 'cancel', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** The lifecycle table of SEMANTICS.md: the outcome of each action in each state. */
const TABLE: Record<State, Record<Action, (kind: Kind) => string>> = {
  DRAFT: {
    confirm: (k) => (k === 'cron' ? 'STARTED' : 'PENDING'),
    update: () => 'ok',
    pause: () => 'error',
    resume: () => 'error',
    trigger: () => 'error',
    cancel: () => 'ABORTED',
    delete: () => 'deleted',
  },
  PENDING: {
    confirm: () => 'error',
    update: () => 'ok',
    pause: () => 'error',
    resume: () => 'error',
    trigger: () => 'batch',
    cancel: () => 'ABORTED',
    delete: () => 'deleted',
  },
  STARTED: {
    confirm: () => 'error',
    update: () => 'ok',
    pause: (k) => (k === 'cron' ? 'PAUSED' : 'error'),
    resume: (k) => (k === 'cron' ? 'STARTED' : 'error'),
    trigger: () => 'batch',
    cancel: () => 'ABORTED',
    delete: () => 'error',
  },
  PAUSED: {
    confirm: () => 'error',
    update: () => 'ok',
    pause: () => 'PAUSED',
    resume: () => 'STARTED',
    trigger: () => 'batch',
    cancel: () => 'ABORTED',
    delete: () => 'error',
  },
  SUCCESS: endRow(),
  FAILURE: endRow(),
  ABORTED: endRow(),
};

function endRow(): Record<Action, () => string> {
  return { confirm: () => 'error', update: () => 'error', pause: () => 'error', resume: () => 'error', trigger: () => 'error', cancel: () => 'error', delete: () => 'deleted' };
}

const CELLS: Array<[State, Kind, Action]> = [];
for (const state of Object.keys(TABLE) as State[]) {
  for (const kind of ['one-off', 'cron'] as Kind[]) {
    if (kind === 'cron' && (state === 'PENDING' || state === 'SUCCESS' || state === 'FAILURE')) continue; // no such cron states here
    if (kind === 'one-off' && state === 'PAUSED') continue; // a one-off job is never paused
    for (const action of ACTIONS) CELLS.push([state, kind, action]);
  }
}

describe('the lifecycle table', () => {
  it.each(CELLS)('%s %s job: %s', async (state, kind, action) => {
    const hold = gate();
    const h = await harness({
      functions: {
        a: async (ctx) => {
          if (ctx.pipeline.name === 'main' && ctx.runId && state === 'STARTED' && kind === 'one-off') await hold.promise;
          if ((await jobName(h, ctx.jobId!)) === 'fail') throw new Error('boom');
        },
      },
    });
    const id = await jobIn(h, state, kind, hold.promise);
    const before = await h.storage.getJob(id);
    const expected = TABLE[state][action](kind);
    const s = h.scheduler;
    const act = async (): Promise<unknown> => {
      switch (action) {
        case 'confirm':
          return s.confirmJob(id);
        case 'update':
          return s.updateJob(id, { name: 'renamed' });
        case 'pause':
          return s.pauseJob(id);
        case 'resume':
          return s.resumeJob(id);
        case 'trigger':
          return s.triggerJob(id);
        case 'cancel':
          return s.cancelJob(id);
        case 'delete':
          return s.deleteJob(id);
      }
    };
    if (expected === 'error') {
      const err = await act().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(JobStateError);
      expect((err as JobStateError).code).toBe('JOB_ACTION_NOT_ALLOWED');
      expect(await h.storage.getJob(id)).toEqual(before); // no state changed
    } else if (expected === 'deleted') {
      await act();
      expect(await s.getJob(id)).toBeUndefined();
      await expect(s.cancelJob(id)).rejects.toBeInstanceOf(NotFoundError);
    } else if (expected === 'batch') {
      const batches = before!.batchCount;
      const r = (await act()) as { batchIndex: number };
      expect(r.batchIndex).toBe(batches);
      const after = await s.getJob(id);
      expect(after!.status).toBe(state); // trigger now leaves the state (PAUSED stays PAUSED)
      expect(after!.schedule).toEqual(before!.schedule); // and the schedule as it is
    } else if (expected === 'ok') {
      await act();
      expect((await s.getJob(id))!.name).toBe('renamed');
    } else {
      await act();
      const after = await s.getJob(id);
      expect(after!.status).toBe(expected);
      if (expected === 'ABORTED') expect(after!.finishedAt).not.toBeNull();
    }
    hold.open();
  });
});

async function jobName(h: Harness, jobId: string): Promise<string | undefined> {
  return (await h.storage.getJob(jobId))?.name;
}
