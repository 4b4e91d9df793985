import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Runs an example as a user would (`npx tsx examples/<file>`, against the built package) and
 * returns what it printed. A non-zero exit throws with its output, so a broken example says why.
 */
export function runExample(file: string, env: Record<string, string> = {}, timeoutMs = 180_000): string {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  const result = spawnSync(tsx, [path.join('examples', file)], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  if (result.status !== 0) {
    throw new Error(`examples/${file} exited with ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}
