import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(root, 'dist', 'cli', 'main.js');
export const etl = path.join(root, 'examples', 'projects', 'etl');

/** Fails loudly when the binary is not built (`npm test` builds first). */
export function requireBuild(): void {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` (npm test builds first)`);
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'pj-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts the built binary as a real process in `cwd`. */
export function start(cwd: string, args: readonly string[], env: Record<string, string> = {}): ChildProcess & { output: () => Result; exited: Promise<Result> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CI: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return Object.assign(child, { output: () => ({ code: child.exitCode, stdout, stderr }), exited });
}

/** Runs the binary to its end. */
export function cli(cwd: string, ...args: string[]): Promise<Result> {
  return start(cwd, args).exited;
}

/** Parses a command's `--json` output. */
export function json<T = unknown>(r: Result): T {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Waits (polling, real time) until `predicate` holds; for output of another process. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A project with one pipeline `main.orchest` of bash steps: `{ uuid: { title, script, incoming } }`. */
export function bashProject(dir: string, steps: Record<string, { title?: string; script: string; incoming?: string[] }>, parameters: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const doc = {
    name: 'main',
    uuid: 'main-uuid',
    version: '1.0.0',
    parameters,
    settings: {},
    steps: Object.fromEntries(
      Object.entries(steps).map(([uuid, s]) => [uuid, { uuid, title: s.title ?? uuid, file_path: `${uuid}.sh`, incoming_connections: s.incoming ?? [], environment: '', parameters: {} }]),
    ),
  };
  writeFileSync(path.join(dir, 'main.orchest'), JSON.stringify(doc, null, 2));
  for (const [uuid, s] of Object.entries(steps)) writeFileSync(path.join(dir, `${uuid}.sh`), `${s.script}\n`);
  return dir;
}
