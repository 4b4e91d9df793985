import { expect } from 'vitest';
import type { Storage } from '../../src/storage/port.js';
import type { OccurrenceRecord, RunRecord } from '../../src/storage/records.js';

/** Every run of a job, through pagination. */
export async function runsOf(storage: Storage, jobId: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listRuns(jobId, { limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

export async function ledgerOf(storage: Storage, jobId: string): Promise<OccurrenceRecord[]> {
  const out: OccurrenceRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listOccurrences(jobId, { limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** Records end states seen so far and fails if one ever changes. */
export class EndStateWatch {
  readonly #seen = new Map<string, string>();

  async check(storage: Storage, jobIds: readonly string[]): Promise<void> {
    for (const jobId of jobIds) {
      for (const run of await runsOf(storage, jobId)) {
        const was = this.#seen.get(run.id);
        const now = run.status === 'PENDING' || run.status === 'STARTED' ? undefined : `${run.status}/${run.reason}/${run.finishedAt}`;
        if (was !== undefined) expect(now, `run ${run.id} left its end state`).toBe(was);
        if (now !== undefined) this.#seen.set(run.id, now);
      }
    }
  }
}

/**
 * Every occurrence of an every-`periodMs` schedule from `firstAt` (default: the first after `createdAt`) to
 * the job's cursor is in the ledger exactly once: started one batch, or inside one
 * skipped record (whose count matches its range).
 */
export async function expectOccurrencesAccounted(storage: Storage, jobId: string, periodMs: number, firstAt?: number): Promise<OccurrenceRecord[]> {
  const job = (await storage.getJob(jobId))!;
  const ledger = await ledgerOf(storage, jobId);
  expect(ledger.length).toBeGreaterThan(0);
  expect(ledger[0]!.at).toBe(firstAt ?? (Math.floor(job.createdAt / periodMs) + 1) * periodMs);
  for (const [i, r] of ledger.entries()) {
    expect(r.count, `ledger[${i}] count`).toBe((r.lastAt - r.at) / periodMs + 1);
    if (r.action === 'started') {
      expect(r.count).toBe(1);
      const batch = await storage.getBatch(jobId, r.batchIndex!);
      expect(batch, `ledger[${i}] batch`).toMatchObject({ occurrenceAt: r.at, trigger: 'schedule' });
      expect(batch!.writtenRuns).toBe(batch!.runCount);
    }
    if (i > 0) expect(r.at, `ledger[${i}] follows ledger[${i - 1}] without gap or overlap`).toBe(ledger[i - 1]!.lastAt + periodMs);
  }
  expect(ledger[ledger.length - 1]!.lastAt).toBe(job.scheduleCursor);
  const started = ledger.filter((r) => r.action === 'started').map((r) => r.at);
  expect(new Set(started).size).toBe(started.length);
  return ledger;
}
