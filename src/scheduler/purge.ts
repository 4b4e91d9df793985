import type { LedgerRetention } from '../storage/port.js';
import type { JobRecord } from '../storage/records.js';
import type { SchedulerContext } from './context.js';
import type { JobOptions } from './types.js';

/**
 * Removes the files of runs that retention or a delete removed from storage: artifacts,
 * kept working copies and, unless `keepLogs`, logs (through the executor's `purgeRun`;
 * a runner without it gets its logs deleted only). Runs still executing here are stopped
 * and awaited first by the executor, so nothing of them is recreated afterwards.
 */
export async function purgeRuns(ctx: SchedulerContext, runIds: readonly string[], keepLogs: boolean): Promise<void> {
  const { executor } = ctx.o;
  for (const id of runIds) {
    if (executor.purgeRun) await executor.purgeRun(id, { keepLogs });
    else if (!keepLogs) await executor.logStore.delete(id);
  }
}

/** Whether retention keeps the logs of the runs it deletes (the job's `keepLogs`). */
export function keepsLogs(job: JobRecord): boolean {
  return (job.options as JobOptions | null)?.keepLogs === true;
}

/**
 * The default ledger retention of a job: bounds the ledger of a per-second cron job to
 * about 1,000 small rows instead of one row per occurrence for ever.
 */
export const DEFAULT_LEDGER_RETENTION: Readonly<LedgerRetention> = Object.freeze({ maxRecords: 1000 });

/** The ledger retention the job's options ask for (`undefined`: keep everything). */
export function ledgerRetentionOf(job: JobRecord): LedgerRetention | undefined {
  const r = (job.options as JobOptions | null)?.ledgerRetention;
  if (r === null) return undefined;
  return r === undefined ? DEFAULT_LEDGER_RETENTION : r;
}
