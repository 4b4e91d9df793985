import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../src/errors.js';
import { GridSelection, ParameterErrorCode, ParameterGrid } from '../../src/parameters/index.js';
import { makePipeline } from './helpers.js';

function refused(f: () => unknown): ParameterError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ParameterError);
    return err as ParameterError;
  }
  throw new Error('expected a ParameterError');
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('GridSelection', () => {
  it('stores indices as sorted, merged ranges, iterates them in order, and counts them', () => {
    const s = GridSelection.fromIndices([9, 3, 4, 5, 3, 0, 10, 12]);
    expect(s.ranges).toEqual([
      [0, 1],
      [3, 6],
      [9, 11],
      [12, 13],
    ]);
    expect(s.count).toBe(7);
    expect([...s]).toEqual([0, 3, 4, 5, 9, 10, 12]);
    expect(s.last).toBe(12);
    expect([0, 3, 5, 9, 12].every((i) => s.has(i))).toBe(true);
    expect([1, 2, 6, 8, 11, 13, -1].some((i) => s.has(i))).toBe(false);
  });

  it('merges overlapping and adjacent ranges and drops empty ones', () => {
    const s = GridSelection.fromRanges([
      [10, 20],
      [0, 5],
      [5, 7],
      [15, 25],
      [30, 30],
    ]);
    expect(s.ranges).toEqual([
      [0, 7],
      [10, 25],
    ]);
    expect(s.count).toBe(22);
  });

  it('survives a JSON round trip', () => {
    const s = GridSelection.fromIndices([1, 2, 3, 7, 1_000_000_000_000]);
    const back = GridSelection.fromJSON(JSON.parse(JSON.stringify(s)));
    expect(back.ranges).toEqual(s.ranges);
    expect(back.count).toBe(5);
  });

  it('holds a huge range without materialising it', () => {
    const s = GridSelection.all(2 ** 52);
    expect(s.count).toBe(2 ** 52);
    expect(s.has(2 ** 52 - 1)).toBe(true);
    expect(s.has(2 ** 52)).toBe(false);
  });

  it('refuses malformed input with a path and changes nothing', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => GridSelection.fromIndices([1, -1]), '[1]'],
      [() => GridSelection.fromIndices([0.5]), '[0]'],
      [() => GridSelection.fromIndices(['1' as unknown as number]), '[0]'],
      [() => GridSelection.fromIndices([Number.MAX_SAFE_INTEGER]), '[0]'],
      [() => GridSelection.fromRanges([[0, 1], [5, 2]]), 'ranges[1]'],
      [() => GridSelection.fromRanges([[0, 1, 2] as unknown as [number, number]]), 'ranges[0]'],
      [() => GridSelection.fromRanges([[0, Number.NaN]]), 'ranges[0][1]'],
      [() => GridSelection.fromJSON({} as never), '$'],
    ];
    for (const [f, path] of cases) {
      const err = refused(f);
      expect(err.code).toBe(ParameterErrorCode.BAD_SELECTION);
      expect(err.path).toBe(path);
    }
  });

  it('is immutable', () => {
    const s = GridSelection.fromIndices([1, 2]);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.ranges)).toBe(true);
    expect(Object.isFrozen(s.ranges[0])).toBe(true);
  });
});

describe('ParameterGrid.select', () => {
  const pipeline = makePipeline({ parameters: { a: 0, b: 0 }, steps: [{ uuid: 's' }] });
  const grid = new ParameterGrid(pipeline, { pipeline_parameters: { a: range(10), b: range(10) } }, { maxRunsPerBatch: 50 });

  it('accepts indices, ranges, a GridSelection and "all" within the limit; runs keep grid order', () => {
    expect([...grid.select([42, 7, 7, 13])]).toEqual([7, 13, 42]);
    expect(grid.select({ ranges: [[40, 50]] }).count).toBe(10);
    const sel = GridSelection.fromRanges([[0, 3]]);
    expect(grid.select(sel)).toBe(sel);
    const small = new ParameterGrid(pipeline, { pipeline_parameters: { a: range(5) } });
    expect(small.select('all').ranges).toEqual([[0, 5]]);
    expect([...grid.entries([99, 0, 50])].map((r) => [r.index, r.parameters.pipeline])).toEqual([
      [0, { a: 0, b: 0 }],
      [50, { a: 5, b: 0 }],
      [99, { a: 9, b: 9 }],
    ]);
  });

  it('refuses a selection over maxRunsPerBatch', () => {
    const err = refused(() => grid.select('all'));
    expect(err.code).toBe(ParameterErrorCode.SELECTION_TOO_LARGE);
    expect(err.value).toBe(100);
    expect(err.hint).toContain('50');
    expect(refused(() => grid.select(range(51))).code).toBe(ParameterErrorCode.SELECTION_TOO_LARGE);
    expect(grid.select(range(50)).count).toBe(50);
    expect(refused(() => grid.entries('all')).code).toBe(ParameterErrorCode.SELECTION_TOO_LARGE);
  });

  it('defaults maxRunsPerBatch to 100,000 while the grid itself may be far larger', () => {
    const big = new ParameterGrid(pipeline, { pipeline_parameters: { a: range(1000), b: range(1000) } });
    expect(big.maxRunsPerBatch).toBe(100_000);
    expect(big.size).toBe(1_000_000);
    expect(big.select({ ranges: [[0, 100_000]] }).count).toBe(100_000);
    expect(refused(() => big.select({ ranges: [[0, 100_001]] })).code).toBe(ParameterErrorCode.SELECTION_TOO_LARGE);
    expect(big.at(999_999).pipeline).toEqual({ a: 999, b: 999 });
  });

  it('refuses indices beyond the grid, an empty selection, and malformed input', () => {
    const out = refused(() => grid.select([0, 100]));
    expect(out.code).toBe(ParameterErrorCode.INDEX_OUT_OF_RANGE);
    expect(out.value).toBe(100);
    expect(refused(() => grid.select([])).code).toBe(ParameterErrorCode.EMPTY_SELECTION);
    expect(refused(() => grid.select('some' as never)).code).toBe(ParameterErrorCode.BAD_SELECTION);
    expect(refused(() => grid.select(42 as never)).code).toBe(ParameterErrorCode.BAD_SELECTION);
  });
});
