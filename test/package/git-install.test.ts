import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `npm install git+<url>` clones the repository (no dist/: it is gitignored), installs its
 * dependencies, runs `prepare` and packs the result. This does the same from a clone of the
 * committed HEAD, with this checkout's node_modules in place of a fresh install: the tarball
 * must hold a built package.
 */
describe('an install from the git repository', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipeline-jobs-git-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds itself through the prepare script', () => {
    const clone = path.join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone], { stdio: 'pipe' });
    expect(existsSync(path.join(clone, 'dist')), 'a fresh clone has no dist/').toBe(false);
    symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'));
    execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: clone, stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball, 'npm pack wrote no tarball').toBeDefined();
    const files = execFileSync('tar', ['-tzf', path.join(dir, tarball!)], { encoding: 'utf8' }).split('\n');
    for (const built of ['package/dist/index.js', 'package/dist/index.cjs', 'package/dist/index.d.ts', 'package/dist/storage/sqlite/index.js']) {
      expect(files, `the tarball lacks ${built}: prepare did not build`).toContain(built);
    }
  }, 240_000);
});
