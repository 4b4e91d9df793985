import type { PlanEntry, SkipEntry } from './types.js';

/**
 * Merges two skip entries into one ledger record when they have the same reason (and
 * are consecutive: the caller knows nothing ran between them). `null` when the reasons
 * differ.
 */
export function mergeSkips(a: SkipEntry, b: SkipEntry): SkipEntry | null {
  if (a.reason !== b.reason) return null;
  return {
    action: 'skip',
    reason: a.reason,
    count: a.count + b.count,
    first: Math.min(a.first, b.first),
    last: Math.max(a.last, b.last),
  };
}

/** Groups each run of adjacent skip entries with one reason into one entry (count summed, range widened). */
export function compressSkips(entries: readonly PlanEntry[]): PlanEntry[] {
  const out: PlanEntry[] = [];
  for (const entry of entries) {
    const prev = out[out.length - 1];
    if (entry.action === 'skip' && prev?.action === 'skip') {
      const merged = mergeSkips(prev, entry);
      if (merged !== null) {
        out[out.length - 1] = merged;
        continue;
      }
    }
    out.push(entry);
  }
  return out;
}
