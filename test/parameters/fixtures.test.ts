import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/index.js';
import { ParameterErrorCode, ParameterGrid, readFromDirectory } from '../../src/parameters/index.js';
import { fixturesDir, haveFixtures } from '../helpers/shared.js';

// Needs ../shared/fixtures (Orchest's own pipeline files): skipped loudly when absent, a failure under CI=true.
const present = haveFixtures();

async function orchestFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    // Skip the projects' .orchest/ folders: they hold environment descriptions, not pipelines.
    if (entry.isDirectory()) {
      if (entry.name !== '.orchest') out.push(...(await orchestFiles(full)));
    }
    else if (/\.(orchest|json)$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

describe.skipIf(!present)('parameter grids of Orchest\'s own pipelines (../shared/fixtures)', () => {
  const STEP = 'bb789d4f-9e8c-462d-8a6d-9b437ca705f7';

  it('gives every fixture pipeline one default combination with an entry for every step', async () => {
    const files = await orchestFiles(fixturesDir);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const pipeline = parsePipeline(await readFile(file, 'utf8'), { path: path.relative(fixturesDir, file) });
      const grid = new ParameterGrid(pipeline);
      expect(grid.size).toBe(1);
      const run = grid.at(0);
      expect(run.pipeline).toEqual(pipeline.parameters);
      expect(Object.keys(run.steps)).toEqual(pipeline.steps.map((s) => s.uuid));
      for (const step of pipeline.steps) expect(run.steps[step.uuid]).toEqual(step.parameters);
    }
  });

  it('expands a parameters file found beside dump-env-params.orchest, as Orchest\'s end-to-end test project would', async () => {
    const project = await mkdtemp(path.join(os.tmpdir(), 'pj-fixture-'));
    try {
      await mkdir(path.join(project, 'sub'));
      await copyFile(path.join(fixturesDir, 'projects/dump-env-params/dump-env-params.orchest'), path.join(project, 'sub/dump-env-params.orchest'));
      await writeFile(
        path.join(project, 'sub/dump-env-params.parameters.json'),
        `{"${STEP}": {"test-output-file": ["a.json", "b.json"], "step-param-a": [1, 2, 3]}, "pipeline_parameters": {"pipeline-param-A": [10, 20]}}`,
      );
      const pipeline = parsePipeline(await readFile(path.join(project, 'sub/dump-env-params.orchest'), 'utf8'), {
        path: 'sub/dump-env-params.orchest',
      });
      const grid = await ParameterGrid.forPipeline(pipeline, { read: readFromDirectory(project) });
      expect(grid.size).toBe(12);
      // The pipeline file writes step-param-a before test-output-file: that order wins over the spec's.
      expect(grid.dimensions.map((d) => d.key)).toEqual(['pipeline-param-A', 'step-param-a', 'test-output-file']);
      expect(grid.at(1)).toEqual({ pipeline: { 'pipeline-param-A': 10 }, steps: { [STEP]: { 'step-param-a': 1, 'test-output-file': 'b.json' } } });
      expect(grid.at(11)).toEqual({ pipeline: { 'pipeline-param-A': 20 }, steps: { [STEP]: { 'step-param-a': 3, 'test-output-file': 'b.json' } } });
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });

  it('refuses a parameter data-passing does not declare, naming the step', async () => {
    const pipeline = parsePipeline(await readFile(path.join(fixturesDir, 'projects/data-passing/data-passing.orchest'), 'utf8'));
    const step = pipeline.steps[0]!.uuid;
    expect(() => new ParameterGrid(pipeline, `{"${step}": {"not-declared": [1]}}`)).toThrow(
      expect.objectContaining({ code: ParameterErrorCode.UNKNOWN_PARAMETER, path: `["${step}"]["not-declared"]` }),
    );
    // Declared parameters whose defaults are objects or null vary like any other.
    const grid = new ParameterGrid(pipeline, `{"${step}": {"input_data": [{}, {"rows": 3}], "input_data_name": [null, "x"]}}`);
    expect(grid.size).toBe(4);
    expect(grid.at(2).steps[step]).toEqual({ input_data: { rows: 3 }, input_data_name: null });
  });
});
