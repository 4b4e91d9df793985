import type { Clock } from '../../clock.js';
import type { BatchRecord, JobRecord, OccurrenceRecord, RunRecord, StepStateRecord } from '../records.js';
import type { Listeners } from './listeners.js';
import { PendingIndex } from './pending-index.js';

/** What the parts of {@link MemoryStorage} share: the records, by role, of one store. Internal. */
export class MemoryState {
  readonly jobs = new Map<string, JobRecord>();
  /** Key: `jobId \0 batchIndex`. */
  readonly batches = new Map<string, BatchRecord>();
  readonly runs = new Map<string, RunRecord>();
  readonly runsByJob = new Map<string, Set<string>>();
  readonly pending = new PendingIndex();
  readonly steps = new Map<string, StepStateRecord[]>();
  readonly ledger = new Map<string, OccurrenceRecord[]>();
  /** Key: `jobId \0 occurrenceAt`. */
  readonly claimedOccurrences = new Set<string>();
  seq = 0;

  constructor(
    readonly clock: Clock,
    readonly listeners: Listeners,
  ) {}

  dropRun(runId: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    this.pending.remove(run.jobId, run.seq);
    this.runs.delete(runId);
    this.steps.delete(runId);
    this.runsByJob.get(run.jobId)?.delete(runId);
  }
}
