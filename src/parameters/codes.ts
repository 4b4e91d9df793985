/**
 * The stable `code`s of the {@link ParameterError}s thrown by `src/parameters`. Branch on
 * these, never on messages. Every error also carries the offending `path`
 * (`pipeline_parameters.foo`, `["<step-uuid>"].bar[2]`, `ranges[3]`), the `value` and a
 * `hint`.
 */
export const ParameterErrorCode = {
  /** The parameters text is not valid JSON (the message gives line and column). */
  MALFORMED_JSON: 'PARAMETERS_MALFORMED_JSON',
  /** The spec (or a scope inside it) is not a JSON object. */
  NOT_AN_OBJECT: 'PARAMETERS_NOT_AN_OBJECT',
  /** A key is written twice in the same object of the parameters text. */
  DUPLICATE_KEY: 'PARAMETERS_DUPLICATE_KEY',
  /** A top-level key is neither `pipeline_parameters` nor a step uuid of the pipeline. */
  UNKNOWN_STEP: 'PARAMETERS_UNKNOWN_STEP',
  /** A parameter the pipeline (or step) does not declare, and new ones are not allowed. */
  UNKNOWN_PARAMETER: 'PARAMETERS_UNKNOWN_PARAMETER',
  /** A parameter's values are not given as a list. */
  NOT_A_LIST: 'PARAMETERS_NOT_A_LIST',
  /** A parameter's list of values is empty. */
  EMPTY_LIST: 'PARAMETERS_EMPTY_LIST',
  /** A list holds the same value twice (compared as canonical JSON). */
  REPEATED_VALUE: 'PARAMETERS_REPEATED_VALUE',
  /** A value is not plain JSON (undefined, NaN, Infinity, a function, a class instance, a cycle). */
  NOT_JSON: 'PARAMETERS_VALUE_NOT_JSON',
  /** An explicit key order does not list exactly the keys of its scope. */
  BAD_ORDER: 'PARAMETERS_BAD_ORDER',
  /** The grid would have more than `Number.MAX_SAFE_INTEGER` combinations. */
  GRID_TOO_LARGE: 'PARAMETERS_GRID_TOO_LARGE',
  /** An index is not an integer in `[0, size)`. */
  INDEX_OUT_OF_RANGE: 'PARAMETERS_INDEX_OUT_OF_RANGE',
  /** A combination given to `indexOf` is not one of the grid's. */
  NOT_IN_GRID: 'PARAMETERS_NOT_IN_GRID',
  /** A selection is malformed (not indices, not ranges, not `'all'`). */
  BAD_SELECTION: 'PARAMETERS_BAD_SELECTION',
  /** A selection holds no run. */
  EMPTY_SELECTION: 'PARAMETERS_EMPTY_SELECTION',
  /** A selection holds more runs than `maxRunsPerBatch`. */
  SELECTION_TOO_LARGE: 'PARAMETERS_SELECTION_TOO_LARGE',
  /** A stored grid definition (`ParameterGrid.fromJSON`) is malformed. */
  BAD_DEFINITION: 'PARAMETERS_BAD_DEFINITION',
  /** A parameters file that was named explicitly does not exist. */
  FILE_NOT_FOUND: 'PARAMETERS_FILE_NOT_FOUND',
  /** A parameters file path leaves the directory it is read from. */
  FILE_OUTSIDE_ROOT: 'PARAMETERS_FILE_OUTSIDE_ROOT',
} as const;
export type ParameterErrorCode = (typeof ParameterErrorCode)[keyof typeof ParameterErrorCode];
