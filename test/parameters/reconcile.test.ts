import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../src/errors.js';
import { ParameterErrorCode, ParameterGrid, reconcileParameters } from '../../src/parameters/index.js';
import { makePipeline } from './helpers.js';

const before = makePipeline({
  parameters: { lr: 0.1, dropped: 'x' },
  steps: [{ uuid: 'load', parameters: { source: 'a', gone: 1 } }, { uuid: 'old-step', parameters: { k: 1 } }],
});
const after = makePipeline({
  parameters: { added: 'new-default', lr: 0.1 },
  steps: [{ uuid: 'new-step', parameters: { z: 0 } }, { uuid: 'load', parameters: { fresh: true, source: 'a' } }],
});
const spec = {
  pipeline_parameters: { lr: [0.1, 0.01], dropped: ['x', 'y'] },
  load: { source: ['a', 'b'], gone: [1, 2] },
  'old-step': { k: [1, 2, 3] },
};
const oldGrid = new ParameterGrid(before, spec);

describe('reconcileParameters (duplicate a job onto a changed pipeline)', () => {
  it('keeps values of parameters still declared, drops the rest, and new parameters keep defaults', () => {
    const { grid, dropped } = reconcileParameters(oldGrid, after);
    expect(dropped).toEqual(['pipeline_parameters.dropped', 'load.gone', '["old-step"]']);
    expect(grid.dimensions.map((d) => (d.scope === 'pipeline' ? `p.${d.key}` : `${d.step}.${d.key}`))).toEqual(['p.lr', 'load.source']);
    expect(grid.size).toBe(4);
    expect(grid.at(3)).toEqual({
      pipeline: { added: 'new-default', lr: 0.01 },
      steps: { 'new-step': { z: 0 }, load: { fresh: true, source: 'b' } },
    });
  });

  it('gives the same result from the grid, its stored definition, its spec object and its spec text', () => {
    const fromGrid = reconcileParameters(oldGrid, after);
    const fromDefinition = reconcileParameters(JSON.parse(JSON.stringify(oldGrid.toJSON())), after);
    const fromSpec = reconcileParameters(spec, after);
    const fromText = reconcileParameters(JSON.stringify(spec), after);
    for (const other of [fromDefinition, fromSpec, fromText]) {
      expect(other.grid.toJSON()).toEqual(fromGrid.grid.toJSON());
      expect(other.dropped).toEqual(fromGrid.dropped);
    }
  });

  it('keeps undeclared parameters when new ones are allowed', () => {
    const { grid, dropped } = reconcileParameters(oldGrid, after, { allowNewParameters: true });
    expect(dropped).toEqual(['["old-step"]']);
    expect(grid.dimensions.map((d) => d.key)).toEqual(['lr', 'dropped', 'source', 'gone']);
  });

  it('drops nothing and changes nothing for the same pipeline', () => {
    const { grid, dropped } = reconcileParameters(oldGrid, before);
    expect(dropped).toEqual([]);
    expect(grid.toJSON()).toEqual(oldGrid.toJSON());
  });

  it('still refuses values that are invalid in any grid', () => {
    let err: unknown;
    try {
      reconcileParameters({ load: { source: ['a', 'a'] } }, after);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as ParameterError).code).toBe(ParameterErrorCode.REPEATED_VALUE);
    expect((err as ParameterError).path).toBe('load.source[1]');
  });

  it('applies the caller\'s maxRunsPerBatch to the new grid', () => {
    const { grid } = reconcileParameters(oldGrid, after, { maxRunsPerBatch: 2 });
    expect(grid.maxRunsPerBatch).toBe(2);
    expect(() => grid.select('all')).toThrow(ParameterError);
  });
});
