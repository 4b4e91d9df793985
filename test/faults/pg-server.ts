/**
 * A PostgreSQL server of the test's own, for fault tests that stop, kill and freeze it:
 * `initdb` into a temporary folder as a non-root user, its own port and socket folder,
 * removed at the end. Never the machine's shared server on 5432.
 *
 * Robust to the test being killed: every cluster folder records the pid of the process
 * that made it, cleanup runs on exit and on SIGTERM/SIGINT, and the next `PgServer.create`
 * stops and removes clusters whose owner process is gone (after a SIGKILL).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'pj-faults-pg-';
const RUN_AS = 'postgres';

/** The folder with `initdb` and `pg_ctl` (newest version), or `undefined`. */
export function findPgBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions[0]) return path.join(base, versions[0], 'bin');
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, 'initdb'))) return dir;
  return undefined;
}

/**
 * Whether fault tests can run here. Says so loudly when not; under `CI=true` a missing
 * `initdb` is an error (CI cannot pass by skipping).
 */
export function pgBinOrSkip(): string | undefined {
  const bin = findPgBin();
  if (bin) return bin;
  const message = 'initdb not found (looked in /usr/lib/postgresql/*/bin and PATH)';
  if (process.env.CI === 'true') throw new Error(`${message}: CI must run the PostgreSQL fault tests`);
  console.warn(`\n*** SKIPPING PostgreSQL fault tests: ${message}. Install the postgresql server package. ***\n`);
  return undefined;
}

function isRoot(): boolean {
  return userInfo().uid === 0;
}

/** argv for running a server binary as the non-root user when we are root. */
function asUser(bin: string, tool: string, args: string[]): [string, string[]] {
  const file = path.join(bin, tool);
  return isRoot() ? ['runuser', ['-u', RUN_AS, '--', file, ...args]] : [file, args];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // ESRCH: gone. EPERM: alive but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops and removes clusters left by test processes that died without cleaning up. */
export function sweepStaleClusters(bin: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(tmpdir(), name);
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(path.join(dir, 'owner.pid'), 'utf8'));
    } catch (error) {
      // No owner file: a folder made by a create() killed before writing it; it is stale too.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (Number.isInteger(owner) && alive(owner)) continue;
    stopSync(bin, path.join(dir, 'data'));
    rmSync(dir, { recursive: true, force: true });
  }
}

function stopSync(bin: string, data: string): void {
  if (!existsSync(path.join(data, 'postmaster.pid'))) return;
  const [file, args] = asUser(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop']);
  try {
    execFileSync(file, args, { stdio: 'ignore' });
  } catch (error) {
    // Already stopped (a stale postmaster.pid): nothing to stop.
    if (existsSync(path.join(data, 'postmaster.pid')) && readPid(data) !== undefined && alive(readPid(data)!)) throw error;
  }
}

function readPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A free TCP port on 127.0.0.1 (asked from the kernel). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PgServerOptions {
  /** `max_connections` of the server. @default 40 */
  maxConnections?: number;
}

/** A running PostgreSQL cluster of the test's own. */
export class PgServer {
  readonly #bin: string;
  readonly dir: string;
  readonly data: string;
  readonly port: number;
  #removeHooks: () => void = () => undefined;
  #destroyed = false;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.dir = dir;
    this.data = path.join(dir, 'data');
    this.port = port;
  }

  /** initdb + start. Sweeps stale clusters of dead test processes first. */
  static async create(bin: string, options: PgServerOptions = {}): Promise<PgServer> {
    sweepStaleClusters(bin);
    const dir = mkdtempSync(path.join(tmpdir(), PREFIX));
    writeFileSync(path.join(dir, 'owner.pid'), String(process.pid));
    const server = new PgServer(bin, dir, await freePort());
    server.#installHooks();
    if (isRoot()) {
      const { uid, gid } = idsOf(RUN_AS);
      chownSync(dir, uid, gid);
    }
    const [file, args] = asUser(bin, 'initdb', ['-D', server.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    await run(file, args);
    writeFileSync(
      path.join(server.data, 'postgresql.auto.conf'),
      [
        `port = ${server.port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        `max_connections = ${options.maxConnections ?? 40}`,
        // No flush to disk (the machine does not crash in these tests); commits stay synchronous so an
        // immediate stop (a server crash) loses nothing a client was told is committed.
        'fsync = off',
        'full_page_writes = off',
        "shared_buffers = '16MB'",
        '',
      ].join('\n'),
    );
    await server.start();
    return server;
  }

  /** `postgres://postgres@127.0.0.1:<port>/<db>` */
  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const [file, args] = asUser(this.#bin, 'pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
    await run(file, args);
  }

  /**
   * Stops the server: `fast` ends sessions with an error (admin shutdown), `immediate`
   * kills every server process without a clean shutdown (as a crash does).
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const [file, args] = asUser(this.#bin, 'pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
    await run(file, args);
  }

  /** Every process of the cluster (the postmaster and its children). */
  pids(): number[] {
    const root = readPid(this.data);
    if (root === undefined) return [];
    const out = [root];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === root) out.push(Number(entry));
      } catch (error) {
        // A process that ended while we looked.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    return out;
  }

  /** SIGSTOP every server process: connections stay open and nothing answers. */
  freeze(): void {
    for (const pid of this.pids()) signal(pid, 'SIGSTOP');
  }

  /** SIGCONT after {@link freeze}. */
  thaw(): void {
    for (const pid of this.pids()) signal(pid, 'SIGCONT');
  }

  /** Stops the server (immediate) and removes its folder. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#removeHooks();
    const pid = readPid(this.data);
    if (pid !== undefined && alive(pid)) {
      this.thaw();
      stopSync(this.#bin, this.data);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #installHooks(): void {
    const onExit = (): void => this.destroy();
    const onSignal = (signal: NodeJS.Signals): void => {
      this.destroy();
      // Re-raise with the default action so the process still ends as it was asked to.
      process.kill(process.pid, signal);
    };
    process.once('exit', onExit);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    this.#removeHooks = () => {
      process.off('exit', onExit);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }
}

/** Sends `sig` to `pid`; a process that ended meanwhile is fine. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function idsOf(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
