import type { Pipeline, PipelineStep } from '../../src/pipeline/model.js';
import { deepFreeze } from '../../src/pipeline/model.js';

/** A step for {@link makePipeline}: uuid plus its parameter defaults in order. */
export interface TestStep {
  uuid: string;
  parameters?: Record<string, unknown>;
  /** Explicit declaration order (defaults to the object's key order). */
  order?: string[];
}

/**
 * Builds a frozen Pipeline the way the loader does, without going through the loader, so
 * these tests depend only on the model. (Tests that need real `.orchest` text use
 * `parsePipeline`.)
 */
export function makePipeline(def: {
  parameters?: Record<string, unknown>;
  order?: string[];
  steps: TestStep[];
  path?: string;
}): Pipeline {
  const steps: PipelineStep[] = def.steps.map((s) => ({
    uuid: s.uuid,
    title: s.uuid,
    file_path: `${s.uuid}.py`,
    incoming_connections: [],
    environment: 'python',
    parameters: { ...(s.parameters ?? {}) },
    parameterOrder: s.order ?? Object.keys(s.parameters ?? {}),
  }));
  return deepFreeze({
    uuid: 'p-uuid',
    name: 'test-pipeline',
    parameters: { ...(def.parameters ?? {}) },
    parameterOrder: def.order ?? Object.keys(def.parameters ?? {}),
    settings: {},
    services: {},
    steps,
    source: {},
    path: def.path ?? 'main.orchest',
    warnings: [],
  } satisfies Pipeline);
}

/** The text of a `.orchest` file with these parameters (keys written in the given order). */
export function orchestText(def: {
  parameters?: Array<[string, unknown]>;
  steps: Array<{ uuid: string; parameters?: Array<[string, unknown]>; incoming?: string[] }>;
}): string {
  const obj = (pairs: Array<[string, unknown]> = []): string => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
  const steps = def.steps.map(
    (s) =>
      `${JSON.stringify(s.uuid)}: {"uuid": ${JSON.stringify(s.uuid)}, "title": ${JSON.stringify(s.uuid)}, "file_path": "${s.uuid}.py", ` +
      `"incoming_connections": ${JSON.stringify(s.incoming ?? [])}, "environment": "python", "parameters": ${obj(s.parameters)}}`,
  );
  return `{"name": "t", "uuid": "t-uuid", "version": "1.0.0", "settings": {}, "services": {}, "parameters": ${obj(def.parameters)}, "steps": {${steps.join(', ')}}}`;
}
