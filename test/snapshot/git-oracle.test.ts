/**
 * The snapshot's file list must equal what git lists for the same tree:
 * `git ls-files --cached --others --exclude-standard` in a fresh `git init`.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotStore } from '../../src/snapshot/index.js';
import { fixturesDir, haveFixtures } from '../helpers/shared.js';
import { gitFiles, gitInit, snapshotFiles, tempDir, writeTree, type TreeSpec } from './helpers.js';

async function compareWithGit(root: string, store: SnapshotStore): Promise<{ git: string[]; snap: string[] }> {
  const snap = await store.create(root);
  return { git: gitFiles(root), snap: await snapshotFiles(store, snap.id) };
}

const tricky: TreeSpec = {
  '.gitignore': [
    '# a comment',
    '*.log',
    '!important.log',
    'build/',
    '/root-only.txt',
    'docs/**/*.tmp',
    '**/cache',
    '\\#hash.txt',
    '\\!bang.txt',
    'trailing.txt   ',
    'escaped\\ ',
    'a?c.txt',
    '[xy].dat',
    '[!q]z.md',
    'out/*',
    '!out/keep.txt',
    'dist/',
    '!dist/keep.txt',
    'foo**bar',
    'sub/**',
    '!sub/again/',
    '[[:digit:]]*.num',
    'linkdir/',
    'tab\t',
    '',
  ].join('\n'),
  'a.log': 'x',
  'important.log': 'x',
  'keep/x.log': 'x',
  'build/a.txt': 'x',
  'nested/build': 'a file named build',
  'root-only.txt': 'x',
  'nested/root-only.txt': 'x',
  'docs/a.tmp': 'x',
  'docs/x/y/b.tmp': 'x',
  'docs/c.txt': 'x',
  'cache/f': 'x',
  'x/cache/f': 'x',
  'x/y/cache': 'a file named cache',
  '#hash.txt': 'x',
  '!bang.txt': 'x',
  'trailing.txt': 'x',
  'escaped ': 'x',
  escaped: 'x',
  'abc.txt': 'x',
  'a/c.txt': 'x',
  'x.dat': 'x',
  'z.dat': 'x',
  'qz.md': 'x',
  'az.md': 'x',
  'out/a.txt': 'x',
  'out/keep.txt': 'x',
  'out/sub/b.txt': 'x',
  'dist/keep.txt': 'x',
  'dist/other': 'x',
  fooXbar: 'x',
  'foo/x/bar': 'x',
  'sub/a': 'x',
  'sub/again/b': 'x',
  '1.num': 'x',
  'a.num': 'x',
  'tab\t': 'x',
  'tab': 'x',
  'émoji-ü.txt': 'x',
  'nested/.gitignore': '!*.log\n/local.txt\n*.txt\n!keep*.txt\n',
  'nested/a.log': 'x',
  'nested/local.txt': 'x',
  'nested/deeper/local.txt': 'x',
  'nested/keep1.txt': 'x',
  'nested/x.txt': 'x',
  'nested/deeper/.gitignore': Buffer.from('\uFEFFdeep.bin\r\n!x.txt\r\nsp ace \r\n', 'utf8'),
  'nested/deeper/deep.bin': 'x',
  'nested/deeper/x.txt': 'x',
  'nested/deeper/sp ace': 'x',
  'linkdir': { link: 'nested' },
  'ignored-dir/.gitignore': '!*\n',
  'ignored-dir/file': 'x',
}

describe('file list equals git ls-files', () => {
  it('on a tree of tricky ignore rules', async () => {
    const root = tempDir();
    writeTree(root, { ...tricky, '.gitignore': `${tricky['.gitignore'] as string}ignored-dir/\n` });
    gitInit(root);
    writeFileSync(path.join(root, '.git/info/exclude'), '*.dat\n!x.dat\nabc.txt\n');
    const store = new SnapshotStore({ root: tempDir('store-') });
    const { git, snap } = await compareWithGit(root, store);
    expect(snap).toEqual(git);
    // The tree is not trivial: git left out a good part of it, and kept some re-included files.
    expect(git.length).toBeGreaterThan(15);
    expect(git.length).toBeLessThan(Object.keys(tricky).length - 15);
    expect(git).toContain('important.log');
    expect(git).not.toContain('dist/keep.txt');
  });

  it('on Orchest projects with their .orchest/.gitignore', async () => {
    if (!haveFixtures()) return;
    const root = tempDir();
    cpSync(path.join(fixturesDir, 'projects'), root, { recursive: true });
    writeTree(root, {
      'data-passing/.orchest/logs/step.log': 'log',
      'data-passing/.orchest/data/out.csv': 'a,b',
      'data-passing/step.py': 'print(1)',
      'dump-env-params/.orchest/pipelines/x/logs/y': 'z',
    });
    gitInit(root);
    const store = new SnapshotStore({ root: tempDir('store-') });
    const { git, snap } = await compareWithGit(root, store);
    expect(snap).toEqual(git);
    expect(git).not.toContain('data-passing/.orchest/logs/step.log');
    const rec = (await store.list())[0];
    expect(rec?.pipelines).toEqual(['data-passing/data-passing.orchest', 'dump-env-params/dump-env-params.orchest']);
  });

  it('on random trees with random ignore files (fast-check)', async () => {
    const store = new SnapshotStore({ root: tempDir('store-') });
    const name = fc.constantFrom('a', 'b', 'ab', 'x.log', 'y.txt', 'foo', 'bar', '.hidden', 'a b', 'a[1]', 'Z.md', 'é');
    const relPath = fc.array(name, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
    const segment = fc.constantFrom('a', 'b', 'foo', '*', '?', '**', '*.log', 'a*', '[ab]', '[!a]*', 'x.log', '*.txt', 'a\\ b', 'é', '[[:alpha:]]*');
    const pattern = fc
      .tuple(fc.boolean(), fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.constantFrom('', '', ' ', '  '))
      .map(([neg, anchor, segs, dirOnly, trail]) => `${neg ? '!' : ''}${anchor ? '/' : ''}${segs.join('/')}${dirOnly ? '/' : ''}${trail}`);
    const ignoreFile = fc.array(pattern, { minLength: 1, maxLength: 6 }).map((l) => `${l.join('\n')}\n`);
    const tree = fc.record({
      files: fc.uniqueArray(relPath, { minLength: 1, maxLength: 25 }),
      ignores: fc.array(fc.tuple(fc.array(name, { maxLength: 2 }), ignoreFile), { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(tree, async ({ files, ignores }) => {
        const root = tempDir();
        // A path cannot be both a file and a directory: keep the first claim.
        const dirs = new Set<string>();
        const taken = new Set<string>();
        for (const f of files) {
          const parts = f.split('/');
          const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
          if (taken.has(f) || dirs.has(f) || parents.some((p) => taken.has(p))) continue;
          parents.forEach((p) => dirs.add(p));
          taken.add(f);
          mkdirSync(path.join(root, ...parts.slice(0, -1)), { recursive: true });
          writeFileSync(path.join(root, f), f);
        }
        for (const [dirParts, text] of ignores) {
          const d = dirParts.join('/');
          if (d !== '' && (taken.has(d) || [...taken].some((t) => d.startsWith(`${t}/`)))) continue;
          mkdirSync(path.join(root, d), { recursive: true });
          writeFileSync(path.join(root, d, '.gitignore'), text);
        }
        gitInit(root);
        const { git, snap } = await compareWithGit(root, store);
        expect(snap).toEqual(git);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
