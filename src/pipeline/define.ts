import { PipelineError } from '../errors.js';
import { buildPipeline } from './load.js';
import type { Pipeline } from './model.js';
import type { PipelineErrorCode } from '../error-codes.js';

/** A step of a pipeline defined in code: Orchest's field names, most of them optional. */
export interface StepDefinition {
  /** Unique within the pipeline (any string; Orchest uses UUIDs). */
  uuid: string;
  /** Display name. @default the uuid */
  title?: string;
  /** The file to run, relative to the project root. @default '' (function executors need none) */
  file_path?: string;
  /** The uuids of the steps that must succeed before this one starts. @default [] */
  incoming_connections?: string[];
  /** The environment id the step runs in (mapped by the step executors). @default '' */
  environment?: string;
  /** The notebook kernel of an `.ipynb` step. @default none: the executor's `defaultKernel` */
  kernel?: {
    /** The kernel's name, mapped to a local kernel by the executor. */
    name?: string;
    /** The name Jupyter shows; informational. */
    display_name?: string;
  };
  /** Default parameter values, in the order the grid should use. @default {} */
  parameters?: Record<string, unknown>;
  /** Anything the host wants kept with the step; never used. @default undefined */
  meta_data?: unknown;
}

/** A pipeline defined in code (tests, hosts without `.orchest` files). */
export interface PipelineDefinition {
  /** Display name. */
  name: string;
  /** The pipeline's id (`ORCHEST_PIPELINE_UUID` in steps). @default the name */
  uuid?: string;
  /** A version label, kept as given. @default undefined */
  version?: string;
  /** Default values of the pipeline-level parameters, in the order the grid should use. @default {} */
  parameters?: Record<string, unknown>;
  /** Pipeline settings; unknown ones are kept. @default {} */
  settings?: {
    /** How many steps may run at once. @default no limit from the pipeline */
    max_steps_parallelism?: number;
    /** Any other setting, kept as given. */
    [key: string]: unknown;
  };
  /** Orchest services: kept in the model, never run (a warning says so). @default {} */
  services?: Record<string, unknown>;
  /** The steps, in order. */
  steps: StepDefinition[];
}

/**
 * Builds a pipeline from code, with the same validation as a file. Parameter order is
 * the JS object's key order: integer-like keys (`"10"`) come first there, so use
 * non-numeric names or load a file when that order matters.
 * @param def the pipeline: name, parameters, settings and steps
 * @throws {@link PipelineError} with a code of {@link PipelineErrorCode} (`PIPELINE_INVALID_FIELD`,
 *   `PIPELINE_DUPLICATE_STEP`, `PIPELINE_CYCLE`, ...) naming the offending path
 */
export function definePipeline(def: PipelineDefinition): Pipeline {
  if (def === null || typeof def !== 'object' || !Array.isArray(def.steps)) {
    throw new PipelineError('PIPELINE_INVALID_FIELD', 'definePipeline expects { name, steps: [...] }', {
      path: 'steps',
      value: (def as { steps?: unknown } | null)?.steps,
      hint: 'Pass the steps as an array of { uuid, file_path, incoming_connections }',
    });
  }
  const steps: Record<string, unknown> = {};
  def.steps.forEach((step, i) => {
    const uuid = (step as { uuid?: unknown } | null)?.uuid;
    if (typeof uuid !== 'string' || uuid === '') {
      throw new PipelineError('PIPELINE_INVALID_FIELD', 'Every step needs a non-empty string uuid', {
        path: `steps[${i}].uuid`,
        value: uuid,
        hint: 'Give the step a uuid (any unique string)',
      });
    }
    if (Object.prototype.hasOwnProperty.call(steps, uuid)) {
      throw new PipelineError('PIPELINE_DUPLICATE_STEP', 'Two steps have the same uuid', {
        path: `steps[${i}].uuid`,
        value: uuid,
        hint: 'Give every step its own uuid',
      });
    }
    steps[uuid] = { title: uuid, incoming_connections: [], environment: '', file_path: '', parameters: {}, ...step };
  });
  const doc = {
    name: def.name,
    uuid: def.uuid ?? def.name,
    ...(def.version === undefined ? {} : { version: def.version }),
    parameters: def.parameters ?? {},
    settings: def.settings ?? {},
    services: def.services ?? {},
    steps,
  };
  return buildPipeline(doc, '');
}
