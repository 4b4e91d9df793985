import { PipelineError, joinPath } from '../errors.js';
import { argArray } from '../util/args.js';

/** The part of a step the DAG needs. */
export interface DagNode {
  /** The step's uuid. */
  readonly uuid: string;
  /** The uuids of the steps it waits for. */
  readonly incoming_connections: readonly string[];
}

/**
 * Checks the graph: every `incoming_connections` entry names a step, none is listed
 * twice, and there is no cycle. Throws a {@link PipelineError} naming the culprit.
 * `basePath` prefixes error paths (`steps`).
 */
export function validateDag(steps: readonly DagNode[], basePath = 'steps'): void {
  const known = new Set(steps.map((s) => s.uuid));
  for (const step of steps) {
    const seen = new Set<string>();
    step.incoming_connections.forEach((from, i) => {
      if (known.has(from) && !seen.has(from)) {
        seen.add(from);
        return;
      }
      // Only reached on an error: building paths for every edge costs on large pipelines.
      const path = joinPath(basePath, step.uuid, 'incoming_connections', i);
      if (!known.has(from)) {
        throw new PipelineError('PIPELINE_UNKNOWN_CONNECTION', `Step "${step.uuid}" depends on a step that does not exist`, {
          path,
          value: from,
          hint: 'Every entry of incoming_connections must be the uuid of a step of the same pipeline',
        });
      }
      throw new PipelineError('PIPELINE_DUPLICATE_CONNECTION', `Step "${step.uuid}" lists the same incoming step twice`, {
        path,
        value: from,
        hint: 'List each incoming step once',
      });
    });
  }
  const cycle = findCycle(steps);
  if (cycle) {
    throw new PipelineError('PIPELINE_CYCLE', `The pipeline has a cycle: ${[...cycle, cycle[0]].join(' -> ')}`, {
      path: joinPath(basePath, cycle[0]!, 'incoming_connections'),
      value: cycle,
      hint: 'Remove one of these connections: a step cannot (indirectly) depend on itself',
    });
  }
}

/**
 * The steps in parallel layers: layer 0 has no incoming connections, and each step sits
 * in the first layer after all its incoming steps. Within a layer, steps keep the
 * file's order. Iterative (Kahn), so long chains cannot overflow the stack. Assumes a
 * valid DAG (as `loadPipeline`, `parsePipeline` and `definePipeline` return).
 */
export function parallelLayers(steps: readonly DagNode[]): string[][] {
  argArray(steps, 'steps', 'parallelLayers', 'an array of steps (pipeline.steps)');
  const { levels } = kahn(steps);
  const layers: string[][] = [];
  for (const s of steps) (layers[levels.get(s.uuid) ?? 0] ??= []).push(s.uuid);
  return layers;
}

/** A topological order: every step after all of its incoming steps; ties in file order. */
export function topologicalOrder(steps: readonly DagNode[]): string[] {
  return parallelLayers(steps).flat();
}

/** Levels of the steps Kahn's algorithm can place; steps on or behind a cycle are left out. */
function kahn(steps: readonly DagNode[]): { levels: Map<string, number> } {
  const outgoing = new Map<string, string[]>();
  const indegree = new Map<string, number>();
  for (const s of steps) indegree.set(s.uuid, s.incoming_connections.length);
  for (const s of steps) for (const from of s.incoming_connections) (outgoing.get(from) ?? outgoing.set(from, []).get(from)!).push(s.uuid);
  const levels = new Map<string, number>();
  const ready = steps.filter((s) => s.incoming_connections.length === 0).map((s) => s.uuid);
  for (const id of ready) levels.set(id, 0);
  for (let k = 0; k < ready.length; k++) {
    const id = ready[k]!;
    const level = levels.get(id)!;
    for (const to of outgoing.get(id) ?? []) {
      levels.set(to, Math.max(levels.get(to) ?? 0, level + 1));
      const left = indegree.get(to)! - 1;
      indegree.set(to, left);
      if (left === 0) ready.push(to);
    }
  }
  return { levels };
}

/** Returns the uuids on one cycle, in dependency order, or `undefined`. */
function findCycle(steps: readonly DagNode[]): string[] | undefined {
  const { levels } = kahn(steps);
  const left = steps.filter((s) => !levels.has(s.uuid));
  if (left.length === 0) return undefined;
  // Every step Kahn could not place has an incoming step it could not place either:
  // walking those edges backwards must come back to a step already seen.
  const byId = new Map(left.map((s) => [s.uuid, s]));
  const seenAt = new Map<string, number>();
  const walk: string[] = [];
  let id = left[0]!.uuid;
  while (!seenAt.has(id)) {
    seenAt.set(id, walk.length);
    walk.push(id);
    id = byId.get(id)!.incoming_connections.find((from) => byId.has(from))!;
  }
  return walk.slice(seenAt.get(id)).reverse();
}
