import { ParameterError, joinPath } from '../errors.js';
import { ParameterErrorCode } from './codes.js';
import type { CoreDimension, CoreInput } from './core.js';
import { cloneJsonValue, isPlainObject, readValueList, setOwn } from './json-values.js';
import { PIPELINE_PARAMETERS, type GridDefinition, type GridDimension } from './types.js';

/** The spec path of a dimension, for errors: `pipeline_parameters.foo`, `["uuid"].bar`. */
export function dimensionPath(step: string | null, key: string): string {
  return joinPath('', step ?? PIPELINE_PARAMETERS, key);
}

/** The plain, JSON-ready form of a grid's data. */
export function toDefinition(input: CoreInput): GridDefinition {
  return Object.freeze({
    version: 1 as const,
    pipelineDefaults: input.pipelineDefaults,
    steps: Object.freeze(input.steps.map((s) => Object.freeze({ uuid: s.uuid, defaults: s.defaults }))),
    dimensions: Object.freeze(
      input.dims.map(
        (d): GridDimension =>
          Object.freeze(
            d.step < 0
              ? { scope: 'pipeline' as const, key: d.key, values: d.values }
              : { scope: 'step' as const, step: input.steps[d.step]!.uuid, key: d.key, values: d.values },
          ),
      ),
    ),
  });
}

/**
 * Checks a stored definition (it may come from a database or a hand-edited file) and
 * turns it into a grid's data. The dimensions keep their order: it is the frozen order.
 */
export function fromDefinition(def: unknown): CoreInput {
  if (!isPlainObject(def)) throw bad('$', def, 'A grid definition is the object ParameterGrid.toJSON() returns');
  if (def.version !== 1) throw bad('version', def.version, 'This version reads grid definitions of version 1');
  const pipelineDefaults = readDefaults(def.pipelineDefaults, 'pipelineDefaults');
  if (!Array.isArray(def.steps)) throw bad('steps', def.steps, 'steps is a list of { uuid, defaults }');
  const stepIndex = new Map<string, number>();
  const steps = def.steps.map((s: unknown, i) => {
    const path = joinPath('steps', i);
    if (!isPlainObject(s) || typeof s.uuid !== 'string' || s.uuid === '') {
      throw bad(path, s, 'Each step is { uuid: non-empty string, defaults: {...} }');
    }
    if (stepIndex.has(s.uuid)) throw bad(joinPath(path, 'uuid'), s.uuid, 'Step uuids are unique');
    stepIndex.set(s.uuid, i);
    return Object.freeze({ uuid: s.uuid, defaults: readDefaults(s.defaults, joinPath(path, 'defaults')) });
  });
  if (!Array.isArray(def.dimensions)) throw bad('dimensions', def.dimensions, 'dimensions is a list of { scope, key, values }');
  const seen = new Set<string>();
  const dims = def.dimensions.map((d: unknown, i): CoreDimension => {
    const path = joinPath('dimensions', i);
    if (!isPlainObject(d) || typeof d.key !== 'string') {
      throw bad(path, d, 'Each dimension is { scope: "pipeline", key, values } or { scope: "step", step, key, values }');
    }
    let step = -1;
    if (d.scope === 'step') {
      const found = typeof d.step === 'string' ? stepIndex.get(d.step) : undefined;
      if (found === undefined) throw bad(joinPath(path, 'step'), d.step, 'A step dimension names one of the definition\'s steps');
      step = found;
    } else if (d.scope !== 'pipeline') {
      throw bad(joinPath(path, 'scope'), d.scope, 'scope is "pipeline" or "step"');
    }
    const id = JSON.stringify([step, d.key]);
    if (seen.has(id)) throw bad(joinPath(path, 'key'), d.key, 'Each parameter is one dimension only');
    seen.add(id);
    const values = readValueList(d.values, joinPath(path, 'values'));
    return Object.freeze({ step, key: d.key, values, path: dimensionPath(step < 0 ? null : steps[step]!.uuid, d.key) });
  });
  return { pipelineDefaults, steps: Object.freeze(steps), dims: Object.freeze(dims) };
}

/** A frozen copy of a defaults record. */
export function readDefaults(value: unknown, path: string): Readonly<Record<string, unknown>> {
  if (!isPlainObject(value)) throw bad(path, value, 'Defaults are an object of parameter -> value');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, key, cloneJsonValue(value[key], joinPath(path, key)));
  return Object.freeze(out);
}

function bad(path: string, value: unknown, hint: string): ParameterError {
  return new ParameterError(ParameterErrorCode.BAD_DEFINITION, 'The stored grid definition is malformed', { path, value, hint });
}
