import UnpluginTypia from '@ryoppippi/unplugin-typia/esbuild';
import type { Plugin } from 'esbuild';
import path from 'node:path';
import { defineConfig } from 'tsup';

/**
 * typia reports a failed transform only as a warning and leaves a call that throws at
 * run time. This plugin turns those warnings into a failed build.
 */
const failOnTypiaWarnings: Plugin = {
  name: 'fail-on-typia-warnings',
  setup(build) {
    build.onEnd((result) => {
      const typia = result.warnings.filter((w) => /typia/i.test(`${w.pluginName} ${w.text}`));
      if (typia.length > 0) {
        throw new Error(`typia transform failed:\n${typia.map((w) => w.text).join('\n')}`);
      }
    });
  },
};

/**
 * The CLI uses the package's public entry points only: its imports of them are left to
 * Node (`pipeline-jobs`, `pipeline-jobs/sqlite`, ...), so the binary runs on the very
 * modules a user imports, and `pg` / `better-sqlite3` load only when used.
 */
const publicEntries: Plugin = {
  name: 'public-entries',
  setup(build) {
    const entries: Record<string, string> = {
      'src/index.ts': 'pipeline-jobs',
      'src/schedule-kit.ts': 'pipeline-jobs/schedule',
      'src/errors-kit.ts': 'pipeline-jobs/errors',
      'src/executors-kit.ts': 'pipeline-jobs/executors',
      'src/snapshots-kit.ts': 'pipeline-jobs/snapshots',
      'src/parameters-kit.ts': 'pipeline-jobs/parameters',
      'src/storage-kit.ts': 'pipeline-jobs/storage',
      'src/storage/sqlite/index.ts': 'pipeline-jobs/sqlite',
      'src/storage/postgres/index.ts': 'pipeline-jobs/postgres',
      'src/dashboard/index.ts': 'pipeline-jobs/dashboard',
    };
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.relative(process.cwd(), path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'))).split(path.sep).join('/');
      const external = entries[target];
      if (external) return { path: external, external: true };
      if (!target.startsWith('src/cli/')) throw new Error(`the CLI imports ${target}: only public entry points are allowed`);
      return undefined;
    });
  },
};

const plugins = [UnpluginTypia({ cache: false, log: false }), failOnTypiaWarnings];

export default defineConfig([{
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/contracts': 'src/testing/contracts.ts',
    'schedule/index': 'src/schedule-kit.ts',
    'errors/index': 'src/errors-kit.ts',
    'executors/index': 'src/executors-kit.ts',
    'snapshots/index': 'src/snapshots-kit.ts',
    'parameters/index': 'src/parameters-kit.ts',
    'storage/index': 'src/storage-kit.ts',
    'storage/contract': 'src/storage-contract.ts',
    'storage/sqlite/index': 'src/storage/sqlite/index.ts',
    'storage/postgres/index': 'src/storage/postgres/index.ts',
    'dashboard/index': 'src/dashboard/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  treeshake: true,
  // p-queue is ESM-only: inline it so the CJS build can load it.
  // typia's generated validators import a few tiny helpers from typia/lib/internal:
  // inlining them keeps typia (and its CLI dependencies) out of users' installs.
  noExternal: ['p-queue', 'eventemitter3', 'p-timeout', /^typia/],
  esbuildPlugins: plugins,
}, {
  // The CLI: ESM only (log-update is ESM-only), no types; the library comes from the package itself.
  entry: { 'cli/main': 'src/cli/main.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  platform: 'node',
  splitting: false,
  esbuildPlugins: [publicEntries],
}]);
