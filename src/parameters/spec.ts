import { ParameterError, joinPath } from '../errors.js';
import type { Pipeline } from '../pipeline/model.js';
import type { CoreDimension, CoreInput } from './core.js';
import { dimensionPath, readDefaults } from './definition.js';
import { JsonSyntaxError, parseJsonText } from '../util/json-text.js';
import { ParameterErrorCode } from './codes.js';
import { isPlainObject, readValueList } from './json-values.js';
import { PIPELINE_PARAMETERS, type SpecKeyOrder } from './types.js';

/** One parameter of a spec, validated: `step` is `null` for a pipeline parameter. */
export interface SpecEntry {
  readonly step: string | null;
  readonly key: string;
  readonly values: readonly unknown[];
}

/** How a spec is read. */
export interface ReadSpecOptions {
  /** Keep parameters the pipeline does not declare instead of refusing them. */
  readonly allowNewParameters: boolean;
  /**
   * Drop unknown steps and undeclared parameters (listing their paths in `dropped`)
   * instead of refusing them: what duplicating a job onto a changed pipeline needs.
   */
  readonly lenient: boolean;
  /** Key order of a spec given as an object. @default the object's own key order */
  readonly order?: SpecKeyOrder | undefined;
}

export interface ReadSpecResult {
  /** The parameters kept, in the order the spec writes them. */
  readonly entries: readonly SpecEntry[];
  /** Paths of what a lenient read dropped. */
  readonly dropped: readonly string[];
}

/** The parameter names a pipeline or step declares, in the file's order. */
export function declaredKeys(order: readonly string[], params: Readonly<Record<string, unknown>>): string[] {
  const own = (k: string): boolean => Object.prototype.hasOwnProperty.call(params, k);
  const keys = order.filter(own);
  // A model built by hand may list fewer keys in its order than it has: keep those too.
  for (const k of Object.keys(params)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** Reads a spec from JSON text, in the key order the text writes. */
export function readSpecText(text: string, pipeline: Pipeline, options: ReadSpecOptions): ReadSpecResult {
  let parsed;
  try {
    // Editors on Windows may write a byte order mark, which is not JSON.
    parsed = parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new ParameterError(ParameterErrorCode.MALFORMED_JSON, `The parameters are not valid JSON: ${err.message}`, {
        path: '$',
        hint: `Fix the JSON syntax at line ${err.line}, column ${err.column}`,
        cause: err,
      });
    }
    throw err;
  }
  const p = parsed;
  return walkSpec(p.value, pipeline, options, {
    keys: (obj) => p.keyOrder(obj),
    duplicates: (obj) => p.duplicateKeys(obj),
  });
}

/** Reads a spec given as an object; key order from `options.order` or the object. */
export function readSpecObject(spec: unknown, pipeline: Pipeline, options: ReadSpecOptions): ReadSpecResult {
  const order = options.order;
  if (order !== undefined) checkOrderShape(order, spec);
  return walkSpec(spec, pipeline, options, {
    keys: (obj, scope) => {
      const given = scope === undefined ? undefined : order?.[scope];
      if (given === undefined) return Object.keys(obj);
      checkOrder(given, obj, scope!);
      return given;
    },
    duplicates: () => [],
  });
}

interface KeySource {
  /** The keys of `obj` in order; `scope` is the top-level key `obj` sits under. */
  keys(obj: object, scope?: string): readonly string[];
  duplicates(obj: object): readonly string[];
}

function walkSpec(spec: unknown, pipeline: Pipeline, options: ReadSpecOptions, source: KeySource): ReadSpecResult {
  if (!isPlainObject(spec)) {
    throw new ParameterError(ParameterErrorCode.NOT_AN_OBJECT, 'A parameter spec must be a JSON object', {
      path: '$',
      value: spec,
      hint: 'Write {"pipeline_parameters": {"key": [values]}, "<step-uuid>": {"key": [values]}}',
    });
  }
  refuseDuplicates(source.duplicates(spec), '');
  const entries: SpecEntry[] = [];
  const dropped: string[] = [];
  const steps = new Map(pipeline.steps.map((s) => [s.uuid, s]));
  for (const scope of source.keys(spec)) {
    const scopePath = joinPath('', scope);
    const isPipeline = scope === PIPELINE_PARAMETERS;
    const step = isPipeline ? undefined : steps.get(scope);
    if (!isPipeline && step === undefined) {
      if (options.lenient) {
        dropped.push(scopePath);
        continue;
      }
      throw new ParameterError(ParameterErrorCode.UNKNOWN_STEP, 'The spec names a step the pipeline does not have', {
        path: scopePath,
        value: scope,
        hint: `Top-level keys are "${PIPELINE_PARAMETERS}" or step uuids of pipeline "${pipeline.name}": ${describeList(pipeline.steps.map((s) => s.uuid))}`,
      });
    }
    const body = spec[scope];
    if (!isPlainObject(body)) {
      throw new ParameterError(ParameterErrorCode.NOT_AN_OBJECT, 'The parameters of a scope must be a JSON object', {
        path: scopePath,
        value: body,
        hint: 'Write {"key": [values], ...}',
      });
    }
    refuseDuplicates(source.duplicates(body), scopePath);
    const declared = isPipeline
      ? declaredKeys(pipeline.parameterOrder, pipeline.parameters)
      : declaredKeys(step!.parameterOrder, step!.parameters);
    for (const key of source.keys(body, scope)) {
      const path = joinPath(scopePath, key);
      if (!declared.includes(key) && !options.allowNewParameters) {
        if (options.lenient) {
          dropped.push(path);
          continue;
        }
        const where = isPipeline ? `pipeline "${pipeline.name}"` : `step "${scope}"`;
        throw new ParameterError(ParameterErrorCode.UNKNOWN_PARAMETER, `The spec sets a parameter ${where} does not declare`, {
          path,
          value: key,
          hint: `Declared: ${describeList(declared)}; declare it in the pipeline file or allow new parameters (allowNewParameters)`,
        });
      }
      entries.push({ step: isPipeline ? null : scope, key, values: readValueList(body[key], path) });
    }
  }
  return { entries, dropped };
}

function refuseDuplicates(duplicates: readonly string[], base: string): void {
  const dup = duplicates[0];
  if (dup === undefined) return;
  throw new ParameterError(ParameterErrorCode.DUPLICATE_KEY, 'The same key is written twice', {
    path: joinPath(base, dup),
    value: dup,
    hint: 'JSON keeps only the last one silently; merge the two into one entry',
  });
}

function checkOrderShape(order: unknown, spec: unknown): void {
  if (!isPlainObject(order)) {
    throw new ParameterError(ParameterErrorCode.BAD_ORDER, 'A key order must be an object of scope -> list of keys', {
      path: 'order',
      value: order,
      hint: 'Give e.g. {"pipeline_parameters": ["b", "a"]}',
    });
  }
  for (const scope of Object.keys(order)) {
    if (!isPlainObject(spec) || !Object.prototype.hasOwnProperty.call(spec, scope)) {
      throw new ParameterError(ParameterErrorCode.BAD_ORDER, 'The key order names a scope the spec does not have', {
        path: joinPath('order', scope),
        value: scope,
        hint: 'Only give an order for scopes present in the spec',
      });
    }
  }
}

function checkOrder(given: unknown, obj: object, scope: string): void {
  const path = joinPath('order', scope);
  const keys = Object.keys(obj);
  const ok =
    Array.isArray(given) &&
    given.length === keys.length &&
    new Set(given).size === given.length &&
    given.every((k) => typeof k === 'string' && keys.includes(k));
  if (!ok) {
    throw new ParameterError(ParameterErrorCode.BAD_ORDER, 'A key order must list exactly the keys of its scope, once each', {
      path,
      value: given,
      hint: `The scope has the keys ${describeList(keys)}`,
    });
  }
}

function describeList(items: readonly string[]): string {
  if (items.length === 0) return '(none)';
  const shown = items.slice(0, 8).map((s) => JSON.stringify(s));
  return items.length > 8 ? `${shown.join(', ')} and ${items.length - 8} more` : shown.join(', ');
}

/**
 * Puts a spec's entries in canonical order: pipeline first, then the steps in the file's
 * order; in each, declared parameters in the file's order, then new ones as written.
 */
export function planGrid(pipeline: Pipeline, entries: readonly SpecEntry[]): CoreInput {
  const steps = pipeline.steps.map((s) =>
    Object.freeze({ uuid: s.uuid, defaults: readDefaults(s.parameters, joinPath('steps', s.uuid, 'parameters')) }),
  );
  const dims: CoreDimension[] = [];
  const scopes: Array<{ step: number; uuid: string | null; declared: string[] }> = [
    { step: -1, uuid: null, declared: declaredKeys(pipeline.parameterOrder, pipeline.parameters) },
    ...pipeline.steps.map((s, i) => ({ step: i, uuid: s.uuid, declared: declaredKeys(s.parameterOrder, s.parameters) })),
  ];
  for (const scope of scopes) {
    const mine = entries.filter((e) => e.step === scope.uuid);
    const ordered = [
      ...scope.declared.flatMap((key) => mine.filter((e) => e.key === key)),
      ...mine.filter((e) => !scope.declared.includes(e.key)),
    ];
    for (const e of ordered) dims.push(Object.freeze({ step: scope.step, key: e.key, values: e.values, path: dimensionPath(e.step, e.key) }));
  }
  return {
    pipelineDefaults: readDefaults(pipeline.parameters, 'parameters'),
    steps: Object.freeze(steps),
    dims: Object.freeze(dims),
  };
}
