import { StorageError } from '../../src/errors.js';
import type { Storage } from '../../src/storage/port.js';

/**
 * A store that can be made unavailable, method by method, as a database that went away
 * is: every call to a method that is down rejects with `STORAGE_UNAVAILABLE` and changes
 * nothing.
 */
export class Outage {
  /** Methods that fail now; `'*'` for all. */
  readonly down = new Set<string>();
  /** Methods whose next call does its work and then fails as if its answer was lost. */
  readonly lostReply = new Set<string>();
  /** How many calls failed, by method. */
  readonly failed = new Map<string, number>();

  wrap(storage: Storage): Storage {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const outage = this;
    return new Proxy(storage, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function' || typeof key !== 'string') return value;
        return (...args: unknown[]): unknown => {
          if (outage.down.has('*') || outage.down.has(key)) {
            outage.failed.set(key, (outage.failed.get(key) ?? 0) + 1);
            return Promise.reject(new StorageError('STORAGE_UNAVAILABLE', `PostgreSQL is unavailable: Connection terminated unexpectedly`, { path: key }));
          }
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (!outage.lostReply.delete(key)) return result;
          outage.failed.set(key, (outage.failed.get(key) ?? 0) + 1);
          return Promise.resolve(result).then(() => {
            throw new StorageError('STORAGE_UNAVAILABLE', 'PostgreSQL is unavailable: Connection terminated unexpectedly', { path: key });
          });
        };
      },
    });
  }
}
