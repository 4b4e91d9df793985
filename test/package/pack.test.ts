import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

/**
 * Installs the packed tarball into a fresh project and uses it the three ways a user
 * would: ESM import, CJS require, and TypeScript type-checking. Needs `npm run build`
 * first (CI builds before testing).
 */
describe('the packed package', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` before the tests');
    dir = mkdtempSync(path.join(tmpdir(), 'pipeline-jobs-pack-'));
    // --ignore-scripts: `prepare` would rebuild dist/ (tsup cleans it first) under the other test files running now.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], { cwd: root, stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '0.0.0' }));
    // pipeline-jobs/testing's contract suites need vitest (an optional peer), as a user's tests would have it.
    const vitest = JSON.parse(readFileSync(path.join(root, 'node_modules', 'vitest', 'package.json'), 'utf8')).version as string;
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', `./${tarball}`, `vitest@${vitest}`], { cwd: dir, stdio: 'pipe' });
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pipelineJson = JSON.stringify({ name: 'p', uuid: 'p', steps: { a: { uuid: 'a', file_path: 'a.py', incoming_connections: [] } } });

  it('imports from ESM', () => {
    writeFileSync(
      path.join(dir, 'esm.mjs'),
      `import { parsePipeline, JobScheduler, ParameterGrid, SnapshotStore, RunExecutor } from 'pipeline-jobs';
       import { FakeClock, MemoryStorage } from 'pipeline-jobs/testing';
       const p = parsePipeline(${JSON.stringify(pipelineJson)});
       for (const c of [JobScheduler, ParameterGrid, SnapshotStore, RunExecutor, FakeClock, MemoryStorage]) if (typeof c !== 'function') throw new Error('missing export');
       console.log(p.steps.length, new ParameterGrid(p).size);`,
    );
    expect(execFileSync('node', ['esm.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('1 1');
  });

  it('requires from CJS', () => {
    writeFileSync(
      path.join(dir, 'cjs.cjs'),
      `const { parsePipeline, PipelineError } = require('pipeline-jobs');
       const { FakeClock } = require('pipeline-jobs/testing');
       try { parsePipeline('{}'); } catch (e) { console.log(e instanceof PipelineError, e.code); }
       console.log(typeof FakeClock);`,
    );
    expect(execFileSync('node', ['cjs.cjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n')).toEqual(['true PIPELINE_INVALID_FIELD', 'function']);
  });

  it('loads database drivers only through their subpaths (optional peers, not installed here)', () => {
    for (const [sub, driver] of [['sqlite', 'better-sqlite3'], ['postgres', 'pg']]) {
      const out = execFileSync('node', ['-e', `import('pipeline-jobs/${sub}').then(() => console.log('loaded'), (e) => console.log(e.code, e.message))`], { cwd: dir, encoding: 'utf8' });
      expect(out).toContain('ERR_MODULE_NOT_FOUND');
      expect(out).toContain(`'${driver}'`);
    }
  });

  it('loads the contract suites from ESM (they import vitest)', () => {
    writeFileSync(
      path.join(dir, 'contracts.mjs'),
      `import { describeStorageContract, describeStepExecutorContract } from 'pipeline-jobs/testing/contracts';
       console.log(typeof describeStorageContract, typeof describeStepExecutorContract);`,
    );
    expect(execFileSync('node', ['contracts.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('function function');
  });

  it('loads the adapter-author and schedule subpaths (ESM and CJS)', () => {
    writeFileSync(
      path.join(dir, 'subpaths.mjs'),
      `import { StorageErrorCode, StorageError } from 'pipeline-jobs/storage';
       import { describeStorageContract } from 'pipeline-jobs/storage/contract';
       import { preview, normalizeSchedule } from 'pipeline-jobs/schedule';
       const s = normalizeSchedule({ type: 'cron', cron: '0 * * * *' }, { now: 0 });
       console.log(StorageErrorCode.CLOSED, typeof StorageError, typeof describeStorageContract, preview(s, 2, 0).length);`,
    );
    expect(execFileSync('node', ['subpaths.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('STORAGE_CLOSED function function 2');
    const cjs = execFileSync('node', ['-e', "const { nextOccurrence } = require('pipeline-jobs/schedule'); const { JobErrorCode } = require('pipeline-jobs/storage'); console.log(typeof nextOccurrence, JobErrorCode.RUN_NOT_FINISHED)"], { cwd: dir, encoding: 'utf8' });
    expect(cjs.trim()).toBe('function RUN_NOT_FINISHED');
  });

  it('type-checks from TypeScript', () => {
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          // Our declarations use Node's types, as any user's project would have them.
          typeRoots: [path.join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    writeFileSync(
      path.join(dir, 'use.ts'),
      `import { parsePipeline, type Pipeline, type JobSpec } from 'pipeline-jobs';
       import type { Storage } from 'pipeline-jobs/storage';
       import type { Occurrence } from 'pipeline-jobs/schedule';
       import { FakeClock } from 'pipeline-jobs/testing';
       const p: Pipeline = parsePipeline('{}');
       const spec: JobSpec = { name: 'n', projectDir: '.', pipeline: 'p.orchest' };
       const n: number = new FakeClock(0).now();
       // @ts-expect-error a pipeline has no such field
       p.nope;
       type Used = [Storage, Occurrence];
       export { spec, n, type Used };`,
    );
    execFileSync(tsc, ['-p', dir], { cwd: dir, stdio: 'pipe' });
  });
});
