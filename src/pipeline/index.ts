export type { Pipeline, PipelineStep, PipelineSettings, StepKernel, RunParameters } from './model.js';
export { findStep } from './model.js';
export { loadPipeline, parsePipeline, type ParsePipelineOptions } from './load.js';
export { definePipeline, type PipelineDefinition, type StepDefinition } from './define.js';
export { parallelLayers, topologicalOrder, validateDag, type DagNode } from './dag.js';
