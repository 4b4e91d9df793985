import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../src/errors.js';
import { parsePipeline } from '../../src/pipeline/index.js';
import { type GridDefinition, ParameterErrorCode, ParameterGrid } from '../../src/parameters/index.js';
import { makePipeline, orchestText } from './helpers.js';

/** A pipeline whose parameters have integer-like names, written "10" before "2". */
const pipeline = parsePipeline(
  orchestText({
    parameters: [
      ['10', 'ten'],
      ['2', 'two'],
      ['name', 'n'],
    ],
    steps: [
      { uuid: 'b-step', parameters: [['7', 0], ['1', 0]] },
      { uuid: 'a-step', parameters: [['x', 0]] },
    ],
  }),
  { path: 'pipelines/numbers.orchest' },
);
const specText = '{"a-step": {"x": [true, false]}, "b-step": {"1": ["b", "a"], "7": [3, 1, 2]}, "pipeline_parameters": {"2": [20, 22], "10": [10, 11, 12]}}';

const roundTrip = (grid: ParameterGrid): ParameterGrid =>
  ParameterGrid.fromJSON(JSON.parse(JSON.stringify(grid)) as GridDefinition);

describe('the frozen order survives a save and reload', () => {
  const grid = new ParameterGrid(pipeline, specText);

  it('orders integer-like keys as written, not as a JS object would', () => {
    expect(grid.dimensions.map((d) => (d.scope === 'pipeline' ? `p.${d.key}` : `${d.step}.${d.key}`))).toEqual([
      'p.10',
      'p.2',
      'b-step.7',
      'b-step.1',
      'a-step.x',
    ]);
    expect(grid.size).toBe(3 * 2 * 3 * 2 * 2);
  });

  it('restores from JSON.stringify output so that every index is the same combination', () => {
    const back = roundTrip(grid);
    expect(back.size).toBe(grid.size);
    expect(back.dimensions).toEqual(grid.dimensions);
    for (let i = 0; i < grid.size; i++) {
      expect(back.at(i)).toEqual(grid.at(i));
      expect(back.values(i)).toEqual(grid.values(i));
      expect(back.indexOf(grid.at(i))).toBe(i);
    }
    expect(JSON.stringify(back)).toBe(JSON.stringify(grid));
  });

  it('keeps the stored order even where canonical order would differ today', () => {
    const def = JSON.parse(JSON.stringify(grid)) as { dimensions: unknown[] };
    def.dimensions.reverse();
    const reversed = ParameterGrid.fromJSON(def as unknown as GridDefinition);
    expect(reversed.values(1)).toEqual([true, 'b', 3, 20, 11]);
  });

  it('restores the defaults without the pipeline, and the maxRunsPerBatch given', () => {
    const back = ParameterGrid.fromJSON(grid.toJSON(), { maxRunsPerBatch: 3 });
    expect(back.at(0).pipeline).toEqual({ '10': 10, '2': 20, name: 'n' });
    expect(back.maxRunsPerBatch).toBe(3);
    expect(() => back.select([0, 1, 2, 3])).toThrow(ParameterError);
  });

  it('writes the grid back as parameters-file text in grid order, which reads back to the same grid', () => {
    const text = grid.toSpecText();
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"2"'));
    expect(text.indexOf('"pipeline_parameters"')).toBeLessThan(text.indexOf('"b-step"'));
    const again = new ParameterGrid(pipeline, text);
    expect(again.toJSON()).toEqual(grid.toJSON());
    expect(new ParameterGrid(pipeline, grid.toSpec()).toJSON()).toEqual(grid.toJSON());
    expect(new ParameterGrid(pipeline).toSpecText()).toBe('{}\n');
  });
});

describe('fromJSON refuses a malformed definition', () => {
  const good = new ParameterGrid(makePipeline({ parameters: { a: 1 }, steps: [{ uuid: 's', parameters: { b: 2 } }] }), {
    pipeline_parameters: { a: [1, 2] },
    s: { b: [3] },
  }).toJSON();
  const mutate = (f: (d: Record<string, any>) => void): GridDefinition => {
    const d = JSON.parse(JSON.stringify(good)) as Record<string, any>;
    f(d);
    return d as GridDefinition;
  };

  it.each([
    ['not an object', () => [] as unknown as GridDefinition, ParameterErrorCode.BAD_DEFINITION, '$'],
    ['an unknown version', () => mutate((d) => (d.version = 2)), ParameterErrorCode.BAD_DEFINITION, 'version'],
    ['defaults not an object', () => mutate((d) => (d.pipelineDefaults = [])), ParameterErrorCode.BAD_DEFINITION, 'pipelineDefaults'],
    ['a step without uuid', () => mutate((d) => (d.steps[0].uuid = '')), ParameterErrorCode.BAD_DEFINITION, 'steps[0]'],
    ['a duplicate step', () => mutate((d) => d.steps.push(d.steps[0])), ParameterErrorCode.BAD_DEFINITION, 'steps[1].uuid'],
    ['a bad scope', () => mutate((d) => (d.dimensions[0].scope = 'global')), ParameterErrorCode.BAD_DEFINITION, 'dimensions[0].scope'],
    ['an unknown step', () => mutate((d) => (d.dimensions[1].step = 'ghost')), ParameterErrorCode.BAD_DEFINITION, 'dimensions[1].step'],
    ['a dimension twice', () => mutate((d) => d.dimensions.push(d.dimensions[0])), ParameterErrorCode.BAD_DEFINITION, 'dimensions[2].key'],
    ['an empty value list', () => mutate((d) => (d.dimensions[0].values = [])), ParameterErrorCode.EMPTY_LIST, 'dimensions[0].values'],
    ['a repeated value', () => mutate((d) => (d.dimensions[0].values = [1, 1])), ParameterErrorCode.REPEATED_VALUE, 'dimensions[0].values[1]'],
  ])('%s', (_name, make, code, path) => {
    let err: unknown;
    try {
      ParameterGrid.fromJSON(make());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as ParameterError).code).toBe(code);
    expect((err as ParameterError).path).toBe(path);
  });
});
