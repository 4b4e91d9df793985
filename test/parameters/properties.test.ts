import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GridSelection, ParameterGrid } from '../../src/parameters/index.js';
import type { Pipeline } from '../../src/pipeline/index.js';
import { makePipeline } from './helpers.js';

/**
 * A random pipeline (0-3 pipeline parameters, 1-3 steps of 0-3 parameters) and a spec
 * that varies a random subset of its parameters over distinct JSON values.
 */
const gridArb = (maxLength: number): fc.Arbitrary<{ pipeline: Pipeline; spec: Record<string, Record<string, unknown[]>> }> => {
  const keys = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', '10', '2', 'x y'), { maxLength: 3 });
  const values = fc.uniqueArray(fc.jsonValue({ maxDepth: 2 }), {
    minLength: 1,
    maxLength,
    selector: (v) => JSON.stringify(v, Object.keys(v ?? {}).sort()),
  });
  return fc
    .record({
      pipelineKeys: keys,
      steps: fc.array(keys, { minLength: 1, maxLength: 3 }),
    })
    .chain(({ pipelineKeys, steps }) => {
      const pipeline = makePipeline({
        parameters: Object.fromEntries(pipelineKeys.map((k) => [k, `default-${k}`])),
        order: pipelineKeys,
        steps: steps.map((stepKeys, i) => ({
          uuid: `step-${i}`,
          parameters: Object.fromEntries(stepKeys.map((k) => [k, i])),
          order: stepKeys,
        })),
      });
      const scopes: Array<[string, string[]]> = [['pipeline_parameters', pipelineKeys], ...steps.map((k, i): [string, string[]] => [`step-${i}`, k])];
      const entries = scopes.flatMap(([scope, ks]) => ks.map((k) => [scope, k] as const));
      return fc.subarray(entries).chain((chosen) =>
        fc.tuple(...chosen.map(() => values)).map((lists) => {
          const spec: Record<string, Record<string, unknown[]>> = {};
          chosen.forEach(([scope, key], i) => {
            spec[scope] ??= {};
            spec[scope][key] = lists[i]!;
          });
          return { pipeline, spec };
        }),
      );
    });
};

/** Values that canonicalJson treats as distinct even when fast-check's selector does not (e.g. -0 and 0). */
function distinct(spec: Record<string, Record<string, unknown[]>>): boolean {
  const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
  return Object.values(spec).every((scope) => Object.values(scope).every((list) => new Set(list.map(canon)).size === list.length));
}

describe('ParameterGrid properties', () => {
  it('size is the product of the list lengths', () => {
    fc.assert(
      fc.property(gridArb(4), ({ pipeline, spec }) => {
        fc.pre(distinct(spec));
        const grid = new ParameterGrid(pipeline, spec);
        const product = Object.values(spec).reduce((n, scope) => Object.values(scope).reduce((m, list) => m * list.length, n), 1);
        expect(grid.size).toBe(product);
      }),
    );
  });

  it('indexOf(at(i)) === i, and iteration equals at(0..size-1)', () => {
    fc.assert(
      fc.property(gridArb(3), ({ pipeline, spec }) => {
        fc.pre(distinct(spec));
        const grid = new ParameterGrid(pipeline, spec);
        const runs = [...grid];
        expect(runs.length).toBe(grid.size);
        runs.forEach((run, i) => {
          expect(run.index).toBe(i);
          expect(run.parameters).toEqual(grid.at(i));
          expect(grid.indexOf(run.parameters)).toBe(i);
          expect(grid.indexOf(JSON.parse(JSON.stringify(run.parameters)))).toBe(i);
          expect(grid.indexOf(grid.values(i))).toBe(i);
        });
        // Every combination appears exactly once.
        expect(new Set(runs.map((r) => JSON.stringify(grid.values(r.index)))).size).toBe(grid.size);
      }),
      { numRuns: 60 },
    );
  });

  it('a JSON round trip of the definition keeps every index', () => {
    fc.assert(
      fc.property(gridArb(3), ({ pipeline, spec }) => {
        fc.pre(distinct(spec));
        const grid = new ParameterGrid(pipeline, spec);
        const back = ParameterGrid.fromJSON(JSON.parse(JSON.stringify(grid)));
        // Values are JSON values: a round trip keeps each one as JSON keeps it (-0 is 0).
        for (let i = 0; i < grid.size; i++) expect(back.at(i)).toEqual(JSON.parse(JSON.stringify(grid.at(i))));
      }),
      { numRuns: 40 },
    );
  });

  it('matches a BigInt reference of the mixed radix on grids up to 2^53 - 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }).filter(
          (lens) => lens.reduce((n, l) => n * BigInt(l), 1n) <= BigInt(Number.MAX_SAFE_INTEGER),
        ),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (lens, fraction) => {
          const keys = lens.map((_, i) => `k${i}`);
          const pipeline = makePipeline({ parameters: Object.fromEntries(keys.map((k) => [k, -1])), steps: [{ uuid: 's' }] });
          const grid = new ParameterGrid(pipeline, {
            pipeline_parameters: Object.fromEntries(lens.map((l, i) => [keys[i]!, Array.from({ length: l }, (_, v) => v)])),
          });
          const size = lens.reduce((n, l) => n * BigInt(l), 1n);
          expect(BigInt(grid.size)).toBe(size);
          for (const index of [Math.floor(fraction * grid.size), grid.size - 1, 0]) {
            let rest = BigInt(index);
            const digits = lens.map(() => 0);
            for (let d = lens.length - 1; d >= 0; d--) {
              digits[d] = Number(rest % BigInt(lens[d]!));
              rest /= BigInt(lens[d]!);
            }
            expect(grid.values(index)).toEqual(digits);
            expect(grid.indexOf(digits)).toBe(index);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a selection iterates sorted and unique, counts right, and runs keep grid order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 199 }), { maxLength: 60 }), fc.array(fc.tuple(fc.nat({ max: 199 }), fc.nat({ max: 30 })), { maxLength: 10 }), (indices, spans) => {
        const byIndices = GridSelection.fromIndices(indices);
        const expected = [...new Set(indices)].sort((a, b) => a - b);
        expect([...byIndices]).toEqual(expected);
        expect(byIndices.count).toBe(expected.length);

        const ranges = spans.map(([start, len]) => [start, start + len] as const);
        const byRanges = GridSelection.fromRanges(ranges);
        const fromRanges = [...new Set(ranges.flatMap(([s, e]) => Array.from({ length: e - s }, (_, k) => s + k)))].sort((a, b) => a - b);
        expect([...byRanges]).toEqual(fromRanges);
        expect(byRanges.count).toBe(fromRanges.length);
        // Normalised: sorted, non-empty, with gaps between ranges.
        byRanges.ranges.forEach(([s, e], i) => {
          expect(s).toBeLessThan(e);
          if (i > 0) expect(s).toBeGreaterThan(byRanges.ranges[i - 1]![1]);
        });
        for (let i = 0; i < 240; i++) expect(byRanges.has(i)).toBe(fromRanges.includes(i));

        if (expected.length > 0) {
          const pipeline = makePipeline({ parameters: { a: 0, b: 0 }, steps: [{ uuid: 's' }] });
          const grid = new ParameterGrid(pipeline, {
            pipeline_parameters: { a: Array.from({ length: 20 }, (_, i) => i), b: Array.from({ length: 10 }, (_, i) => i) },
          });
          const runs = [...grid.entries(indices)];
          expect(runs.map((r) => r.index)).toEqual(expected);
          for (const run of runs) expect(run.parameters).toEqual(grid.at(run.index));
        }
      }),
    );
  });
});
