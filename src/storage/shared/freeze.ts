/**
 * Freezes `value` and everything reachable from it, in place; returns `value`. A part
 * already frozen is taken as deeply frozen and not walked again: records made by
 * spreading a stored record share its frozen parts, so freezing them costs only the new
 * top level, however large the shared parts (a grid of 100,000 values) are.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as object)) deepFreeze(v);
  return value;
}
