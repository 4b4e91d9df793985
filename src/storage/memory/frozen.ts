/**
 * Immutable records for the memory adapter. A record is frozen, deeply, when it is
 * stored; reads hand out the stored object itself instead of a copy, and every change
 * stores a new object (sharing the unchanged, already frozen parts). So a read costs
 * nothing however big the record is (a job's grid of 100,000 values), and a caller that
 * tries to change a record it read gets a `TypeError` instead of changing the store.
 */

/** Freezes `value` and everything it holds, stopping at parts that are frozen already. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as object)) deepFreeze(v);
  return value;
}

/** A copy of something a caller gave, frozen: the caller keeps its object as it was. */
export function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

/** A map whose values are frozen as they are stored. */
export class FrozenMap<K, V> extends Map<K, V> {
  override set(key: K, value: V): this {
    return super.set(key, deepFreeze(value));
  }
}
