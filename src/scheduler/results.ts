import { NotFoundError, OptionsError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { LogStore } from '../run/log-store.js';
import { isEndState } from '../status.js';
import type { Storage, PageRequest } from '../storage/port.js';
import type { BatchRecord, Page } from '../storage/records.js';
import { pageOf } from './queries.js';

/** What reading results needs: the store, the log store and the clock (for follow's polling). */
export interface ResultSources {
  readonly storage: Storage;
  readonly logStore: LogStore;
  readonly clock: Clock;
}

/** Options of `JobScheduler.followLog`. */
export interface FollowLogOptions {
  /** Stops following (the iterable ends without error). @default none (follows until the run ends) */
  signal?: AbortSignal;
  /**
   * How often the run's status is checked, so following ends even for a step that never
   * started (its run was cancelled while PENDING).
   * @default 500
   */
  pollMs?: number;
}

function checkIds(runId: unknown, stepId: unknown): void {
  if (typeof runId !== 'string' || runId === '') throw new OptionsError('OPTIONS_INVALID', 'Expected a run id', { path: 'runId', value: runId });
  if (typeof stepId !== 'string' || stepId === '') throw new OptionsError('OPTIONS_INVALID', 'Expected a step id', { path: 'stepId', value: stepId });
}

async function requireRun(storage: Storage, runId: string) {
  const run = await storage.getRun(runId);
  if (!run) throw new NotFoundError('RUN_NOT_FOUND', `No run with id "${runId}"`, { path: 'runId', value: runId, hint: 'List runs with listRuns(jobId)' });
  return run;
}

/** A step's log as written so far; `undefined` when the step wrote nothing yet. */
export async function readStepLog(src: ResultSources, runId: string, stepId: string): Promise<string | undefined> {
  checkIds(runId, stepId);
  await requireRun(src.storage, runId);
  return src.logStore.read({ runId, stepId });
}

/**
 * A step's log: what was written so far, then each new piece; ends when the step's log
 * ends, or when the run has ended (then with everything its log holds), or on `signal`.
 */
export async function* followStepLog(src: ResultSources, runId: string, stepId: string, options: FollowLogOptions = {}): AsyncIterable<string> {
  checkIds(runId, stepId);
  const pollMs = options.pollMs ?? 500;
  if (!(Number.isFinite(pollMs) && pollMs > 0)) throw new OptionsError('OPTIONS_INVALID', 'Expected `pollMs` to be a finite number > 0', { path: 'options.pollMs', value: pollMs });
  await requireRun(src.storage, runId);
  const key = { runId, stepId };
  const stop = new AbortController();
  const outer = options.signal;
  const onOuter = (): void => stop.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  let runEnded = false;
  let failure: { error: unknown } | undefined;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const watch = (): void => {
    timer = src.clock.setTimeout(() => {
      void src.storage.getRun(runId).then(
        (run) => {
          if (!run || isEndState(run.status)) {
            runEnded = true;
            stop.abort();
          } else if (!stop.signal.aborted) watch();
        },
        // A failing store must not leave the follower hanging: stop, and the error is thrown below.
        (error: unknown) => {
          failure = { error };
          stop.abort();
        },
      );
    }, pollMs);
  };
  watch();
  let yielded = 0;
  try {
    for await (const chunk of src.logStore.follow(key, { signal: stop.signal })) {
      yielded += chunk.length;
      yield chunk;
    }
    if (failure) throw failure.error;
    // Stopped because the run ended: the store's follow may not have caught up with the
    // last appends, so the rest comes from a full read.
    if (runEnded && !outer?.aborted) {
      const all = (await src.logStore.read(key)) ?? '';
      if (all.length > yielded) yield all.slice(yielded);
    }
  } finally {
    if (timer !== undefined) src.clock.clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
    stop.abort();
  }
}

/** One batch of a job. */
export async function getJobBatch(storage: Storage, jobId: string, batchIndex: number): Promise<BatchRecord | undefined> {
  if (!Number.isSafeInteger(batchIndex) || batchIndex < 0) {
    throw new OptionsError('OPTIONS_INVALID', 'Expected `batchIndex` to be an integer >= 0', { path: 'batchIndex', value: batchIndex });
  }
  await requireJob(storage, jobId);
  return storage.getBatch(jobId, batchIndex);
}

/**
 * A job's batches, newest first (`limit` default 50), read one by one from the store by
 * index (0 .. batchCount - 1). `cursor` is the `nextCursor` of the previous page.
 */
export async function listJobBatches(storage: Storage, jobId: string, page: PageRequest = {}): Promise<Page<BatchRecord>> {
  const { limit = 50, cursor } = pageOf(page, 'page');
  const job = await requireJob(storage, jobId);
  let from = job.batchCount - 1;
  if (cursor !== undefined && cursor !== null) {
    const n = /^\d+$/.test(cursor) ? Number(cursor) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw new OptionsError('OPTIONS_INVALID', 'Not a cursor of listBatches', { path: 'page.cursor', value: cursor, hint: 'Pass the `nextCursor` of the previous page' });
    from = Math.min(from, n);
  }
  const items: BatchRecord[] = [];
  let i = from;
  for (; i >= 0 && items.length < limit; i -= 1) {
    const b = await storage.getBatch(jobId, i);
    if (b) items.push(b);
  }
  return { items, nextCursor: i >= 0 ? String(i) : null };
}

async function requireJob(storage: Storage, jobId: string) {
  if (typeof jobId !== 'string' || jobId === '') throw new OptionsError('OPTIONS_INVALID', 'Expected a job id', { path: 'jobId', value: jobId });
  const job = await storage.getJob(jobId);
  if (!job) throw new NotFoundError('JOB_NOT_FOUND', `No job with id "${jobId}"`, { path: 'jobId', value: jobId, hint: 'List jobs with listJobs()' });
  return job;
}
