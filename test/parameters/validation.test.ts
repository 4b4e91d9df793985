import { describe, expect, it } from 'vitest';
import { OptionsError, ParameterError } from '../../src/errors.js';
import { parsePipeline } from '../../src/pipeline/index.js';
import { ParameterErrorCode, ParameterGrid, type ParameterGridOptions } from '../../src/parameters/index.js';
import { makePipeline } from './helpers.js';

const STEP = '62a62810-336c-44c4-af6a-35228e8f2028';
const pipeline = makePipeline({
  parameters: { foo: 1, bar: 'x' },
  steps: [{ uuid: STEP, parameters: { bar: 0, some_key: 1 } }, { uuid: 'plain' }],
});

/** Runs `f`, expects a ParameterError and returns it. */
function refused(f: () => unknown): ParameterError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ParameterError);
    return err as ParameterError;
  }
  throw new Error('expected a ParameterError, nothing was thrown');
}

const grid = (spec: unknown, options?: ParameterGridOptions): ParameterGrid => new ParameterGrid(pipeline, spec as string, options);

describe('a spec is refused with a typed error and a precise path', () => {
  it.each([
    ['a value that is not a list', '{"pipeline_parameters": {"foo": 3}}', ParameterErrorCode.NOT_A_LIST, 'pipeline_parameters.foo', 3],
    ['a string, not a list', `{"${STEP}": {"bar": "[1, 2]"}}`, ParameterErrorCode.NOT_A_LIST, `["${STEP}"].bar`, '[1, 2]'],
    ['an object, not a list', '{"pipeline_parameters": {"foo": {"0": 1}}}', ParameterErrorCode.NOT_A_LIST, 'pipeline_parameters.foo', { '0': 1 }],
    ['an empty list', '{"pipeline_parameters": {"foo": []}}', ParameterErrorCode.EMPTY_LIST, 'pipeline_parameters.foo', []],
    ['a repeated value', `{"${STEP}": {"bar": [1, 2, 1]}}`, ParameterErrorCode.REPEATED_VALUE, `["${STEP}"].bar[2]`, 1],
    [
      'a repeated object, keys in another order',
      '{"pipeline_parameters": {"foo": [{"a": 1, "b": 2}, 0, {"b": 2, "a": 1}]}}',
      ParameterErrorCode.REPEATED_VALUE,
      'pipeline_parameters.foo[2]',
      { b: 2, a: 1 },
    ],
    ['an unknown step uuid', '{"no-such-step": {"x": [1]}}', ParameterErrorCode.UNKNOWN_STEP, '["no-such-step"]', 'no-such-step'],
    ['an undeclared pipeline parameter', '{"pipeline_parameters": {"nope": [1]}}', ParameterErrorCode.UNKNOWN_PARAMETER, 'pipeline_parameters.nope', 'nope'],
    ['an undeclared step parameter', `{"${STEP}": {"foo": [1]}}`, ParameterErrorCode.UNKNOWN_PARAMETER, `["${STEP}"].foo`, 'foo'],
    ['a step parameter on a step without any', '{"plain": {"x": [1]}}', ParameterErrorCode.UNKNOWN_PARAMETER, 'plain.x', 'x'],
    ['a spec that is a list', '[1, 2]', ParameterErrorCode.NOT_AN_OBJECT, '$', [1, 2]],
    ['a spec that is null', 'null', ParameterErrorCode.NOT_AN_OBJECT, '$', null],
    ['a scope that is not an object', '{"pipeline_parameters": [1]}', ParameterErrorCode.NOT_AN_OBJECT, 'pipeline_parameters', [1]],
    ['a key written twice at the top', '{"pipeline_parameters": {}, "pipeline_parameters": {"foo": [1]}}', ParameterErrorCode.DUPLICATE_KEY, 'pipeline_parameters', 'pipeline_parameters'],
    ['a key written twice in a scope', '{"pipeline_parameters": {"foo": [1], "foo": [2]}}', ParameterErrorCode.DUPLICATE_KEY, 'pipeline_parameters.foo', 'foo'],
  ])('%s', (_name, text, code, path, value) => {
    const err = refused(() => grid(text));
    expect(err.code).toBe(code);
    expect(err.path).toBe(path);
    expect(err.value).toEqual(value);
    expect(err.hint).toBeTruthy();
    expect(err.message).toContain(path);
  });

  it('names the first occurrence of a repeated value in the hint', () => {
    const err = refused(() => grid('{"pipeline_parameters": {"foo": ["a", "b", "c", "b"]}}'));
    expect(err.path).toBe('pipeline_parameters.foo[3]');
    expect(err.hint).toContain('pipeline_parameters.foo[1]');
  });

  it('refuses malformed JSON with its line and column', () => {
    const err = refused(() => grid('{\n  "pipeline_parameters": {\n    "foo": [1, 2,]\n  }\n}'));
    expect(err.code).toBe(ParameterErrorCode.MALFORMED_JSON);
    expect(err.path).toBe('$');
    expect(err.message).toMatch(/line 3, column 18/);
    expect(err.cause).toMatchObject({ line: 3, column: 18 });
  });

  it('refuses empty text as malformed JSON', () => {
    expect(refused(() => grid('')).code).toBe(ParameterErrorCode.MALFORMED_JSON);
  });

  it('reads a spec with a byte order mark (editors on Windows write one)', () => {
    expect(grid('\uFEFF{"pipeline_parameters": {"foo": [1, 2]}}').size).toBe(2);
  });

  it('accepts undeclared parameters when the caller allows new ones', () => {
    const g = grid(`{"pipeline_parameters": {"nope": [1, 2]}, "plain": {"x": [3]}}`, { allowNewParameters: true });
    expect(g.size).toBe(2);
    expect(g.at(1)).toEqual({ pipeline: { foo: 1, bar: 'x', nope: 2 }, steps: { [STEP]: { bar: 0, some_key: 1 }, plain: { x: 3 } } });
  });

  it('still refuses an unknown step when new parameters are allowed', () => {
    expect(refused(() => grid('{"ghost": {"x": [1]}}', { allowNewParameters: true })).code).toBe(ParameterErrorCode.UNKNOWN_STEP);
  });

  it.each([
    ['undefined', undefined, 'pipeline_parameters.foo[1]'],
    ['NaN', Number.NaN, 'pipeline_parameters.foo[1]'],
    ['Infinity', Number.POSITIVE_INFINITY, 'pipeline_parameters.foo[1]'],
    ['a function', () => 1, 'pipeline_parameters.foo[1]'],
    ['a Date', new Date(0), 'pipeline_parameters.foo[1]'],
    ['a BigInt', 1n, 'pipeline_parameters.foo[1]'],
    ['a nested undefined', { a: [undefined] }, 'pipeline_parameters.foo[1].a[0]'],
  ])('refuses a value that is not plain JSON: %s', (_name, value, path) => {
    const err = refused(() => grid({ pipeline_parameters: { foo: [0, value] } }));
    expect(err.code).toBe(ParameterErrorCode.NOT_JSON);
    expect(err.path).toBe(path);
  });

  it('refuses a value that contains itself', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const err = refused(() => grid({ pipeline_parameters: { foo: [cyclic] } }));
    expect(err.code).toBe(ParameterErrorCode.NOT_JSON);
    expect(err.path).toBe('pipeline_parameters.foo[0].self');
  });

  it('refuses a number too large for a double in JSON text (it would read as Infinity)', () => {
    const err = refused(() => grid('{"pipeline_parameters": {"foo": [1e400]}}'));
    expect(err.code).toBe(ParameterErrorCode.NOT_JSON);
    expect(err.path).toBe('pipeline_parameters.foo[0]');
  });

  it('refuses a grid beyond Number.MAX_SAFE_INTEGER combinations, naming the dimension that overflows', () => {
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    const big = makePipeline({ parameters: Object.fromEntries(keys.map((k) => [k, 0])), steps: [{ uuid: 's' }] });
    const spec = { pipeline_parameters: Object.fromEntries(keys.map((k) => [k, [0, 1]])) };
    // 2^52 fits; 2^53 is one more than Number.MAX_SAFE_INTEGER.
    const fits = new ParameterGrid(big, { pipeline_parameters: Object.fromEntries(keys.slice(0, 52).map((k) => [k, [0, 1]])) });
    expect(fits.size).toBe(2 ** 52);
    const err = refused(() => new ParameterGrid(big, spec));
    expect(err.code).toBe(ParameterErrorCode.GRID_TOO_LARGE);
    expect(err.path).toBe('pipeline_parameters.k52');
  });

  it('computes exact combinations near the top of a 3^33 grid (5.6e15, close to the limit)', () => {
    const keys = Array.from({ length: 33 }, (_, i) => `k${i}`);
    const p = makePipeline({ parameters: Object.fromEntries(keys.map((k) => [k, 0])), steps: [{ uuid: 's' }] });
    const g = new ParameterGrid(p, { pipeline_parameters: Object.fromEntries(keys.map((k) => [k, ['a', 'b', 'c']])) });
    expect(g.size).toBe(3 ** 33);
    expect(g.values(g.size - 1)).toEqual(keys.map(() => 'c'));
    expect(g.values(g.size - 2)).toEqual([...keys.slice(1).map(() => 'c'), 'b']);
    expect(g.indexOf(g.at(g.size - 2))).toBe(g.size - 2);
  });

  it('refuses a bad key order for a spec object', () => {
    const spec = { pipeline_parameters: { foo: [1], bar: [2] } };
    const missing = refused(() => grid(spec, { order: { pipeline_parameters: ['foo'] } }));
    expect(missing.code).toBe(ParameterErrorCode.BAD_ORDER);
    expect(missing.path).toBe('order.pipeline_parameters');
    const unknownScope = refused(() => grid(spec, { order: { [STEP]: ['bar'] } }));
    expect(unknownScope.code).toBe(ParameterErrorCode.BAD_ORDER);
    expect(unknownScope.path).toBe(`order["${STEP}"]`);
  });

  it('refuses invalid options with an OptionsError', () => {
    for (const options of [{ maxRunsPerBatch: 0 }, { maxRunsPerBatch: 1.5 }, { maxRunsPerBatch: Number.NaN }, { allowNewParameters: 'yes' }]) {
      expect(() => grid('{}', options as ParameterGridOptions)).toThrow(OptionsError);
    }
  });
});

describe('bad input changes no state', () => {
  it('leaves the caller\'s spec unchanged and unfrozen, whether accepted or refused', () => {
    const value = { nested: [1] };
    const spec = { pipeline_parameters: { foo: [value, 2] } };
    const before = structuredClone(spec);
    const g = grid(spec);
    expect(spec).toEqual(before);
    expect(Object.isFrozen(value)).toBe(false);
    value.nested.push(99);
    expect(g.at(0).pipeline.foo).toEqual({ nested: [1] });

    const badSpec = { pipeline_parameters: { foo: [1, 1] }, ghost: 1 };
    const badBefore = structuredClone(badSpec);
    expect(() => grid(badSpec)).toThrow(ParameterError);
    expect(badSpec).toEqual(badBefore);
  });

  it('leaves the pipeline unchanged', () => {
    const p = parsePipeline('{"name": "n", "uuid": "u", "parameters": {"a": 1}, "steps": {"s": {"uuid": "s", "title": "s", "file_path": "s.py", "incoming_connections": [], "environment": "e", "parameters": {}}}}');
    const before = JSON.stringify(p);
    expect(() => new ParameterGrid(p, '{"pipeline_parameters": {"a": []}}')).toThrow(ParameterError);
    new ParameterGrid(p, '{"pipeline_parameters": {"a": [2, 3]}}');
    expect(JSON.stringify(p)).toBe(before);
  });

  it('treats "__proto__" as a plain parameter name, not as the prototype', () => {
    const p = parsePipeline('{"name": "n", "uuid": "u", "parameters": {"__proto__": 1}, "steps": {"s": {"uuid": "s", "title": "s", "file_path": "s.py", "incoming_connections": [], "environment": "e", "parameters": {}}}}');
    const g = new ParameterGrid(p, '{"pipeline_parameters": {"__proto__": [{"polluted": true}, 2]}}');
    const run = g.at(0).pipeline;
    expect(Object.getPrototypeOf(run)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(run, '__proto__')).toBe(true);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(g.indexOf(g.at(1))).toBe(1);
  });
});
