import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/index.js';
import { ParameterGrid } from '../../src/parameters/index.js';
import { makePipeline, orchestText } from './helpers.js';

/** The SEMANTICS.md example pipeline: pipeline parameters bar, foo; step stepX with baz. */
const example = parsePipeline(
  orchestText({
    parameters: [
      ['bar', true],
      ['foo', 1],
    ],
    steps: [
      { uuid: 'stepX', parameters: [['baz', 'default']] },
      { uuid: 'stepY', parameters: [['other', 0]], incoming: ['stepX'] },
    ],
  }),
  { path: 'main.orchest' },
);

const flat = (grid: ParameterGrid): unknown[][] => [...grid].map((r) => [...grid.values(r.index)]);

describe('canonical order (SEMANTICS.md, Parameters)', () => {
  it('runs the SEMANTICS example: run 0 is (true, 123, hello), run 1 is (true, 123, world)', () => {
    const grid = new ParameterGrid(
      example,
      '{"pipeline_parameters": {"bar": [true, false], "foo": [123, 456]}, "stepX": {"baz": ["hello", "world"]}}',
    );
    expect(grid.size).toBe(8);
    expect(grid.at(0)).toEqual({ pipeline: { bar: true, foo: 123 }, steps: { stepX: { baz: 'hello' }, stepY: { other: 0 } } });
    expect(grid.at(1)).toEqual({ pipeline: { bar: true, foo: 123 }, steps: { stepX: { baz: 'world' }, stepY: { other: 0 } } });
    expect(flat(grid)).toEqual([
      [true, 123, 'hello'],
      [true, 123, 'world'],
      [true, 456, 'hello'],
      [true, 456, 'world'],
      [false, 123, 'hello'],
      [false, 123, 'world'],
      [false, 456, 'hello'],
      [false, 456, 'world'],
    ]);
  });

  it('puts pipeline parameters first and steps in the file order, whatever order the spec writes', () => {
    const pipeline = makePipeline({
      parameters: { p: 0 },
      steps: [{ uuid: 's1', parameters: { a: 0 } }, { uuid: 's2', parameters: { b: 0 } }],
    });
    const grid = new ParameterGrid(pipeline, '{"s2": {"b": [1, 2]}, "s1": {"a": [3, 4]}, "pipeline_parameters": {"p": [5, 6]}}');
    expect(grid.dimensions.map((d) => (d.scope === 'pipeline' ? `pipeline.${d.key}` : `${d.step}.${d.key}`))).toEqual([
      'pipeline.p',
      's1.a',
      's2.b',
    ]);
    expect(grid.values(0)).toEqual([5, 3, 1]);
    expect(grid.values(1)).toEqual([5, 3, 2]);
    expect(grid.values(2)).toEqual([5, 4, 1]);
    expect(grid.values(7)).toEqual([6, 4, 2]);
  });

  it('orders a scope by the pipeline file, not by the spec: the file is the definition', () => {
    const pipeline = parsePipeline(orchestText({ parameters: [['z', 0], ['a', 0], ['m', 0]], steps: [{ uuid: 's' }] }));
    const grid = new ParameterGrid(pipeline, '{"pipeline_parameters": {"a": [1, 2], "m": [3], "z": [4, 5]}}');
    expect(grid.dimensions.map((d) => d.key)).toEqual(['z', 'a', 'm']);
    expect(grid.values(1)).toEqual([4, 2, 3]);
  });

  it('takes integer-like keys in the order the pipeline file writes them ("10" before "2")', () => {
    const pipeline = parsePipeline(orchestText({ parameters: [['10', 'x'], ['2', 'y']], steps: [{ uuid: 's' }] }));
    expect(pipeline.parameterOrder).toEqual(['10', '2']);
    const grid = new ParameterGrid(pipeline, '{"pipeline_parameters": {"2": ["b1", "b2"], "10": ["a1", "a2"]}}');
    expect(grid.dimensions.map((d) => d.key)).toEqual(['10', '2']);
    expect(grid.at(1).pipeline).toEqual({ '10': 'a1', '2': 'b2' });
  });

  it('puts new parameters after the declared ones, in the order the spec text writes them', () => {
    const pipeline = makePipeline({ parameters: { known: 0 }, steps: [{ uuid: 's' }] });
    const grid = new ParameterGrid(
      pipeline,
      '{"pipeline_parameters": {"10": [1, 2], "known": [0, 1], "2": [3, 4]}}',
      { allowNewParameters: true },
    );
    expect(grid.dimensions.map((d) => d.key)).toEqual(['known', '10', '2']);
    expect(grid.values(1)).toEqual([0, 1, 4]);
    expect(grid.at(1).pipeline).toEqual({ known: 0, '10': 1, '2': 4 });
  });

  it('takes the order of new keys of a spec object from options.order (a JS object moves "10" first)', () => {
    const pipeline = makePipeline({ steps: [{ uuid: 's' }] });
    const spec = { pipeline_parameters: { '10': [1, 2], '2': [3, 4] } };
    expect(Object.keys(spec.pipeline_parameters)).toEqual(['2', '10']);
    const plain = new ParameterGrid(pipeline, spec, { allowNewParameters: true });
    expect(plain.dimensions.map((d) => d.key)).toEqual(['2', '10']);
    const ordered = new ParameterGrid(pipeline, spec, { allowNewParameters: true, order: { pipeline_parameters: ['10', '2'] } });
    expect(ordered.dimensions.map((d) => d.key)).toEqual(['10', '2']);
  });

  it('lets the last key vary fastest across steps (mixed radix over unequal lengths)', () => {
    const pipeline = makePipeline({ parameters: { a: 0 }, steps: [{ uuid: 's', parameters: { b: 0, c: 0 } }] });
    const grid = new ParameterGrid(pipeline, { pipeline_parameters: { a: [1, 2, 3] }, s: { b: ['x', 'y'], c: [true, false, null, 0] } });
    expect(grid.size).toBe(24);
    const expected: unknown[][] = [];
    for (const a of [1, 2, 3]) for (const b of ['x', 'y']) for (const c of [true, false, null, 0]) expected.push([a, b, c]);
    expect(flat(grid)).toEqual(expected);
  });
});

describe('values merge over defaults', () => {
  const pipeline = makePipeline({
    parameters: { shared: 'pipeline-default', lr: 0.1 },
    steps: [
      { uuid: 'train', parameters: { shared: 'step-default', epochs: 1 } },
      { uuid: 'report', parameters: { format: 'html' } },
      { uuid: 'bare' },
    ],
  });

  it('keeps the default of every parameter the spec leaves out, and gives every step an entry', () => {
    const grid = new ParameterGrid(pipeline, '{"train": {"epochs": [5, 10]}}');
    expect(grid.size).toBe(2);
    expect(grid.dimensions).toHaveLength(1);
    expect(grid.at(1)).toEqual({
      pipeline: { shared: 'pipeline-default', lr: 0.1 },
      steps: { train: { shared: 'step-default', epochs: 10 }, report: { format: 'html' }, bare: {} },
    });
  });

  it('keeps pipeline and step parameters of the same name apart', () => {
    const grid = new ParameterGrid(pipeline, '{"pipeline_parameters": {"shared": ["P1", "P2"]}, "train": {"shared": ["S1"]}}');
    expect(grid.size).toBe(2);
    expect(grid.at(0).pipeline.shared).toBe('P1');
    expect(grid.at(0).steps.train!.shared).toBe('S1');
    expect(grid.at(1).pipeline.shared).toBe('P2');
    expect(grid.at(1).steps.train!.shared).toBe('S1');
  });

  it('is one combination of all defaults when there is no spec (or an empty one)', () => {
    for (const spec of [undefined, null, '{}', {}, '{"pipeline_parameters": {}, "train": {}}']) {
      const grid = new ParameterGrid(pipeline, spec);
      expect(grid.size).toBe(1);
      expect(grid.dimensions).toEqual([]);
      expect([...grid]).toEqual([
        {
          index: 0,
          parameters: {
            pipeline: { shared: 'pipeline-default', lr: 0.1 },
            steps: { train: { shared: 'step-default', epochs: 1 }, report: { format: 'html' }, bare: {} },
          },
        },
      ]);
    }
  });

  it('keeps values as given: any JSON, objects and lists included', () => {
    const values = [{ nested: [1, { deep: null }] }, [1, 2], 'text', -3.5, false, null];
    const grid = new ParameterGrid(pipeline, { pipeline_parameters: { lr: values } });
    expect([...grid].map((r) => r.parameters.pipeline.lr)).toEqual(values);
  });

  it('hands out frozen values, so one run cannot change another run\'s parameters', () => {
    const grid = new ParameterGrid(pipeline, { pipeline_parameters: { lr: [{ a: [1] }] } });
    const run = grid.at(0);
    expect(Object.isFrozen(run.pipeline.lr)).toBe(true);
    expect(Object.isFrozen((run.pipeline.lr as { a: number[] }).a)).toBe(true);
    expect(Object.isFrozen(run.steps.report)).toBe(true);
    expect(grid.at(0)).toEqual(run);
  });
});
