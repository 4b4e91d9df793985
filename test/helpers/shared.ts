import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared` beside the repo: design docs and Orchest fixtures. */
export const sharedDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');
export const fixturesDir = path.join(sharedDir, 'fixtures', 'orchest');

/**
 * Whether the Orchest fixtures are there. Says so loudly when they are not; under
 * `CI=true` their absence is an error, so CI cannot pass by skipping.
 */
export function haveFixtures(): boolean {
  if (existsSync(fixturesDir)) return true;
  if (process.env.CI === 'true') throw new Error(`Orchest fixtures missing at ${fixturesDir}: CI must run the fixture tests`);
  console.warn(`\n*** SKIPPING fixture tests: ${fixturesDir} is missing (clone with ../shared beside the repo) ***\n`);
  return false;
}
