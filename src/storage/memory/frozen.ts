import { deepFreeze } from '../shared/freeze.js';

/**
 * A map whose values are deeply frozen when set: {@link MemoryStorage} hands its stored
 * records out as they are (no copy per read) and replaces them on every change, so a
 * record a caller holds never changes and a caller can never change the store through it.
 * Values set must be the store's own (copied in, or made of frozen parts): setting one
 * freezes it.
 */
export class FrozenMap<K, V> extends Map<K, V> {
  override set(key: K, value: V): this {
    return super.set(key, deepFreeze(value));
  }
}
