/** Parameter grids: the combinations a job runs (docs/semantics.md, "Parameters and grids"). */
export { ParameterGrid, DEFAULT_MAX_RUNS_PER_BATCH, type ParameterGridOptions, type GridSelectionInput } from './grid.js';
export { GridSelection } from './selection.js';
export { reconcileParameters, type ReconcileResult } from './reconcile.js';
export {
  findParametersFile,
  parametersFileFor,
  readFromDirectory,
  readFromDisk,
  readFromSnapshot,
  type ParametersFileReader,
} from './file.js';
export { ParameterErrorCode } from './codes.js';
export {
  PIPELINE_PARAMETERS,
  type GridDefinition,
  type GridDimension,
  type GridRun,
  type GridSelectionJSON,
  type IndexRange,
  type ParameterSpec,
  type SpecKeyOrder,
} from './types.js';
