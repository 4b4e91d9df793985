import type { Clock } from '../../clock.js';
import type { BatchRecord, JobRecord, OccurrenceRecord, RunRecord, StepStateRecord } from '../records.js';
import type { Listeners } from './listeners.js';
import { FrozenMap } from './frozen.js';
import { PendingIndex } from './pending-index.js';
import type { LedgerRetention } from '../port.js';
import { ledgerVictims } from '../shared/rules.js';

/**
 * What the parts of {@link MemoryStorage} share: the records, by role, of one store.
 * Records are deeply frozen when stored (see {@link FrozenMap}) and replaced, never
 * changed, so reads hand them out without a copy. Internal.
 */
export class MemoryState {
  readonly jobs = new FrozenMap<string, JobRecord>();
  /** Key: `jobId \0 batchIndex`. */
  readonly batches = new FrozenMap<string, BatchRecord>();
  readonly runs = new FrozenMap<string, RunRecord>();
  readonly runsByJob = new Map<string, Set<string>>();
  readonly pending = new PendingIndex();
  readonly steps = new FrozenMap<string, readonly StepStateRecord[]>();
  /** A job's ledger, oldest first, each record with its position (`ord`, kept across pruning). */
  readonly ledger = new Map<string, Array<{ ord: number; r: OccurrenceRecord }>>();
  seq = 0;

  constructor(
    readonly clock: Clock,
    readonly listeners: Listeners,
  ) {}

  /** Appends a ledger record at the job's next position. */
  appendLedger(r: OccurrenceRecord): void {
    const ledger = this.ledger.get(r.jobId)!;
    ledger.push({ ord: ledger.length > 0 ? ledger[ledger.length - 1]!.ord + 1 : 0, r });
  }

  /** Prunes a job's ledger under `retention` (the newest record stays). */
  pruneLedger(jobId: string, retention: LedgerRetention | undefined, now: number): void {
    const ledger = this.ledger.get(jobId)!;
    const victims = new Set(ledgerVictims(ledger.map((x) => ({ ord: x.ord, lastAt: x.r.lastAt })), retention, now));
    if (victims.size > 0) this.ledger.set(jobId, ledger.filter((x) => !victims.has(x.ord)));
  }

  /** Deletes the job's batches left without runs, except those still being written. */
  dropEmptyBatches(jobId: string): void {
    const live = new Set([...(this.runsByJob.get(jobId) ?? [])].map((id) => this.runs.get(id)!.batchIndex));
    for (const [key, b] of this.batches) {
      if (b.jobId === jobId && b.writtenRuns >= b.runCount && !live.has(b.batchIndex)) this.batches.delete(key);
    }
  }

  dropRun(runId: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    this.pending.remove(run.jobId, run.seq);
    this.runs.delete(runId);
    this.steps.delete(runId);
    this.runsByJob.get(run.jobId)?.delete(runId);
  }
}
