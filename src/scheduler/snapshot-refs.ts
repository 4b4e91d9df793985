import type { Storage } from '../storage/port.js';

/**
 * Whether any job runs snapshot `snapshotId`: one page of one job through the store's
 * `snapshotId` filter. A store written before that filter existed ignores it and lists
 * other jobs: then every job is read, page by page, as before the filter.
 */
export async function snapshotInUse(storage: Storage, snapshotId: string): Promise<boolean> {
  const first = await storage.listJobs({ snapshotId, limit: 1 });
  if (first.items.every((j) => j.snapshotId === snapshotId)) return first.items.length > 0;
  let cursor: string | null = null;
  do {
    const page = await storage.listJobs({ limit: 500, cursor });
    if (page.items.some((j) => j.snapshotId === snapshotId)) return true;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return false;
}
