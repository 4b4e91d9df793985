import UnpluginTypia from '@ryoppippi/unplugin-typia/esbuild';
import type { Plugin } from 'esbuild';
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

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/contracts': 'src/testing/contracts.ts',
    'schedule/index': 'src/schedule-kit.ts',
    'storage/index': 'src/storage-kit.ts',
    'storage/contract': 'src/storage-contract.ts',
    'storage/sqlite/index': 'src/storage/sqlite/index.ts',
    'storage/postgres/index': 'src/storage/postgres/index.ts',
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
  esbuildPlugins: [UnpluginTypia({ cache: false, log: false }), failOnTypiaWarnings],
});
