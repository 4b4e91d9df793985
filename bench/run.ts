/**
 * `npm run bench [-- name ...]` (e.g. `npm run bench -- soak`): builds the package, then runs each benchmark in its own
 * Node process (so memory figures do not mix) with --expose-gc, one after another (they
 * share 2 cores with each other otherwise), and prints their tables. Benchmarks measure
 * their baselines in the same run and report ratios; none asserts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ALL = ['grid', 'executor', 'snapshot', 'scheduler', 'storage', 'e2e', 'scale-out', 'claims', 'soak'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : ALL;
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of names) {
  console.log(`\n## bench/${name}.ts\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  console.log(`\n(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.status ?? r.signal})`);
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
