import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { root } from './run-example.js';

/** The first ```ts block of the README section `heading`. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n## ${heading}\n`);
  if (at < 0) throw new Error(`README has no section "${heading}"`);
  const next = readme.indexOf('\n## ', at + 1);
  const section = readme.slice(at, next < 0 ? undefined : next);
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`README section "${heading}" has no ts block`);
  return block[1]!;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('README quick start: a job defined in code', () => {
  it('runs as written (against the built package), prints what it says, and writes no file', () => {
    // Inside the package, so `pipeline-jobs` resolves to this build; run from an empty directory.
    const file = path.join(root, 'test', 'examples', `.readme-quickstart-${process.pid}.mts`);
    writeFileSync(file, readmeBlock('Quick start: a job defined in code'));
    cleanups.push(() => rmSync(file, { force: true }));
    const cwd = mkdtempSync(path.join(tmpdir(), 'pj-readme-'));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const result = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [file], { cwd, encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('SUCCESS 3');
    expect(lines.slice(0, -1).sort()).toEqual(['n=1 run=0 trigger=now', 'n=2 run=1 trigger=now', 'n=3 run=2 trigger=now']);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
