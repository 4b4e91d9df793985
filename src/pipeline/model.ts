/**
 * The pipeline model: what a `.orchest` file (or a pipeline defined in code) means once
 * loaded and validated. Plain, frozen, JSON-serialisable data, so a job can store the
 * pipeline it was created with and read back exactly the same thing.
 */

/** The notebook kernel a step asks for (`.ipynb` steps). */
export interface StepKernel {
  /** The kernel's name (`python3`, `ir`, or Orchest's `orchest-kernel-<environment>`), mapped to a local kernel by the executor. */
  readonly name?: string;
  /** The name Jupyter shows; informational. */
  readonly display_name?: string;
}

/** One step of a pipeline: one file of the project, run in one environment. */
export interface PipelineStep {
  /** Unique within the pipeline; Orchest uses UUIDs. */
  readonly uuid: string;
  /** Display name (`name` in legacy files). */
  readonly title: string;
  /**
   * The file to run, relative to the pipeline file's folder as in Orchest (never absolute,
   * never leaving the project). Empty in some legacy files: such a step can be ordered
   * but a file executor refuses to run it.
   */
  readonly file_path: string;
  /** The steps that must succeed before this one starts, in the file's order. */
  readonly incoming_connections: readonly string[];
  /** An environment id, resolved by the host's `EnvironmentResolver` (legacy numbers become strings). */
  readonly environment: string;
  /** The kernel of a notebook step, as the file gives it. */
  readonly kernel?: StepKernel;
  /** Default values of the step's parameters. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Parameter names in the order the file writes them (see docs/semantics.md, "Parameters and grids"). */
  readonly parameterOrder: readonly string[];
  /** Orchest's editor data (the step's position); kept, never used. */
  readonly meta_data?: unknown;
}

/** Pipeline settings; unknown settings are kept. */
export interface PipelineSettings {
  /** How many steps may run at once; `0` or absent: no limit from the file. @default 0 */
  readonly max_steps_parallelism?: number;
  readonly [key: string]: unknown;
}

/** A validated pipeline. Build one with `loadPipeline`, `parsePipeline` or `definePipeline`. */
export interface Pipeline {
  /** The pipeline's id (Orchest: a UUID); `ORCHEST_PIPELINE_UUID` in steps. */
  readonly uuid: string;
  /** Display name. */
  readonly name: string;
  /** The file format's version, as written (Orchest 1.x: `"1.0.0"`). */
  readonly version?: string;
  /** Default values of the pipeline-level parameters. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Pipeline parameter names in the order the file writes them. */
  readonly parameterOrder: readonly string[];
  /** The pipeline's settings (`max_steps_parallelism`), unknown ones kept. */
  readonly settings: PipelineSettings;
  /** Kept in the model but never run (a warning says so). */
  readonly services: Readonly<Record<string, unknown>>;
  /** The steps in the file's order. */
  readonly steps: readonly PipelineStep[];
  /**
   * The document as read, unknown fields kept, so a run's copy of the pipeline file can
   * be rewritten with the run's parameter values and still hold everything else.
   */
  readonly source: Readonly<Record<string, unknown>>;
  /** Where the pipeline was read from, relative to the project root (`''` when defined in code). */
  readonly path: string;
  /** Non-fatal findings while loading (legacy fields, services that will not run). */
  readonly warnings: readonly string[];
}

/** The step with this uuid, or `undefined`. */
export function findStep(pipeline: Pipeline, uuid: string): PipelineStep | undefined {
  return pipeline.steps.find((s) => s.uuid === uuid);
}

/** Deep-freezes plain data in place and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/**
 * The parameter values one pipeline run uses: the pipeline's and each step's, defaults
 * merged with the run's grid values. `ParameterGrid.at(i)` returns this.
 */
export interface RunParameters {
  /** The pipeline-level parameters, by name. */
  readonly pipeline: Readonly<Record<string, unknown>>;
  /** By step uuid; every step of the pipeline has an entry (maybe empty). */
  readonly steps: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}
