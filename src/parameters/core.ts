import { ParameterError, joinPath } from '../errors.js';
import type { RunParameters } from '../pipeline/model.js';
import { canonicalJson } from '../util/json-text.js';
import { ParameterErrorCode } from './codes.js';
import { isRecord, setOwn } from './json-values.js';
import type { GridRun, IndexRange } from './types.js';

/** One axis: `step` is an index into the core's steps, `-1` for the pipeline. */
export interface CoreDimension {
  readonly step: number;
  readonly key: string;
  readonly values: readonly unknown[];
  /** The dimension's path in a spec, for errors (`pipeline_parameters.foo`). */
  readonly path: string;
}

/** The data a grid is made of; every record and list frozen. */
export interface CoreInput {
  readonly pipelineDefaults: Readonly<Record<string, unknown>>;
  readonly steps: readonly { readonly uuid: string; readonly defaults: Readonly<Record<string, unknown>> }[];
  readonly dims: readonly CoreDimension[];
}

/** A scope (the pipeline or one step) that has dimensions. */
interface Scope {
  readonly uuid: string;
  /** An unfrozen copy of the defaults, only ever spread (see `build`). */
  readonly template: Record<string, unknown>;
  /** Indices into the dimensions, with their keys and value lists. */
  readonly dims: readonly number[];
  readonly keys: readonly string[];
  readonly values: ReadonlyArray<readonly unknown[]>;
}

/**
 * The arithmetic of a grid: index <-> digits (mixed radix, last dimension fastest),
 * digits -> run parameters, and the inverse. Never holds more than one combination.
 */
export class GridCore {
  readonly size: number;
  readonly radices: readonly number[];
  readonly input: CoreInput;
  readonly #pipelineScope: Scope | undefined;
  readonly #stepScopes: readonly Scope[];
  /** Every step's defaults, by uuid: the `steps` of a run whose steps have no dimension. */
  readonly #sharedSteps: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The same, unfrozen, only ever spread. */
  readonly #stepsTemplate: Record<string, Readonly<Record<string, unknown>>>;
  /** Per dimension, canonical JSON -> value index; built on the first `indexOf`. */
  readonly #lookups: Array<Map<string, number> | undefined>;

  constructor(input: CoreInput) {
    this.input = input;
    this.radices = input.dims.map((d) => d.values.length);
    let size = 1;
    input.dims.forEach((d, i) => {
      const next = size * d.values.length;
      if (next > Number.MAX_SAFE_INTEGER) {
        throw new ParameterError(ParameterErrorCode.GRID_TOO_LARGE, 'The grid has more combinations than can be counted exactly', {
          path: d.path,
          value: d.values.length,
          hint: `The product of the list lengths up to here exceeds Number.MAX_SAFE_INTEGER (${Number.MAX_SAFE_INTEGER}); give fewer values (dimension ${i})`,
        });
      }
      size = next;
    });
    this.size = size;
    const scopeOf = (step: number): Scope | undefined => {
      const dims = input.dims.flatMap((d, i) => (d.step === step ? [i] : []));
      if (dims.length === 0) return undefined;
      const owner = step < 0 ? { uuid: '', defaults: input.pipelineDefaults } : input.steps[step]!;
      return {
        uuid: owner.uuid,
        template: { ...owner.defaults },
        dims,
        keys: dims.map((d) => input.dims[d]!.key),
        values: dims.map((d) => input.dims[d]!.values),
      };
    };
    this.#pipelineScope = scopeOf(-1);
    this.#stepScopes = input.steps.flatMap((_, i) => scopeOf(i) ?? []);
    const shared: Record<string, Readonly<Record<string, unknown>>> = {};
    for (const s of input.steps) setOwn(shared, s.uuid, s.defaults);
    this.#stepsTemplate = shared;
    this.#sharedSteps = Object.freeze({ ...shared });
    this.#lookups = input.dims.map(() => undefined);
  }

  /** Writes the digits of `index` into `out` (mixed radix, exact below 2^53). */
  digitsOf(index: number, out: number[]): number[] {
    let rest = index;
    for (let d = this.radices.length - 1; d >= 0; d--) {
      const radix = this.radices[d]!;
      const digit = rest % radix;
      out[d] = digit;
      // Subtract before dividing: the quotient is then exact, where Math.floor(rest / radix)
      // could round up for large indices.
      rest = (rest - digit) / radix;
    }
    return out;
  }

  /** Advances `digits` to the next combination (an odometer, last digit fastest). */
  increment(digits: number[]): void {
    for (let d = digits.length - 1; d >= 0; d--) {
      if (++digits[d]! < this.radices[d]!) return;
      digits[d] = 0;
    }
  }

  /**
   * The run parameters of the combination `digits`: defaults merged with its values.
   * Records shared by many runs (defaults of scopes without dimensions, the values) are
   * frozen; the records made for this run are fresh objects. Freezing those too would
   * cost more than building them (V8: ~0.4 us per `Object.freeze` of a new object).
   */
  build(digits: readonly number[]): RunParameters {
    const pipeline = this.#pipelineScope === undefined ? this.input.pipelineDefaults : this.#fill(this.#pipelineScope, digits);
    if (this.#stepScopes.length === 0) return { pipeline, steps: this.#sharedSteps };
    // Spread an unfrozen template: V8 copies a frozen object several times slower.
    const steps: Record<string, Readonly<Record<string, unknown>>> = { ...this.#stepsTemplate };
    for (const scope of this.#stepScopes) {
      if (scope.uuid === '__proto__') setOwn(steps, scope.uuid, this.#fill(scope, digits));
      else steps[scope.uuid] = this.#fill(scope, digits);
    }
    return { pipeline, steps };
  }

  #fill(scope: Scope, digits: readonly number[]): Record<string, unknown> {
    const rec: Record<string, unknown> = { ...scope.template };
    const { dims, keys, values } = scope;
    for (let i = 0; i < dims.length; i++) {
      const key = keys[i]!;
      const value = values[i]![digits[dims[i]!]!];
      if (key === '__proto__') setOwn(rec, key, value);
      else rec[key] = value;
    }
    return rec;
  }

  /** The digit of `value` in dimension `d`, or `undefined` when the dimension lacks it. */
  digitOf(d: number, value: unknown): number | undefined {
    let lookup = this.#lookups[d];
    if (lookup === undefined) {
      lookup = new Map(this.input.dims[d]!.values.map((v, i) => [canonicalJson(v), i]));
      this.#lookups[d] = lookup;
    }
    return lookup.get(canonicalJson(value));
  }

  /** The index of a combination given by its digits. */
  indexOfDigits(digits: readonly number[]): number {
    let index = 0;
    for (let d = 0; d < digits.length; d++) index = index * this.radices[d]! + digits[d]!;
    return index;
  }

  /** The digits of a run's parameters; throws when the run is not a combination of this grid. */
  digitsOfRun(run: RunParameters): number[] {
    if (!isRecord(run) || !isRecord(run.pipeline) || !isRecord(run.steps)) {
      throw notInGrid('$', run, 'Expected { pipeline: {...}, steps: {...} } as ParameterGrid.at() returns');
    }
    const { input } = this;
    const digits = input.dims.map((dim, d) => {
      const owner = dim.step < 0 ? run.pipeline : run.steps[input.steps[dim.step]!.uuid];
      const path = dim.step < 0 ? joinPath('pipeline', dim.key) : joinPath('steps', input.steps[dim.step]!.uuid, dim.key);
      if (!isRecord(owner) || !Object.prototype.hasOwnProperty.call(owner, dim.key)) {
        throw notInGrid(path, undefined, 'The run lacks this parameter');
      }
      const digit = this.digitOf(d, owner[dim.key]);
      if (digit === undefined) throw notInGrid(path, owner[dim.key], 'The value is not one of this parameter\'s values in the grid');
      return digit;
    });
    checkFixed(run.pipeline, input.pipelineDefaults, input.dims, -1, 'pipeline');
    const uuids = new Set(input.steps.map((s) => s.uuid));
    for (const uuid of Object.keys(run.steps)) {
      if (!uuids.has(uuid)) throw notInGrid(joinPath('steps', uuid), uuid, 'The grid\'s pipeline has no such step');
    }
    input.steps.forEach((s, i) => checkFixed(run.steps[s.uuid], s.defaults, input.dims, i, joinPath('steps', s.uuid)));
    return digits;
  }
}

/** Parameters that are not dimensions must hold their default, and nothing else may be there. */
function checkFixed(
  rec: unknown,
  defaults: Readonly<Record<string, unknown>>,
  dims: readonly CoreDimension[],
  step: number,
  path: string,
): void {
  if (!isRecord(rec)) throw notInGrid(path, rec, 'Every step of the pipeline has an entry in a run');
  const dimKeys = new Set(dims.filter((d) => d.step === step).map((d) => d.key));
  for (const key of Object.keys(rec)) {
    if (dimKeys.has(key)) continue;
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      throw notInGrid(joinPath(path, key), rec[key], 'The grid has no such parameter');
    }
    if (canonicalJson(rec[key]) !== canonicalJson(defaults[key])) {
      throw notInGrid(joinPath(path, key), rec[key], `Not a dimension of the grid: every run has its default ${canonicalJson(defaults[key])}`);
    }
  }
  for (const key of Object.keys(defaults)) {
    if (!Object.prototype.hasOwnProperty.call(rec, key)) throw notInGrid(joinPath(path, key), undefined, 'The run lacks this parameter');
  }
}

function notInGrid(path: string, value: unknown, hint: string): ParameterError {
  return new ParameterError(ParameterErrorCode.NOT_IN_GRID, 'The combination is not in the grid', {
    path,
    ...(value === undefined ? {} : { value }),
    hint,
  });
}

/**
 * Iterates the runs of a list of ranges in order, keeping one combination's digits and
 * advancing them like an odometer: constant memory whatever the grid's size.
 */
export class RunIterator implements IterableIterator<GridRun> {
  readonly #core: GridCore;
  readonly #ranges: readonly IndexRange[];
  readonly #digits: number[];
  #range = 0;
  #index = 0;
  #end = 0;
  #started = false;

  constructor(core: GridCore, ranges: readonly IndexRange[]) {
    this.#core = core;
    this.#ranges = ranges;
    this.#digits = core.radices.map(() => 0);
  }

  next(): IteratorResult<GridRun> {
    while (this.#index >= this.#end) {
      const range = this.#ranges[this.#range++];
      if (range === undefined) return { done: true, value: undefined };
      this.#index = range[0];
      this.#end = range[1];
      this.#started = false;
    }
    if (this.#started) this.#core.increment(this.#digits);
    else {
      this.#core.digitsOf(this.#index, this.#digits);
      this.#started = true;
    }
    const index = this.#index++;
    return { done: false, value: { index, parameters: this.#core.build(this.#digits) } };
  }

  [Symbol.iterator](): IterableIterator<GridRun> {
    return this;
  }
}
