/**
 * ParameterGrid figures (issue 2): iteration speed against a recursive cartesian product
 * that materialises the list (as Orchest's UI does), heap growth over 10^7 combinations,
 * and `at(i)` at random indices of a 10^12-combination grid.
 *
 * Run: `npx tsx bench/grid.ts` (prints a markdown table, exits 0; it reports goals met or
 * missed, it never asserts). Uses `global.gc` when Node runs with `--expose-gc`, and
 * otherwise enables it at run time through V8's flags.
 */
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Pipeline, RunParameters } from '../src/pipeline/index.js';
import { ParameterGrid, type ParameterSpec } from '../src/parameters/index.js';

const REPEATS = 5;
const MB = 1024 * 1024;

/** A pipeline with `pipelineKeys` pipeline parameters and steps with the given parameter keys. */
function pipelineOf(pipelineKeys: string[], steps: Array<{ uuid: string; keys: string[] }>): Pipeline {
  const rec = (keys: string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, `default-${k}`]));
  // Built by hand rather than with parsePipeline: the loader's typia checks need a build-time transform that tsx does not run.
  return {
    uuid: 'bench',
    name: 'bench',
    parameters: rec(pipelineKeys),
    parameterOrder: pipelineKeys,
    settings: {},
    services: {},
    steps: steps.map((s) => ({
      uuid: s.uuid,
      title: s.uuid,
      file_path: `${s.uuid}.py`,
      incoming_connections: [],
      environment: 'python',
      parameters: rec(s.keys),
      parameterOrder: s.keys,
    })),
    source: {},
    path: 'bench.orchest',
    warnings: [],
  };
}

const values = (n: number, tag: string): unknown[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

/** Six parameters (two on the pipeline, four on two of three steps) with the given list lengths. */
function sixParameterGrid(lengths: [number, number, number, number, number, number]): { pipeline: Pipeline; spec: ParameterSpec } {
  const pipeline = pipelineOf(['p1', 'p2'], [
    { uuid: 'step-a', keys: ['a1', 'a2', 'a3'] },
    { uuid: 'step-b', keys: ['b1', 'b2'] },
    { uuid: 'step-c', keys: ['c1'] },
  ]);
  const [l1, l2, l3, l4, l5, l6] = lengths;
  const spec = {
    pipeline_parameters: { p1: values(l1, 'p1'), p2: values(l2, 'p2') },
    'step-a': { a1: values(l3, 'a1'), a2: values(l4, 'a2') },
    'step-b': { b1: values(l5, 'b1'), b2: values(l6, 'b2') },
  };
  return { pipeline, spec };
}

/**
 * The baseline: a straightforward recursive cartesian product that builds the whole list
 * of runs (same shape as `at()`: defaults merged with the values, every step present).
 */
function materialise(pipeline: Pipeline, spec: ParameterSpec): RunParameters[] {
  const dims: Array<{ scope: string; key: string; values: readonly unknown[] }> = [];
  for (const [scope, params] of Object.entries(spec)) for (const [key, vals] of Object.entries(params)) dims.push({ scope, key, values: vals });
  const out: RunParameters[] = [];
  const current: unknown[] = [];
  const recurse = (d: number): void => {
    if (d === dims.length) {
      const pp: Record<string, unknown> = { ...pipeline.parameters };
      const steps: Record<string, Record<string, unknown>> = {};
      for (const s of pipeline.steps) steps[s.uuid] = { ...s.parameters };
      for (let i = 0; i < dims.length; i++) {
        const dim = dims[i]!;
        if (dim.scope === 'pipeline_parameters') pp[dim.key] = current[i];
        else steps[dim.scope]![dim.key] = current[i];
      }
      out.push({ pipeline: pp, steps });
      return;
    }
    for (const v of dims[d]!.values) {
      current[d] = v;
      recurse(d + 1);
    }
  };
  recurse(0);
  return out;
}

/**
 * Orchest's own algorithm, re-written for measuring (client `generatePipelineRunParamCombinations`):
 * a flat `scope#key` map, JSON-cloned at every level, and the accumulated list copied on
 * every call (quadratic: only small grids are feasible).
 */
function orchestRecursive(params: Record<string, unknown>, accum: Array<Record<string, unknown>>, unpacked: string[]): Array<Record<string, unknown>> {
  unpacked = [...unpacked];
  accum = [...accum];
  for (const full of Object.keys(params)) {
    if (!unpacked.includes(full)) {
      unpacked.push(full);
      for (const value of params[full] as unknown[]) {
        const local = JSON.parse(JSON.stringify(params)) as Record<string, unknown>;
        local[full] = value;
        accum = orchestRecursive(local, accum, unpacked);
      }
      return accum;
    }
  }
  return [...accum, params];
}

function flatten(spec: ParameterSpec): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [scope, params] of Object.entries(spec)) for (const [key, vals] of Object.entries(params)) flat[`${scope}#${key}`] = vals;
  return flat;
}

function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

function repeat(n: number, f: () => number): { median: number; min: number; max: number } {
  return stats(Array.from({ length: n }, f));
}

/** A seeded PRNG (mulberry32): the same random indices every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (s: { median: number; min: number; max: number }, digits = 0, unit = ''): string =>
  `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}-${fmt(s.max, digits)})`;

export function main(): void {
  const gc = getGc();
  const rows: string[][] = [];
  const goals: string[] = [];
  let sink = 0;

  // 1. Iteration vs materialisation on a grid the baseline can hold: 10^6 combinations.
  const mid = sixParameterGrid([10, 10, 10, 10, 10, 10]);
  const grid = new ParameterGrid(mid.pipeline, mid.spec);
  const iterNs = repeat(REPEATS, () => {
    const t = process.hrtime.bigint();
    for (const run of grid) sink += run.index;
    return Number(process.hrtime.bigint() - t) / grid.size;
  });
  const heapOf = (f: () => unknown): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = f();
    gc();
    const after = process.memoryUsage().heapUsed;
    sink += (kept as unknown[]).length;
    return (after - before) / MB;
  };
  const baseNs = repeat(REPEATS, () => {
    const t = process.hrtime.bigint();
    const list = materialise(mid.pipeline, mid.spec);
    const ns = Number(process.hrtime.bigint() - t) / list.length;
    sink += list.length;
    return ns;
  });
  const baseHeap = heapOf(() => materialise(mid.pipeline, mid.spec));
  const ourHeap = heapOf(() => {
    const firsts: unknown[] = [];
    for (const run of grid) if (run.index === 0) firsts.push(run.parameters);
    return firsts;
  });
  rows.push(['iterate 10^6 combinations (6 parameters), ns/combination', range(iterNs, 0), range(baseNs, 0), fmt(baseNs.median / iterNs.median, 2)]);
  rows.push(['heap kept after going through 10^6 combinations (MB)', fmt(ourHeap, 1), fmt(baseHeap, 1), '']);
  rows.push(['combinations per second (iterating)', fmt(1e9 / iterNs.median), fmt(1e9 / baseNs.median), '']);
  goals.push(
    `at least as fast per combination as the materialising product: ${iterNs.median <= baseNs.median ? 'met' : 'MISSED'} (${fmt(baseNs.median / iterNs.median, 2)}x)`,
  );

  // 2. Orchest's exact algorithm (quadratic list copies) on a small grid: 4,096 combinations.
  const small = sixParameterGrid([4, 4, 4, 4, 4, 4]);
  const smallGrid = new ParameterGrid(small.pipeline, small.spec);
  const smallOurs = repeat(REPEATS, () => {
    const t = process.hrtime.bigint();
    for (const run of smallGrid) sink += run.index;
    return Number(process.hrtime.bigint() - t) / smallGrid.size;
  });
  const orchest = repeat(REPEATS, () => {
    const t = process.hrtime.bigint();
    const list = orchestRecursive(flatten(small.spec), [], []);
    sink += list.length;
    return Number(process.hrtime.bigint() - t) / list.length;
  });
  rows.push(['4,096 combinations vs Orchest UI algorithm, ns/combination', range(smallOurs, 0), range(orchest, 0), fmt(orchest.median / smallOurs.median, 1)]);

  // 3. Heap while iterating 10^7 combinations of a 6-parameter grid.
  const big = sixParameterGrid([10, 10, 10, 10, 10, 100]);
  const bigGrid = new ParameterGrid(big.pipeline, big.spec);
  gc();
  const start = process.memoryUsage().heapUsed;
  let retainedMax = 0;
  let peak = 0;
  const t0 = process.hrtime.bigint();
  for (const run of bigGrid) {
    if (run.index % 1_000_000 === 999_999) {
      peak = Math.max(peak, process.memoryUsage().heapUsed - start);
      gc();
      retainedMax = Math.max(retainedMax, process.memoryUsage().heapUsed - start);
    }
  }
  const bigSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rows.push([
    `iterate 10^7 combinations: heap growth kept (max over 10 checkpoints, after GC) / peak before GC (MB)`,
    `${fmt(retainedMax / MB, 2)} / ${fmt(peak / MB, 1)}`,
    `(would hold 10^7 runs: ~${fmt((baseHeap * 10) / 1024, 1)} GB)`,
    '',
  ]);
  rows.push(['iterate 10^7 combinations: total seconds (incl. 10 forced GCs)', fmt(bigSeconds, 2), '', '']);
  goals.push(`heap growth over 10^7 combinations under 20 MB: ${retainedMax / MB < 20 ? 'met' : 'MISSED'} (${fmt(retainedMax / MB, 2)} MB)`);

  // 4. at(i) at random indices of a 10^12 grid (12 parameters of 10 values each).
  const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
  const hugePipeline = pipelineOf(keys, [{ uuid: 'step-a', keys }]);
  const hugeGrid = new ParameterGrid(hugePipeline, {
    pipeline_parameters: Object.fromEntries(keys.map((k) => [k, values(10, k)])),
    'step-a': Object.fromEntries(keys.map((k) => [k, values(10, k)])),
  });
  const rand = prng(42);
  const indices = Float64Array.from({ length: 1_000_000 }, () => Math.floor(rand() * 1e6) * 1e6 + Math.floor(rand() * 1e6));
  const atRate = repeat(REPEATS, () => {
    const t = process.hrtime.bigint();
    for (const i of indices) sink += hugeGrid.at(i).pipeline === undefined ? 1 : 0;
    return indices.length / (Number(process.hrtime.bigint() - t) / 1e9);
  });
  const roundTrip = repeat(REPEATS, () => {
    const t = process.hrtime.bigint();
    for (let k = 0; k < 100_000; k++) sink += hugeGrid.indexOf(hugeGrid.at(indices[k]!));
    return 100_000 / (Number(process.hrtime.bigint() - t) / 1e9);
  });
  rows.push([`at(i) at 10^6 random indices of a ${fmt(hugeGrid.size)}-combination grid, calls/s`, range(atRate), 'cannot materialise', '']);
  rows.push(['indexOf(at(i)) on the same grid, round trips/s', range(roundTrip), '', '']);

  console.log('## ParameterGrid\n');
  console.log(`Node ${process.version}, ${REPEATS} repeats, median (min-max). Baseline: a recursive cartesian product that materialises`);
  console.log('every run (same output shape), and Orchest UI\'s own algorithm on a small grid.\n');
  console.log('| measure | ParameterGrid | baseline | ratio (baseline / ours) |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('\nGoals:');
  for (const g of goals) console.log(`- ${g}`);
  if (sink === 0.5) console.log(''); // keeps the work observable to the optimiser
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
