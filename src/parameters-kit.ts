/**
 * `pipeline-jobs/parameters`: the types around `ParameterGrid` (its options, dimensions,
 * runs and selections) and the parameters-file reader, for code that builds or inspects
 * grids itself. The class and `readFromDirectory` / `readFromSnapshot` are in the root;
 * a job only needs a `ParameterSpec`.
 * @packageDocumentation
 * @module pipeline-jobs/parameters
 */
export {
  DEFAULT_MAX_RUNS_PER_BATCH,
  PIPELINE_PARAMETERS,
  type ParameterGridOptions,
  type GridSelectionInput,
  GridSelection,
  type ParametersFileReader,
  type GridDefinition,
  type GridDimension,
  type GridRun,
  type GridSelectionJSON,
  type IndexRange,
  type SpecKeyOrder,
} from './parameters/index.js';
