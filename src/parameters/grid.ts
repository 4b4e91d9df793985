import { OptionsError, ParameterError, joinPath } from '../errors.js';
import type { Pipeline, RunParameters } from '../pipeline/model.js';
import { ParameterErrorCode } from './codes.js';
import { type CoreInput, GridCore, RunIterator } from './core.js';
import { fromDefinition, toDefinition } from './definition.js';
import { type ParametersFileReader, findParametersFile, inFile, readFromDisk, readText } from './file.js';
import { setOwn } from './json-values.js';
import { GridSelection } from './selection.js';
import { planGrid, readSpecObject, readSpecText } from './spec.js';
import {
  PIPELINE_PARAMETERS,
  type GridDefinition,
  type GridDimension,
  type GridRun,
  type GridSelectionJSON,
  type ParameterSpec,
  type SpecKeyOrder,
} from './types.js';
import { argFunction, argObject, argPipeline, argString } from '../util/args.js';

/** Options of {@link ParameterGrid}. */
export interface ParameterGridOptions {
  /**
   * Accept parameters the pipeline (or step) does not declare. They vary after the
   * declared ones of their scope, in the order the spec writes them.
   * @default false
   */
  allowNewParameters?: boolean;
  /**
   * The most runs one selection (one batch) may hold; `select` refuses more. The grid
   * itself may be far larger: nothing is materialised.
   * @default 100_000
   */
  maxRunsPerBatch?: number;
  /**
   * Key order of a spec given as an object, per scope (a JS object lists integer-like
   * keys first). Ignored for JSON text, whose written order is used.
   * @default each object's own key order
   * @example { "pipeline_parameters": ["10", "2"] }
   */
  order?: SpecKeyOrder;
}

/** What {@link ParameterGrid.select} accepts. */
export type GridSelectionInput = 'all' | GridSelection | GridSelectionJSON | Iterable<number>;

/** The default of {@link ParameterGridOptions.maxRunsPerBatch}. */
export const DEFAULT_MAX_RUNS_PER_BATCH = 100_000;

const RESTORE = Symbol('ParameterGrid.restore');

/**
 * The grid of a job's parameter combinations (docs/semantics.md, "Parameters and grids"): the cartesian
 * product of the spec's value lists, merged over the pipeline's defaults.
 *
 * Canonical order: pipeline parameters first, then steps in the pipeline file's order;
 * within a scope, the parameters in the order the pipeline file declares them, then (with
 * `allowNewParameters`) undeclared ones in the spec's order. The last dimension varies
 * fastest. Combination `i` is computed from `i` (mixed radix): the grid costs nothing
 * until runs are asked for, and may hold up to `Number.MAX_SAFE_INTEGER` combinations.
 * `toJSON()` freezes the order; {@link ParameterGrid.fromJSON} restores it exactly.
 *
 * The grid is immutable. Each run is built per call; the values and defaults inside it
 * are shared between runs and frozen, so treat runs as read-only.
 * @throws ParameterError (see `ParameterErrorCode`) when the spec is invalid
 * @throws OptionsError when an option is invalid
 */
export class ParameterGrid implements Iterable<GridRun> {
  /** How many combinations the grid has (1 when no parameter varies). */
  readonly size: number;
  /** The axes in order: the first varies slowest, the last fastest. */
  readonly dimensions: readonly GridDimension[];
  /** See {@link ParameterGridOptions.maxRunsPerBatch}. */
  readonly maxRunsPerBatch: number;
  readonly #core: GridCore;
  readonly #definition: GridDefinition;

  /**
   * The grid of `pipeline`'s parameters under `spec`; checks the spec and throws a
   * `ParameterError` naming the place of a bad value.
   * @param pipeline the pipeline whose parameters vary
   * @param spec the `<pipeline>.parameters.json` content: JSON text (key order as
   *   written) or an object; absent or `null`: every parameter keeps its default
   */
  constructor(pipeline: Pipeline, spec?: string | ParameterSpec | null, options: ParameterGridOptions = {}) {
    if ((pipeline as unknown) !== RESTORE) argPipeline(pipeline, 'pipeline', 'new ParameterGrid');
    const opts = checkOptions(options);
    let input: CoreInput;
    if ((pipeline as unknown) === RESTORE) {
      input = spec as unknown as CoreInput;
    } else {
      const read = { allowNewParameters: opts.allowNewParameters, lenient: false, order: opts.order };
      const entries =
        spec === undefined || spec === null
          ? []
          : typeof spec === 'string'
            ? readSpecText(spec, pipeline, read).entries
            : readSpecObject(spec, pipeline, read).entries;
      input = planGrid(pipeline, entries);
    }
    this.#core = new GridCore(input);
    this.#definition = toDefinition(input);
    this.size = this.#core.size;
    this.dimensions = this.#definition.dimensions;
    this.maxRunsPerBatch = opts.maxRunsPerBatch;
    Object.freeze(this);
  }

  /**
   * Restores a grid from {@link ParameterGrid.toJSON}'s output (after any JSON round
   * trip): index `i` is the same combination as in the grid it was taken from.
   * @throws ParameterError `PARAMETERS_BAD_DEFINITION` when the definition is malformed
   */
  static fromJSON(definition: GridDefinition, options: Pick<ParameterGridOptions, 'maxRunsPerBatch'> = {}): ParameterGrid {
    return createGrid(fromDefinition(definition), options);
  }

  /**
   * The grid of a parameters file: `file` is read with `options.read` (default: from
   * disk, the path as given).
   * @throws ParameterError `PARAMETERS_FILE_NOT_FOUND` when the file does not exist, or
   *   any spec error, its message naming the file
   */
  static async fromFile(
    pipeline: Pipeline,
    file: string,
    options: ParameterGridOptions & { read?: ParametersFileReader } = {},
  ): Promise<ParameterGrid> {
    const text = await readText(options.read ?? readFromDisk(), file);
    if (text === undefined) {
      throw new ParameterError(ParameterErrorCode.FILE_NOT_FOUND, 'The parameters file does not exist', {
        path: file,
        value: file,
        hint: 'Check the name; it is read relative to the project root when a job names it',
      });
    }
    try {
      return new ParameterGrid(pipeline, text, options);
    } catch (err) {
      throw inFile(err, file);
    }
  }

  /**
   * The grid a job of `pipeline` gets, as Orchest finds it: `options.file` when named,
   * else `<name>.parameters.json` beside the pipeline file (`pipeline.path`) when it
   * exists, else every parameter at its default (one combination). `options.read` reads
   * relative to the project root: {@link readFromDirectory} for a project on disk,
   * {@link readFromSnapshot} for a job's snapshot.
   * @param pipeline the pipeline whose parameters the grid varies
   * @param options the reader (or a `file`), and the grid options
   * @throws {@link ParameterError} with a code of `ParameterErrorCode` (the path names the file and the place
   *   in it) when the file's spec is invalid, `PARAMETERS_FILE_NOT_FOUND` for a named `file` that does not
   *   exist; {@link OptionsError} for a bad argument or option
   */
  static async forPipeline(
    pipeline: Pipeline,
    options: ParameterGridOptions & { read: ParametersFileReader; file?: string },
  ): Promise<ParameterGrid> {
    argPipeline(pipeline, 'pipeline', 'ParameterGrid.forPipeline');
    argObject(options, 'options', 'ParameterGrid.forPipeline');
    if (options.file !== undefined) argString(options.file, 'options.file', 'ParameterGrid.forPipeline');
    else argFunction(options.read, 'options.read', 'ParameterGrid.forPipeline', 'a reader: readFromDirectory(projectDir) or readFromSnapshot(store, id)');
    if (options.file !== undefined) return ParameterGrid.fromFile(pipeline, options.file, options);
    const found = await findParametersFile(pipeline.path, options.read);
    if (found === undefined) return new ParameterGrid(pipeline, null, options);
    try {
      return new ParameterGrid(pipeline, found.text, options);
    } catch (err) {
      throw inFile(err, found.path);
    }
  }

  /**
   * The run parameters of combination `index`: every step has an entry.
   * @param index 0 to `size - 1`
   * @throws {@link ParameterError} `PARAMETERS_INDEX_OUT_OF_RANGE` for an index outside the grid
   */
  at(index: number): RunParameters {
    this.#checkIndex(index);
    return this.#core.build(this.#core.digitsOf(index, []));
  }

  /**
   * The values of combination `index`, one per dimension, in dimension order.
   * @param index 0 to `size - 1`
   * @throws {@link ParameterError} `PARAMETERS_INDEX_OUT_OF_RANGE` for an index outside the grid
   */
  values(index: number): readonly unknown[] {
    this.#checkIndex(index);
    const digits = this.#core.digitsOf(index, []);
    return Object.freeze(this.#core.input.dims.map((d, i) => d.values[digits[i]!]));
  }

  /**
   * The index of a combination: the run parameters `at()` returned (compared as canonical
   * JSON), or its values in dimension order (as `values()` returns).
   * @throws ParameterError `PARAMETERS_NOT_IN_GRID` with the path of the first value that is not
   */
  indexOf(combination: RunParameters | readonly unknown[]): number {
    const core = this.#core;
    if (Array.isArray(combination)) {
      const dims = core.input.dims;
      if (combination.length !== dims.length) {
        throw new ParameterError(ParameterErrorCode.NOT_IN_GRID, 'The combination is not in the grid', {
          path: '$',
          value: combination,
          hint: `Give one value per dimension (${dims.length}), in dimension order`,
        });
      }
      const digits = dims.map((d, i) => {
        const digit = core.digitOf(i, combination[i]);
        if (digit === undefined) {
          throw new ParameterError(ParameterErrorCode.NOT_IN_GRID, 'The combination is not in the grid', {
            path: joinPath('', i),
            value: combination[i],
            hint: `Not one of the values of ${d.path}`,
          });
        }
        return digit;
      });
      return core.indexOfDigits(digits);
    }
    return core.indexOfDigits(core.digitsOfRun(combination as RunParameters));
  }

  /**
   * The runs of the grid (or of `selection`, checked with {@link select}) in grid order,
   * computed one at a time: constant memory whatever the size.
   * @param selection which runs; all when absent
   * @throws {@link ParameterError} as {@link select} does, for a bad selection
   */
  entries(selection?: GridSelectionInput): IterableIterator<GridRun> {
    const ranges = selection === undefined ? [[0, this.size] as const] : this.select(selection).ranges;
    return new RunIterator(this.#core, ranges);
  }

  /** Every combination, in grid order (`for (const { index, parameters } of grid)`); constant memory. */
  [Symbol.iterator](): IterableIterator<GridRun> {
    return this.entries();
  }

  /**
   * Checks a selection against this grid and returns it normalised (sorted, merged
   * ranges). `'all'` is every index.
   * @throws ParameterError `PARAMETERS_BAD_SELECTION`, `PARAMETERS_INDEX_OUT_OF_RANGE`,
   *   `PARAMETERS_EMPTY_SELECTION` or `PARAMETERS_SELECTION_TOO_LARGE` (over `maxRunsPerBatch`)
   */
  select(input: GridSelectionInput): GridSelection {
    const selection = toSelection(input, this.size);
    const last = selection.last;
    if (last === undefined) {
      throw new ParameterError(ParameterErrorCode.EMPTY_SELECTION, 'The selection holds no run', {
        path: '$',
        value: selection.toJSON(),
        hint: 'Select at least one index, or "all"',
      });
    }
    if (last >= this.size) {
      throw new ParameterError(ParameterErrorCode.INDEX_OUT_OF_RANGE, 'The selection holds an index beyond the grid', {
        path: '$',
        value: last,
        hint: `The grid has ${this.size} combination(s): indices 0 to ${this.size - 1}`,
      });
    }
    if (selection.count > this.maxRunsPerBatch) {
      throw new ParameterError(ParameterErrorCode.SELECTION_TOO_LARGE, 'The selection holds more runs than one batch may start', {
        path: '$',
        value: selection.count,
        hint: `At most ${this.maxRunsPerBatch} (maxRunsPerBatch); select fewer indices or raise the limit`,
      });
    }
    return selection;
  }

  /** The grid frozen as plain JSON data (order, values, defaults). */
  toJSON(): GridDefinition {
    return this.#definition;
  }

  /** The grid as a spec object (scopes with dimensions only). Integer-like keys lose their order: see {@link toSpecText}. */
  toSpec(): ParameterSpec {
    const spec: Record<string, Record<string, readonly unknown[]>> = {};
    for (const d of this.dimensions) {
      const scope = d.scope === 'pipeline' ? PIPELINE_PARAMETERS : d.step;
      // Own-property checks: a step or parameter may be called "__proto__".
      if (!Object.prototype.hasOwnProperty.call(spec, scope)) setOwn(spec, scope, {});
      setOwn(spec[scope]!, d.key, d.values);
    }
    return spec;
  }

  /** The grid as the text of a `<pipeline>.parameters.json`, keys in grid order. */
  toSpecText(): string {
    const scopes = new Map<string, string[]>();
    for (const d of this.dimensions) {
      const scope = d.scope === 'pipeline' ? PIPELINE_PARAMETERS : d.step;
      const lines = scopes.get(scope) ?? [];
      lines.push(`    ${JSON.stringify(d.key)}: ${JSON.stringify(d.values)}`);
      scopes.set(scope, lines);
    }
    const body = [...scopes].map(([scope, lines]) => `  ${JSON.stringify(scope)}: {\n${lines.join(',\n')}\n  }`);
    return body.length === 0 ? '{}\n' : `{\n${body.join(',\n')}\n}\n`;
  }

  #checkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new ParameterError(ParameterErrorCode.INDEX_OUT_OF_RANGE, 'No combination has this index', {
        path: 'index',
        value: index,
        hint: `The grid has ${this.size} combination(s): indices 0 to ${this.size - 1}`,
      });
    }
  }
}

/** A grid of already checked data (for `reconcileParameters`); not public API. */
export function createGrid(input: CoreInput, options: ParameterGridOptions = {}): ParameterGrid {
  return new ParameterGrid(RESTORE as never, input as never, options);
}

function toSelection(input: GridSelectionInput, size: number): GridSelection {
  if (input === 'all') return GridSelection.all(size);
  if (input instanceof GridSelection) return input;
  if (typeof input === 'object' && input !== null && !(Symbol.iterator in input) && 'ranges' in input) {
    return GridSelection.fromJSON(input);
  }
  if (typeof input === 'object' && input !== null && Symbol.iterator in input) return GridSelection.fromIndices(input);
  throw new ParameterError(ParameterErrorCode.BAD_SELECTION, 'The selection is malformed', {
    path: '$',
    value: input,
    hint: 'Give "all", a list of indices, a GridSelection or { ranges: [[start, end], ...] }',
  });
}

function checkOptions(options: ParameterGridOptions): Required<Omit<ParameterGridOptions, 'order'>> & Pick<ParameterGridOptions, 'order'> {
  const allowNewParameters = options.allowNewParameters ?? false;
  const maxRunsPerBatch = options.maxRunsPerBatch ?? DEFAULT_MAX_RUNS_PER_BATCH;
  if (typeof allowNewParameters !== 'boolean') {
    throw new OptionsError('OPTIONS_INVALID', 'Expected `allowNewParameters` to be a boolean', {
      path: 'allowNewParameters',
      value: allowNewParameters,
    });
  }
  if (!Number.isSafeInteger(maxRunsPerBatch) || maxRunsPerBatch < 1) {
    throw new OptionsError('OPTIONS_INVALID', 'Expected `maxRunsPerBatch` to be an integer >= 1', {
      path: 'maxRunsPerBatch',
      value: maxRunsPerBatch,
    });
  }
  return { allowNewParameters, maxRunsPerBatch, order: options.order };
}
