import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../src/errors.js';
import { ParameterErrorCode, ParameterGrid } from '../../src/parameters/index.js';
import type { RunParameters } from '../../src/pipeline/index.js';
import { makePipeline } from './helpers.js';

const pipeline = makePipeline({
  parameters: { a: 0, fixed: 'p' },
  steps: [{ uuid: 's1', parameters: { b: 0, keep: { deep: [1] } } }, { uuid: 's2' }],
});
const grid = new ParameterGrid(pipeline, {
  pipeline_parameters: { a: [1, 2, 3] },
  s1: { b: [{ x: 1, y: 2 }, 'two'] },
});

function refused(f: () => unknown): ParameterError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ParameterError);
    return err as ParameterError;
  }
  throw new Error('expected a ParameterError');
}

/** A deep, unfrozen copy, as a run read back from storage would be. */
const copy = (run: RunParameters): { pipeline: Record<string, unknown>; steps: Record<string, Record<string, unknown>> } =>
  JSON.parse(JSON.stringify(run)) as never;

describe('at, values and indexOf', () => {
  it('maps every index to its combination and back, from run parameters or from values', () => {
    for (let i = 0; i < grid.size; i++) {
      expect(grid.indexOf(grid.at(i))).toBe(i);
      expect(grid.indexOf(copy(grid.at(i)))).toBe(i);
      expect(grid.indexOf(grid.values(i))).toBe(i);
    }
  });

  it('compares values as canonical JSON: object key order does not matter', () => {
    const run = copy(grid.at(0));
    run.steps.s1!.b = { y: 2, x: 1 };
    expect(grid.indexOf(run)).toBe(0);
    expect(grid.indexOf([1, { y: 2, x: 1 }])).toBe(0);
  });

  it('refuses indices that are not integers in [0, size)', () => {
    for (const bad of [-1, grid.size, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      const err = refused(() => grid.at(bad));
      expect(err.code).toBe(ParameterErrorCode.INDEX_OUT_OF_RANGE);
      expect(err.path).toBe('index');
      expect(refused(() => grid.values(bad)).code).toBe(ParameterErrorCode.INDEX_OUT_OF_RANGE);
    }
  });

  it('refuses a value that is not in the grid, naming where it is', () => {
    const run = copy(grid.at(0));
    run.pipeline.a = 4;
    const err = refused(() => grid.indexOf(run));
    expect(err.code).toBe(ParameterErrorCode.NOT_IN_GRID);
    expect(err.path).toBe('pipeline.a');
    expect(err.value).toBe(4);
    const byValues = refused(() => grid.indexOf([1, 'three']));
    expect(byValues.code).toBe(ParameterErrorCode.NOT_IN_GRID);
    expect(byValues.path).toBe('[1]');
  });

  it('refuses a combination whose fixed parameters differ from their defaults', () => {
    const run = copy(grid.at(0));
    run.steps.s1!.keep = { deep: [2] };
    const err = refused(() => grid.indexOf(run));
    expect(err.code).toBe(ParameterErrorCode.NOT_IN_GRID);
    expect(err.path).toBe('steps.s1.keep');
  });

  it('refuses a combination with a missing step, a missing parameter, an extra parameter or an extra step', () => {
    const cases: Array<[(run: ReturnType<typeof copy>) => void, string]> = [
      [(run) => delete run.steps.s2, 'steps.s2'],
      [(run) => delete run.pipeline.fixed, 'pipeline.fixed'],
      [(run) => delete run.pipeline.a, 'pipeline.a'],
      [(run) => (run.steps.s2!.extra = 1), 'steps.s2.extra'],
      [(run) => (run.steps.s3 = {}), 'steps.s3'],
    ];
    for (const [change, path] of cases) {
      const run = copy(grid.at(3));
      change(run);
      const err = refused(() => grid.indexOf(run));
      expect(err.code).toBe(ParameterErrorCode.NOT_IN_GRID);
      expect(err.path).toBe(path);
    }
  });

  it('refuses a list of values of the wrong length and things that are not combinations', () => {
    expect(refused(() => grid.indexOf([1])).code).toBe(ParameterErrorCode.NOT_IN_GRID);
    expect(refused(() => grid.indexOf({} as RunParameters)).code).toBe(ParameterErrorCode.NOT_IN_GRID);
    expect(refused(() => grid.indexOf(null as unknown as RunParameters)).path).toBe('$');
  });

  it('has one combination, index 0, when nothing varies', () => {
    const g = new ParameterGrid(pipeline);
    expect(g.values(0)).toEqual([]);
    expect(g.indexOf([])).toBe(0);
    expect(g.indexOf(g.at(0))).toBe(0);
  });
});

describe('iteration', () => {
  it('yields { index, parameters } for every index in order, equal to at(i)', () => {
    const runs = [...grid];
    expect(runs.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const run of runs) expect(run.parameters).toEqual(grid.at(run.index));
    expect([...grid.entries()]).toEqual(runs);
  });

  it('gives independent iterators', () => {
    const first = grid.entries();
    const second = grid.entries();
    expect(first.next().value?.index).toBe(0);
    expect(first.next().value?.index).toBe(1);
    expect(second.next().value?.index).toBe(0);
    expect([...first].map((r) => r.index)).toEqual([2, 3, 4, 5]);
    expect(first.next().done).toBe(true);
  });

  it('iterates a selection in grid order, starting mid-grid', () => {
    const runs = [...grid.entries([5, 1, 2])];
    expect(runs.map((r) => r.index)).toEqual([1, 2, 5]);
    for (const run of runs) expect(run.parameters).toEqual(grid.at(run.index));
  });
});
