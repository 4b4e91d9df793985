import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError, joinPath } from '../errors.js';
import { type ParsedJson, JsonSyntaxError, parseJsonText } from '../util/json-text.js';
import { validateDag } from './dag.js';
import { type Pipeline, type PipelineStep, deepFreeze } from './model.js';
import { type RawPipeline, type RawStep, checkRawPipeline } from './raw.js';
import { argObject, argString } from '../util/args.js';
import type { PipelineErrorCode } from '../error-codes.js';

/** Options of {@link parsePipeline}. */
export interface ParsePipelineOptions {
  /**
   * The pipeline file's path relative to the project root (`/`-separated); step
   * `file_path`s are relative to its folder, as in Orchest.
   * @default 'pipeline.orchest'
   */
  path?: string;
}

/**
 * Reads and validates a `.orchest` file from disk.
 * @param file the pipeline file
 * @param projectDir the project root; the pipeline's `path` is taken relative to it.
 *   Default: the file's folder.
 * @throws {@link PipelineError} `PIPELINE_OUTSIDE_PROJECT` when the file is not inside `projectDir`, and every
 *   code {@link parsePipeline} throws; {@link OptionsError} `OPTIONS_INVALID` / `OPTIONS_MISSING` for a
 *   non-string argument. A file that cannot be read rejects with Node's own error (`ENOENT`, ...).
 */
export async function loadPipeline(file: string, projectDir: string = path.dirname(String(file))): Promise<Pipeline> {
  argString(file, 'file', 'loadPipeline');
  argString(projectDir, 'projectDir', 'loadPipeline');
  const text = await readFile(file, 'utf8');
  const rel = path.relative(projectDir, file).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new PipelineError('PIPELINE_OUTSIDE_PROJECT', 'The pipeline file is not inside the project directory', {
      value: file,
      hint: `Pass a projectDir that contains it (got ${JSON.stringify(projectDir)})`,
    });
  }
  return parsePipeline(text, { path: rel });
}

/**
 * Parses and validates the text of a `.orchest` file. Parameter key order is taken
 * from the text itself (see docs/semantics.md, "Parameters and grids").
 * @param text the file's JSON text
 * @param options where the file is in its project
 * @throws {@link PipelineError} with a code of {@link PipelineErrorCode}, the path inside the document,
 *   the value and a hint; {@link OptionsError} for a non-string `text` or a bad `options`
 */
export function parsePipeline(text: string, options: ParsePipelineOptions = {}): Pipeline {
  argString(text, 'text', 'parsePipeline', true);
  argObject(options, 'options', 'parsePipeline');
  let parsed: ParsedJson;
  try {
    parsed = parseJsonText(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new PipelineError('PIPELINE_MALFORMED_JSON', `The pipeline file is not valid JSON: ${err.message}`, {
        path: '$',
        hint: 'Fix the JSON syntax at that line and column',
        cause: err,
      });
    }
    throw err;
  }
  return buildPipeline(parsed.value, options.path ?? 'pipeline.orchest', parsed);
}

/**
 * Validates a parsed document and turns it into a frozen {@link Pipeline}. Shared by
 * files (with the text's key order) and `definePipeline` (with JS key order).
 */
export function buildPipeline(doc: unknown, pipelinePath: string, parsed?: ParsedJson): Pipeline {
  const issues = checkRawPipeline(doc);
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new PipelineError('PIPELINE_INVALID_FIELD', `Invalid pipeline: expected ${first.expected}`, {
      path: first.path || '$',
      value: first.value,
      hint:
        issues.length > 1
          ? `${issues.length - 1} more problem(s): ${issues.slice(1, 4).map((i) => i.path).join(', ')}`
          : 'See the .orchest format: name, uuid, parameters, settings, steps{uuid, title, file_path, incoming_connections, environment}',
    });
  }
  const raw = doc as RawPipeline;
  const keyOrder = (obj: object | undefined): string[] => (obj ? [...(parsed?.keyOrder(obj) ?? Object.keys(obj))] : []);
  const warnings: string[] = [];

  for (const dup of parsed?.duplicateKeys(raw.steps) ?? []) {
    throw new PipelineError('PIPELINE_DUPLICATE_STEP', 'Two steps have the same uuid', {
      path: joinPath('steps', dup),
      value: dup,
      hint: 'Give every step its own uuid',
    });
  }
  const stepKeys = keyOrder(raw.steps);
  if (stepKeys.length === 0) {
    throw new PipelineError('PIPELINE_EMPTY', 'The pipeline has no steps', {
      path: 'steps',
      value: raw.steps,
      hint: 'Add at least one step',
    });
  }
  const pipelineDir = path.posix.dirname(pipelinePath);
  const steps = stepKeys.map((key) => buildStep(key, raw.steps[key]!, pipelineDir, keyOrder, warnings));
  validateDag(steps);

  const services = raw.services ?? {};
  if (Object.keys(services).length > 0) {
    warnings.push(`Pipeline services are kept in the model but not run: ${Object.keys(services).join(', ')}`);
  }
  const settings = { ...(raw.settings ?? {}) };
  return deepFreeze({
    uuid: raw.uuid,
    name: raw.name ?? raw.uuid,
    ...(raw.version === undefined ? {} : { version: raw.version }),
    parameters: { ...(raw.parameters ?? {}) },
    parameterOrder: keyOrder(raw.parameters),
    settings,
    services: { ...services },
    steps,
    source: structuredClone(raw) as unknown as Record<string, unknown>,
    path: pipelinePath,
    warnings,
  } satisfies Pipeline);
}

function buildStep(
  key: string,
  raw: RawStep,
  pipelineDir: string,
  keyOrder: (obj: object | undefined) => string[],
  warnings: string[],
): PipelineStep {
  const at = (...keys: Array<string | number>): string => joinPath('steps', key, ...keys);
  if (raw.uuid !== key) {
    throw new PipelineError('PIPELINE_UUID_MISMATCH', `Step "${key}" has a different uuid inside`, {
      path: at('uuid'),
      value: raw.uuid,
      hint: `A step's uuid must equal its key in "steps" (${JSON.stringify(key)})`,
    });
  }
  const filePath = raw.file_path ?? '';
  checkFilePath(filePath, pipelineDir, at('file_path'));
  if (filePath === '') warnings.push(`Step "${key}" has no file_path (legacy file): it can be ordered but not run as a file`);
  if (raw.title === undefined && raw.name !== undefined) warnings.push(`Step "${key}" uses the legacy field "name" for its title`);
  const env = raw.environment;
  if (typeof env === 'number') warnings.push(`Step "${key}" has a legacy numeric environment (${env}); it is read as "${String(env)}"`);
  const kernel = raw.kernel
    ? {
        ...(raw.kernel.name == null ? {} : { name: raw.kernel.name }),
        ...(raw.kernel.display_name == null ? {} : { display_name: raw.kernel.display_name }),
      }
    : undefined;
  return {
    uuid: key,
    title: raw.title ?? raw.name ?? key,
    file_path: filePath,
    incoming_connections: [...(raw.incoming_connections ?? [])],
    environment: env == null ? '' : String(env),
    ...(kernel ? { kernel } : {}),
    parameters: { ...(raw.parameters ?? {}) },
    parameterOrder: keyOrder(raw.parameters),
    ...(raw.meta_data === undefined ? {} : { meta_data: raw.meta_data }),
  };
}

/** A step file must stay inside the project: relative, and not climbing out with `..`. */
function checkFilePath(filePath: string, pipelineDir: string, at: string): void {
  if (filePath === '') return;
  if (filePath.startsWith('/') || /^[A-Za-z]:[\\/]/.test(filePath) || filePath.startsWith('\\')) {
    throw new PipelineError('PIPELINE_ABSOLUTE_FILE_PATH', 'A step file_path must be relative to the pipeline file', {
      path: at,
      value: filePath,
      hint: 'Write it relative to the folder of the .orchest file, inside the project',
    });
  }
  const joined = path.posix.normalize(path.posix.join(pipelineDir, filePath.replace(/\\/g, '/')));
  if (joined === '..' || joined.startsWith('../')) {
    throw new PipelineError('PIPELINE_FILE_OUTSIDE_PROJECT', 'A step file_path leaves the project directory', {
      path: at,
      value: filePath,
      hint: 'Steps can only run files inside the project; move the file into it',
    });
  }
}
