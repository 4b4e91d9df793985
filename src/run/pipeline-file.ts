import type { Pipeline, PipelineStep, RunParameters } from '../pipeline/model.js';

/** Where the run's copy of the pipeline file of a pipeline defined in code goes (relative to the project root). */
export const CODE_PIPELINE_DIR = '.pipeline-jobs';

/**
 * The path of the run's pipeline file, relative to the working copy's root: the pipeline's
 * own path, or `.pipeline-jobs/<uuid>.orchest` for a pipeline defined in code.
 */
export function runPipelineFilePath(pipeline: Pipeline): string {
  if (pipeline.path !== '') return pipeline.path;
  return `${CODE_PIPELINE_DIR}/${encodeURIComponent(pipeline.uuid).replace(/^\./, '%2E')}.orchest`;
}

/**
 * The folder step `file_path`s are relative to (as in Orchest: the pipeline file's
 * folder), relative to the working copy's root; `''` for the root.
 */
export function pipelineBaseDir(pipeline: Pipeline): string {
  if (pipeline.path === '') return '';
  const i = pipeline.path.lastIndexOf('/');
  return i < 0 ? '' : pipeline.path.slice(0, i);
}

/**
 * The run's copy of the pipeline document: the document as read (`pipeline.source`,
 * every field kept) with the pipeline's `parameters` and each step's `parameters`
 * replaced by the run's values, so Orchest's SDK (`orchest.get_step_param()`) reads them
 * unchanged. A step missing from the source (pipelines defined in code) is written from
 * the model.
 */
export function runPipelineDocument(pipeline: Pipeline, parameters: RunParameters): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...pipeline.source };
  if (doc.uuid === undefined) doc.uuid = pipeline.uuid;
  if (doc.name === undefined) doc.name = pipeline.name;
  doc.parameters = parameters.pipeline;
  const sourceSteps = isObject(pipeline.source.steps) ? pipeline.source.steps : {};
  const steps: Record<string, unknown> = { ...sourceSteps };
  for (const step of pipeline.steps) {
    const values = parameters.steps[step.uuid] ?? step.parameters;
    const written = sourceSteps[step.uuid];
    steps[step.uuid] = isObject(written) ? { ...written, parameters: values } : modelStep(step, values);
  }
  doc.steps = steps;
  return doc;
}

function modelStep(step: PipelineStep, parameters: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {
    uuid: step.uuid,
    title: step.title,
    file_path: step.file_path,
    incoming_connections: step.incoming_connections,
    environment: step.environment,
  };
  if (step.kernel) out.kernel = step.kernel;
  out.parameters = parameters;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
