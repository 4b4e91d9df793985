import type { RunParameters } from '../pipeline/model.js';

/** The top-level key of a parameters spec that holds the pipeline-level parameters. */
export const PIPELINE_PARAMETERS = 'pipeline_parameters';

/**
 * A parameter spec in the format of `<pipeline>.parameters.json`: for the pipeline and for
 * any step (by uuid), a list of values per parameter. Parameters left out keep their
 * default.
 * @example { "pipeline_parameters": { "lr": [0.1, 0.01] }, "62a62810-...": { "k": [1, 2, 3] } }
 */
export interface ParameterSpec {
  readonly [scope: string]: { readonly [key: string]: readonly unknown[] };
}

/**
 * An explicit key order for a spec given as an object (a JS object lists integer-like keys
 * such as `"10"` first): per scope (`pipeline_parameters` or a step uuid), exactly that
 * scope's keys. Only keys the pipeline does not declare (see `allowNewParameters`) take
 * their place from it: declared keys follow the pipeline file.
 */
export interface SpecKeyOrder {
  readonly [scope: string]: readonly string[];
}

/** One axis of the grid: a parameter and its values, in the order runs vary over them. */
export type GridDimension =
  | {
      /** A pipeline parameter. */
      readonly scope: 'pipeline';
      /** The parameter's name. */
      readonly key: string;
      /** Its values, in the order runs take them. */
      readonly values: readonly unknown[];
    }
  | {
      /** A step's parameter. */
      readonly scope: 'step';
      /** The step's uuid. */
      readonly step: string;
      /** The parameter's name. */
      readonly key: string;
      /** Its values, in the order runs take them. */
      readonly values: readonly unknown[];
    };

/**
 * A grid frozen as plain JSON data: store it with a job and restore it with
 * `ParameterGrid.fromJSON`, and index `i` is the same combination as before. The
 * `dimensions` array *is* the order (first slowest, last fastest).
 */
export interface GridDefinition {
  /** The format of this record; bumped if it ever changes. */
  readonly version: 1;
  /** The pipeline's parameter defaults. */
  readonly pipelineDefaults: Readonly<Record<string, unknown>>;
  /** Every step of the pipeline, in the file's order, with its parameter defaults. */
  readonly steps: readonly {
    /** The step's uuid. */
    readonly uuid: string;
    /** Its parameters' default values. */
    readonly defaults: Readonly<Record<string, unknown>>;
  }[];
  /** The parameters that vary, in grid order: the first varies slowest, the last fastest. */
  readonly dimensions: readonly GridDimension[];
}

/** One combination of the grid, as iteration yields it. */
export interface GridRun {
  /** The combination's index in the grid (its `gridIndex`). */
  readonly index: number;
  /** The combination's effective parameters: the grid's values merged over every default. */
  readonly parameters: RunParameters;
}

/** A half-open range of grid indices: `[start, end)`. */
export type IndexRange = readonly [start: number, end: number];

/** A stored {@link GridSelection}: sorted, disjoint, non-adjacent half-open ranges. */
export interface GridSelectionJSON {
  /** The ranges, sorted, disjoint and non-adjacent; each `[start, end)` with `start < end`. */
  readonly ranges: readonly IndexRange[];
}
