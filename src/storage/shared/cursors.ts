/** Cursor pagination shared by the adapters: the same cursors, the same typed errors for bad ones. */
import { StorageError } from '../../errors.js';
import type { PageRequest } from '../port.js';
import type { Page } from '../records.js';

/**
 * Cursor pagination over an ordered list; the cursor is the key of the last item given.
 * `after(cursor)(item)` says whether an item sorts after the cursor, so a page still
 * continues at the right place when the cursor's own item was deleted in between.
 */
export function pageOf<T>(items: T[], req: PageRequest, key: (item: T) => string, after: (cursor: string) => (item: T) => boolean): Page<T> {
  const limit = req.limit ?? 100;
  // The cursor is decoded before anything else, so a bad one fails even on an empty list.
  const start = req.cursor ? items.findIndex(after(req.cursor)) : 0;
  const from = start < 0 ? items.length : start;
  const slice = items.slice(from, from + limit);
  const more = from + limit < items.length;
  return { items: slice, nextCursor: more && slice.length > 0 ? key(slice[slice.length - 1]!) : null };
}

/** The cursor of a job in newest-first order: its creation time and id. */
export function jobCursor(job: { createdAt: number; id: string }): string {
  return JSON.stringify([job.createdAt, job.id]);
}

/** Whether a job comes after the cursor in newest-first order (createdAt desc, id desc). */
export function jobAfterCursor(cursor: string): (job: { createdAt: number; id: string }) => boolean {
  const [at, id] = parseJobCursor(cursor);
  return (job) => job.createdAt < at || (job.createdAt === at && job.id < id);
}

/** Decodes a {@link jobCursor}; a malformed cursor is a typed error. */
export function parseJobCursor(cursor: string): [number, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch (cause) {
    throw new StorageError('STORAGE_INVALID_CURSOR', 'Not a cursor of listJobs', { path: 'cursor', value: cursor, cause, hint: 'Pass the `nextCursor` of a previous page' });
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'string') {
    throw new StorageError('STORAGE_INVALID_CURSOR', 'Not a cursor of listJobs', { path: 'cursor', value: cursor, hint: 'Pass the `nextCursor` of a previous page' });
  }
  return [parsed[0], parsed[1]];
}

/** Decodes a numeric cursor (run index, ledger position); a malformed cursor is a typed error. */
export function parseIndexCursor(cursor: string): number {
  const n = Number(cursor);
  if (cursor === '' || !Number.isSafeInteger(n)) {
    throw new StorageError('STORAGE_INVALID_CURSOR', 'Not a cursor of this list', { path: 'cursor', value: cursor, hint: 'Pass the `nextCursor` of a previous page' });
  }
  return n;
}

