import { joinPath } from '../errors.js';
import type { Pipeline } from '../pipeline/model.js';
import { fromDefinition } from './definition.js';
import { ParameterGrid, type ParameterGridOptions, createGrid } from './grid.js';
import { type SpecEntry, declaredKeys, planGrid, readSpecObject, readSpecText } from './spec.js';
import { PIPELINE_PARAMETERS, type GridDefinition, type ParameterSpec } from './types.js';

/** What {@link reconcileParameters} returns. */
export interface ReconcileResult {
  /** The grid over the new pipeline. */
  readonly grid: ParameterGrid;
  /**
   * Spec paths of what was dropped because the pipeline no longer has it: a step
   * (`["<uuid>"]`) or a parameter (`pipeline_parameters.foo`, `["<uuid>"].bar`).
   */
  readonly dropped: readonly string[];
}

/**
 * Carries a job's parameters over to a (changed) pipeline, as "duplicate job" needs:
 * values of parameters the pipeline still declares are kept, steps and parameters it no
 * longer has are dropped (and listed), parameters it gained keep their defaults, and the
 * order is the new pipeline's. Values are checked as in a new grid (a spec may still be
 * refused for a list that is empty or repeats a value).
 * @param previous the old grid, its stored definition, or its spec (object or JSON text)
 */
export function reconcileParameters(
  previous: ParameterGrid | GridDefinition | ParameterSpec | string,
  pipeline: Pipeline,
  options: ParameterGridOptions = {},
): ReconcileResult {
  const allowNewParameters = options.allowNewParameters ?? false;
  let entries: readonly SpecEntry[];
  let dropped: readonly string[];
  if (typeof previous === 'string' || !isDefinition(previous)) {
    const read = { allowNewParameters, lenient: true, order: options.order };
    ({ entries, dropped } =
      typeof previous === 'string' ? readSpecText(previous, pipeline, read) : readSpecObject(previous, pipeline, read));
  } else {
    ({ entries, dropped } = keepKnown(previous instanceof ParameterGrid ? previous.toJSON() : previous, pipeline, allowNewParameters));
  }
  // The grid itself is checked with the caller's options; options.order was for the old spec only.
  const grid = createGrid(planGrid(pipeline, entries), { ...options, order: undefined });
  return { grid, dropped };
}

function isDefinition(value: ParameterGrid | GridDefinition | ParameterSpec): value is ParameterGrid | GridDefinition {
  if (value instanceof ParameterGrid) return true;
  const v = value as { version?: unknown; dimensions?: unknown };
  return v.version === 1 && Array.isArray(v.dimensions);
}

function keepKnown(
  definition: GridDefinition,
  pipeline: Pipeline,
  allowNewParameters: boolean,
): { entries: SpecEntry[]; dropped: string[] } {
  const input = fromDefinition(definition);
  const entries: SpecEntry[] = [];
  const dropped: string[] = [];
  for (const dim of input.dims) {
    const uuid = dim.step < 0 ? null : input.steps[dim.step]!.uuid;
    const step = uuid === null ? undefined : pipeline.steps.find((s) => s.uuid === uuid);
    if (uuid !== null && step === undefined) {
      const path = joinPath('', uuid);
      if (!dropped.includes(path)) dropped.push(path);
      continue;
    }
    const declared = step === undefined ? declaredKeys(pipeline.parameterOrder, pipeline.parameters) : declaredKeys(step.parameterOrder, step.parameters);
    if (!declared.includes(dim.key) && !allowNewParameters) {
      dropped.push(joinPath('', uuid ?? PIPELINE_PARAMETERS, dim.key));
      continue;
    }
    entries.push({ step: uuid, key: dim.key, values: dim.values });
  }
  return { entries, dropped };
}
