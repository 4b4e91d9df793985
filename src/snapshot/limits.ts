/**
 * `maxFiles` / `maxBytes`: going over is an error that names the biggest contributors, so
 * the user knows what to put in `.gitignore`. A contributor is a top-level entry; when one
 * child of a directory holds most of it, the child is named instead (`a/b/node_modules/`
 * rather than `a/`).
 */
import { snapshotError, SnapshotErrorCode } from './errors.js';
import type { SnapshotError } from '../errors.js';

/** One of the biggest parts of an over-limit project. */
export interface Contributor {
  /** Relative path; directories end with `/`. */
  readonly path: string;
  /** Files under it. */
  readonly files: number;
  /** Their total size in bytes. */
  readonly bytes: number;
}

interface Node {
  files: number;
  bytes: number;
  children: Map<string, Node> | undefined;
}

const DRILL_SHARE = 0.8;

function buildTree(items: Iterable<{ path: string; bytes: number }>): Node {
  const root: Node = { files: 0, bytes: 0, children: new Map() };
  for (const item of items) {
    let node = root;
    node.files++;
    node.bytes += item.bytes;
    const parts = item.path.split('/');
    for (const part of parts) {
      node.children ??= new Map();
      let child = node.children.get(part);
      if (child === undefined) {
        child = { files: 0, bytes: 0, children: undefined };
        node.children.set(part, child);
      }
      child.files++;
      child.bytes += item.bytes;
      node = child;
    }
  }
  return root;
}

/** The `top` biggest contributors by `metric`. */
export function biggestContributors(
  items: Iterable<{ path: string; bytes: number }>,
  metric: 'files' | 'bytes',
  top = 5,
): Contributor[] {
  const root = buildTree(items);
  const firstLevel = [...(root.children ?? new Map<string, Node>())].sort((a, b) => b[1][metric] - a[1][metric]).slice(0, top);
  return firstLevel.map(([name, start]) => {
    let node = start;
    let p = name;
    for (;;) {
      const kids = node.children;
      if (kids === undefined) break;
      let best: [string, Node] | undefined;
      for (const kid of kids) if (best === undefined || kid[1][metric] > best[1][metric]) best = kid;
      if (best === undefined || best[1][metric] < node[metric] * DRILL_SHARE) break;
      p = `${p}/${best[0]}`;
      node = best[1];
    }
    return { path: node.children === undefined ? p : `${p}/`, files: node.files, bytes: node.bytes };
  });
}

function describe(c: Contributor): string {
  const mb = c.bytes >= 1e6 ? `${(c.bytes / 1e6).toFixed(1)} MB` : `${c.bytes} bytes`;
  return `${c.path} (${c.files} file${c.files === 1 ? '' : 's'}, ${mb})`;
}

/** The error for a project over `maxFiles` or `maxBytes`. */
export function limitError(
  kind: 'files' | 'bytes',
  limit: number,
  actual: number,
  items: Iterable<{ path: string; bytes: number }>,
): SnapshotError {
  const biggest = biggestContributors(items, kind);
  const what = kind === 'files' ? `${actual} files, over maxFiles ${limit}` : `${actual} bytes, over maxBytes ${limit}`;
  return snapshotError(
    kind === 'files' ? SnapshotErrorCode.TOO_MANY_FILES : SnapshotErrorCode.TOO_LARGE,
    `The snapshot would hold ${what}; biggest: ${biggest.map(describe).join(', ')}`,
    {
      path: kind === 'files' ? 'maxFiles' : 'maxBytes',
      value: { limit, actual, biggest },
      hint: `add what the runs do not need to .gitignore (or to the exclude option, or the data directory), or raise ${kind === 'files' ? 'maxFiles' : 'maxBytes'}`,
    },
  );
}
