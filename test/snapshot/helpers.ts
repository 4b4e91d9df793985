import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { SnapshotEntry, SnapshotStore } from '../../src/snapshot/index.js';

const made: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(prefix = 'snap-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** How a tree is described: content (string/Buffer), `{ mode }`, `{ link }` or `{ dir: true }`. */
export type TreeSpec = Record<string, string | Buffer | { content: string; mode: number } | { link: string } | { dir: true }>;

/** Writes a tree; parents are created as needed. */
export function writeTree(root: string, spec: TreeSpec): void {
  for (const [rel, v] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof v === 'string' || Buffer.isBuffer(v)) writeFileSync(abs, v);
    else if ('link' in v) symlinkSync(v.link, abs);
    else if ('dir' in v) mkdirSync(abs, { recursive: true });
    else {
      writeFileSync(abs, v.content);
      chmodSync(abs, v.mode);
    }
  }
}

const gitEnv = (home: string): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: home,
  GIT_DIR: undefined,
  GIT_WORK_TREE: undefined,
});

/** `git init` in `root` (a fresh repository: nothing is tracked). */
export function gitInit(root: string): void {
  execFileSync('git', ['init', '-q', '.'], { cwd: root, env: gitEnv(root) });
}

/** The oracle: `git ls-files --cached --others --exclude-standard`, sorted. */
export function gitFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    env: gitEnv(root),
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.toString('utf8').split('\0').filter((s) => s !== '').sort();
}

/** The snapshot's files and symlinks (what git would list), sorted. */
export async function snapshotFiles(store: SnapshotStore, id: string): Promise<string[]> {
  const entries: readonly SnapshotEntry[] = await store.entries(id);
  return entries.filter((e) => e.type !== 'dir').map((e) => e.path).sort();
}

/** Every file below `dir` (relative paths), for "nothing left behind" checks. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** The objects a store holds (`ab/cdef...`; not the `.tmp-*` files of writes in progress). */
export function objectsIn(storeRoot: string): string[] {
  return filesUnder(path.join(storeRoot, 'objects')).filter((f) => !path.basename(f).startsWith('.'));
}
