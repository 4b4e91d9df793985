import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadPipeline, type JobSpec, type Pipeline, type SelectionInput } from '../index.js';
import { UsageError } from './errors.js';
import { resolveStep } from './resolve.js';

/** What `run` and `create` take about the job's project, pipeline and parameters. */
export interface SpecOptions {
  params?: string;
  param?: string[];
  select?: string;
  name?: string;
}

/** The project directory and pipeline file: the pipeline may be left out when the project has exactly one. */
export function locatePipeline(project: string, pipeline: string | undefined): { projectDir: string; pipeline: string } {
  const projectDir = path.resolve(project);
  if (!existsSync(projectDir) || !statSync(projectDir).isDirectory()) throw new UsageError(`Project directory "${project}" does not exist.`);
  if (pipeline !== undefined) {
    const rel = path.isAbsolute(pipeline) ? path.relative(projectDir, pipeline) : pipeline;
    return { projectDir, pipeline: rel.split(path.sep).join('/') };
  }
  const found = readdirSync(projectDir).filter((f) => f.endsWith('.orchest')).sort();
  if (found.length === 1) return { projectDir, pipeline: found[0]! };
  if (found.length === 0) throw new UsageError(`No .orchest pipeline file in "${project}": name one, e.g. \`pipeline-jobs run ${project} main.orchest\`.`);
  throw new UsageError(`"${project}" has several pipelines (${found.join(', ')}): name one.`);
}

/** `--param` values: JSON when they parse as JSON, else the text; a JSON array is a list of values to sweep. */
function valuesOf(text: string): unknown[] {
  let v: unknown = text;
  try {
    v = JSON.parse(text);
  } catch {
    // Not JSON: the text itself is the value (`--param source=sales-us`).
    v = text;
  }
  return Array.isArray(v) ? v : [v];
}

/**
 * The parameters spec of a job: `--params file` (or the pipeline's own parameters file)
 * as the base, then each `--param [step.]key=value` replacing one parameter's values.
 */
export function parametersSpec(projectDir: string, pipelineRel: string, pipeline: Pipeline, o: SpecOptions): JobSpec['parameters'] {
  const params = o.param ?? [];
  if (o.params === undefined && params.length === 0) return { from: 'auto' };
  let base: Record<string, Record<string, unknown[]>> = {};
  const file = o.params !== undefined ? path.resolve(o.params) : (() => {
    // Orchest's own file beside the pipeline: `<name>.parameters.json`.
    return path.join(projectDir, path.dirname(pipelineRel), `${path.basename(pipelineRel, path.extname(pipelineRel))}.parameters.json`);
  })();
  if (file !== undefined && (o.params !== undefined || existsSync(file))) {
    if (!existsSync(file)) throw new UsageError(`Parameters file "${o.params}" does not exist.`);
    try {
      base = JSON.parse(readFileSync(file, 'utf8')) as typeof base;
    } catch (error) {
      throw new UsageError(`Parameters file "${file}" is not valid JSON: ${(error as Error).message}`);
    }
  }
  for (const p of params) {
    const m = /^([^=]+)=(.*)$/s.exec(p);
    if (!m) throw new UsageError(`--param "${p}": expected key=value or step.key=value.`);
    const [, lhs, value] = m as unknown as [string, string, string];
    const dot = lhs.indexOf('.');
    const isStep = dot > 0 && !Object.hasOwn(pipeline.parameters, lhs);
    const group = isStep ? resolveStep(pipeline, lhs.slice(0, dot)).uuid : 'pipeline_parameters';
    const key = isStep ? lhs.slice(dot + 1) : lhs;
    base[group] = { ...(base[group] ?? {}), [key]: valuesOf(value) };
  }
  return { from: 'spec', spec: base as Record<string, Record<string, readonly unknown[]>> };
}

/** `--select 0,2,5-9`: grid indices and inclusive ranges. */
export function selectionOf(text: string | undefined): SelectionInput | undefined {
  if (text === undefined) return undefined;
  if (text === 'all') return 'all';
  const ranges: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new UsageError(`--select "${text}": expected grid indices and ranges like 0,2,5-9.`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UsageError(`--select: range "${part.trim()}" ends before it starts.`);
    ranges.push([a, b + 1]);
  }
  return { ranges };
}

/** The JobSpec of `run` / `create` (schedule added by the caller). */
export async function jobSpecOf(project: string, pipelineArg: string | undefined, o: SpecOptions): Promise<JobSpec> {
  const { projectDir, pipeline: rel } = locatePipeline(project, pipelineArg);
  const file = path.join(projectDir, ...rel.split('/'));
  if (!existsSync(file)) throw new UsageError(`Pipeline file "${rel}" is not in "${project}".`);
  const pipeline = await loadPipeline(file, projectDir);
  const selection = selectionOf(o.select);
  return {
    name: o.name ?? `${pipeline.name || path.basename(rel, '.orchest')}`,
    projectDir,
    pipeline: rel,
    parameters: parametersSpec(projectDir, rel, pipeline, o),
    ...(selection ? { selection } : {}),
  };
}
