import { ParameterError, joinPath } from '../errors.js';
import { canonicalJson } from '../util/json-text.js';
import { ParameterErrorCode } from './codes.js';

/**
 * Sets an own, enumerable property. Plain assignment of `"__proto__"` would change the
 * object's prototype instead, and a parameter may well be called that.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Whether `value` is a non-null object that is not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether `value` is a plain object (`{}` literal, `JSON.parse` output or `Object.create(null)`). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A deep copy of a JSON value, frozen, so the grid can hand the same value to many runs
 * without one run's code changing another's, and without freezing the caller's objects.
 * Throws when the value is not plain JSON: it would not survive a save and reload.
 */
export function cloneJsonValue(value: unknown, path: string, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      return notJson(value, path, 'NaN and Infinity have no JSON form (JSON.stringify writes null)');
    case 'object': {
      if (value === null) return null;
      if (ancestors.includes(value)) return notJson(value, path, 'The value contains itself (a cycle)');
      ancestors.push(value);
      let out: unknown;
      if (Array.isArray(value)) {
        out = Object.freeze(value.map((item, i) => cloneJsonValue(item, joinPath(path, i), ancestors)));
      } else if (isPlainObject(value)) {
        const copy: Record<string, unknown> = {};
        for (const key of Object.keys(value)) setOwn(copy, key, cloneJsonValue(value[key], joinPath(path, key), ancestors));
        out = Object.freeze(copy);
      } else {
        out = notJson(value, path, 'Only plain objects, arrays, strings, finite numbers, booleans and null are parameter values');
      }
      ancestors.pop();
      return out;
    }
    default:
      return notJson(value, path, 'Only plain objects, arrays, strings, finite numbers, booleans and null are parameter values');
  }
}

function notJson(value: unknown, path: string, hint: string): never {
  throw new ParameterError(ParameterErrorCode.NOT_JSON, 'A parameter value is not plain JSON', {
    path: path || '$',
    value,
    hint,
  });
}

/**
 * Validates one parameter's list of values (a non-empty list of distinct JSON values,
 * compared as canonical JSON) and returns a frozen deep copy.
 */
export function readValueList(raw: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(raw)) {
    throw new ParameterError(ParameterErrorCode.NOT_A_LIST, 'Parameter values must be given as a list', {
      path,
      value: raw,
      hint: `Wrap the value in a list, even a single one: [${describeShort(raw)}]`,
    });
  }
  if (raw.length === 0) {
    throw new ParameterError(ParameterErrorCode.EMPTY_LIST, 'A parameter needs at least one value', {
      path,
      value: raw,
      hint: 'Give one value or more, or leave the parameter out to keep its default',
    });
  }
  const seen = new Map<string, number>();
  const out = raw.map((item: unknown, i) => {
    const value = cloneJsonValue(item, joinPath(path, i));
    const canonical = canonicalJson(value);
    const first = seen.get(canonical);
    if (first !== undefined) {
      throw new ParameterError(ParameterErrorCode.REPEATED_VALUE, 'A parameter lists the same value twice', {
        path: joinPath(path, i),
        value: item,
        hint: `It equals ${joinPath(path, first)} (compared as canonical JSON: key order does not matter); list each value once`,
      });
    }
    seen.set(canonical, i);
    return value;
  });
  return Object.freeze(out);
}

function describeShort(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // A cycle or a BigInt cannot be encoded; String() is good enough for a hint.
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
