import { ParameterError, joinPath } from '../errors.js';
import { ParameterErrorCode } from './codes.js';
import { isRecord } from './json-values.js';
import type { GridSelectionJSON, IndexRange } from './types.js';

/**
 * A set of grid indices, stored compactly as sorted, disjoint, non-adjacent half-open
 * ranges (`[[0, 10], [20, 21]]` is 0..9 and 20). Iterates its indices in ascending
 * (grid) order without materialising them. Immutable; serialise with `toJSON()` and
 * restore with {@link GridSelection.fromJSON}.
 *
 * A selection knows nothing of a grid: `ParameterGrid.select` checks it against one
 * (indices in range, at most `maxRunsPerBatch` runs).
 */
export class GridSelection implements Iterable<number> {
  /** The ranges, sorted, disjoint and non-adjacent; each `[start, end)` with `start < end`. */
  readonly ranges: readonly IndexRange[];
  /** How many indices the selection holds. */
  readonly count: number;

  private constructor(ranges: readonly IndexRange[]) {
    this.ranges = Object.freeze(ranges.map((r) => Object.freeze([r[0], r[1]] as const)));
    this.count = ranges.reduce((n, r) => n + (r[1] - r[0]), 0);
    Object.freeze(this);
  }

  /** Every index of a grid of `size` combinations. */
  static all(size: number): GridSelection {
    checkIndex(size, 'size');
    return new GridSelection(size === 0 ? [] : [[0, size]]);
  }

  /** The given indices (any order, repeats allowed), e.g. `[3, 1, 2, 9]`. */
  static fromIndices(indices: Iterable<number>): GridSelection {
    const list: number[] = [];
    let i = 0;
    for (const index of indices) {
      const path = joinPath('', i++);
      checkIndex(index, path);
      // The largest grid has Number.MAX_SAFE_INTEGER combinations: its last index is one less.
      if (index === Number.MAX_SAFE_INTEGER) throw badSelection(path, index, 'No grid has this index');
      list.push(index);
    }
    list.sort((a, b) => a - b);
    const ranges: Array<[number, number]> = [];
    for (const index of list) {
      const last = ranges[ranges.length - 1];
      if (last !== undefined && index <= last[1]) last[1] = Math.max(last[1], index + 1);
      else ranges.push([index, index + 1]);
    }
    return new GridSelection(ranges);
  }

  /** Half-open ranges `[start, end)` (any order, overlaps allowed, empty ranges dropped). */
  static fromRanges(ranges: Iterable<IndexRange>): GridSelection {
    const list: Array<[number, number]> = [];
    let i = 0;
    for (const range of ranges) {
      const path = joinPath('ranges', i++);
      if (!Array.isArray(range) || range.length !== 2) {
        throw badSelection(path, range, 'A range is a pair [start, end): start included, end excluded');
      }
      const [start, end] = range as unknown as [unknown, unknown];
      checkIndex(start, joinPath(path, 0));
      checkIndex(end, joinPath(path, 1));
      if (end < start) throw badSelection(path, range, 'A range ends at or after its start');
      if (end > start) list.push([start, end]);
    }
    list.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const range of list) {
      const last = merged[merged.length - 1];
      if (last !== undefined && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push([range[0], range[1]]);
    }
    return new GridSelection(merged);
  }

  /** Restores `toJSON()`'s output (ranges are re-checked and normalised). */
  static fromJSON(json: GridSelectionJSON): GridSelection {
    if (!isRecord(json) || !Array.isArray(json.ranges)) {
      throw badSelection('$', json, 'A stored selection is { "ranges": [[start, end], ...] }');
    }
    return GridSelection.fromRanges(json.ranges);
  }

  /** Whether the selection holds `index` (binary search over the ranges). */
  has(index: number): boolean {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const [start, end] = this.ranges[mid]!;
      if (index < start) hi = mid - 1;
      else if (index >= end) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** The largest index held, or `undefined` when empty. */
  get last(): number | undefined {
    const r = this.ranges[this.ranges.length - 1];
    return r === undefined ? undefined : r[1] - 1;
  }

  /** The indices in ascending order, one at a time. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (const [start, end] of this.ranges) for (let i = start; i < end; i++) yield i;
  }

  /** The selection as plain JSON (its ranges), for storage; `GridSelection.fromJSON` restores it. */
  toJSON(): GridSelectionJSON {
    return { ranges: this.ranges };
  }
}

function checkIndex(value: unknown, path: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badSelection(path || '$', value, 'Grid indices are integers from 0 up to Number.MAX_SAFE_INTEGER');
  }
}

function badSelection(path: string, value: unknown, hint: string): ParameterError {
  return new ParameterError(ParameterErrorCode.BAD_SELECTION, 'The selection is malformed', { path, value, hint });
}
