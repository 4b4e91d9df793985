import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definePipeline, parallelLayers, parsePipeline, topologicalOrder, type Pipeline } from '../../src/pipeline/index.js';
import { fixturesDir, haveFixtures } from '../helpers/shared.js';

function expectOrdered(p: Pipeline): void {
  const order = topologicalOrder(p.steps);
  expect(new Set(order)).toEqual(new Set(p.steps.map((s) => s.uuid)));
  const pos = new Map(order.map((id, i) => [id, i]));
  for (const s of p.steps) for (const from of s.incoming_connections) expect(pos.get(from)!).toBeLessThan(pos.get(s.uuid)!);
  const layers = parallelLayers(p.steps);
  const layerOf = new Map(layers.flatMap((l, i) => l.map((id) => [id, i] as const)));
  for (const s of p.steps) {
    for (const from of s.incoming_connections) expect(layerOf.get(from)!).toBeLessThan(layerOf.get(s.uuid)!);
    // each step sits in the first layer after all its incoming steps
    const expected = s.incoming_connections.length === 0 ? 0 : Math.max(...s.incoming_connections.map((f) => layerOf.get(f)!)) + 1;
    expect(layerOf.get(s.uuid)).toBe(expected);
  }
}

describe('DAG', () => {
  it('orders a diamond in layers, ties in file order', () => {
    const p = definePipeline({
      name: 'd',
      steps: [{ uuid: 'd', incoming_connections: ['b', 'c'] }, { uuid: 'c', incoming_connections: ['a'] }, { uuid: 'b', incoming_connections: ['a'] }, { uuid: 'a' }],
    });
    expect(parallelLayers(p.steps)).toEqual([['a'], ['c', 'b'], ['d']]);
    expect(topologicalOrder(p.steps)).toEqual(['a', 'c', 'b', 'd']);
  });

  it('orders random DAGs correctly', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 30 }), fc.array(fc.nat()), (deps, perm) => {
        // step i may depend on steps < i: acyclic by construction; then shuffle the file order
        const steps = deps.map((d, i) => ({ uuid: `s${i}`, incoming_connections: [...new Set(i === 0 ? [] : d.map((x) => `s${x % i}`))] }));
        const shuffled = [...steps];
        perm.forEach((x, k) => {
          const a = k % shuffled.length;
          const b = x % shuffled.length;
          [shuffled[a], shuffled[b]] = [shuffled[b]!, shuffled[a]!];
        });
        expectOrdered(definePipeline({ name: 'r', steps: shuffled }));
      }),
    );
  });

  it('handles a 5,000-step chain', () => {
    const steps = Array.from({ length: 5000 }, (_, i) => ({ uuid: `s${i}`, incoming_connections: i ? [`s${i - 1}`] : [] }));
    expect(parallelLayers(definePipeline({ name: 'chain', steps: steps.reverse() }).steps)).toHaveLength(5000);
  });
});

describe.runIf(haveFixtures())('Orchest fixtures', () => {
  const files = ['execution-order', 'sdk-pipelines'].flatMap((d) => readdirSync(path.join(fixturesDir, d)).map((f) => path.join(d, f)));
  files.push('projects/dump-env-params/dump-env-params.orchest', 'projects/data-passing/data-passing.orchest');

  it('finds all fixture pipelines', () => {
    expect(files.length).toBe(14);
  });

  it.each(files)('%s: every step after all its incoming connections', (rel) => {
    const p = parsePipeline(readFileSync(path.join(fixturesDir, rel), 'utf8'), { path: path.basename(rel) });
    expect(p.steps.length).toBeGreaterThan(0);
    expectOrdered(p);
  });

  it('reads the 1.0.0 project format with parameters and kernels', () => {
    const p = parsePipeline(readFileSync(path.join(fixturesDir, 'projects/dump-env-params/dump-env-params.orchest'), 'utf8'), { path: 'dump-env-params.orchest' });
    expect(p.parameters).toEqual({ 'pipeline-param-A': 1 });
    expect(p.steps[0]).toMatchObject({
      file_path: 'dump-env-params.ipynb',
      environment: '4b3659e0-db0a-4ff0-9b60-fb53903dd218',
      kernel: { name: 'python', display_name: 'Python 3' },
      parameterOrder: ['step-param-a', 'test-output-file'],
    });
  });
});
