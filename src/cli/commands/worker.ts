import { createServer } from 'node:http';
import { createDashboard } from '../../dashboard/index.js';
import { type GlobalOptions, openEnv } from '../env.js';
import { UsageError } from '../errors.js';

export interface WorkerOptions {
  concurrency?: number;
  /** `serve` only. */
  port?: number;
  host?: string;
  token?: string;
  readOnly?: boolean;
}

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * `worker` (and `serve`, with the dashboard): runs the scheduler until SIGINT/SIGTERM.
 * The first signal drains (runs going here finish, up to 30 s, then are cancelled); a
 * second cancels at once.
 */
export async function workerCommand(o: WorkerOptions & GlobalOptions, serve: boolean): Promise<number> {
  const env = await openEnv(o, { keepAlive: true, ...(o.concurrency ? { concurrency: o.concurrency } : {}) });
  const s = env.scheduler;
  const say = (text: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${text}\n`);
  };
  s.on('batch:started', (p) => say(`job ${p.jobId.slice(0, 8)}: batch ${p.batchIndex} started (${p.runCount} runs, ${p.trigger})`));
  s.on('run:finished', (p) => say(`job ${p.jobId.slice(0, 8)}: run ${p.runId.slice(0, 8)} ${p.status}${p.reason ? ` (${p.reason})` : ''}`));
  s.on('occurrence:skipped', (p) => say(`job ${p.jobId.slice(0, 8)}: ${p.count} occurrence(s) skipped (${p.reason})`));
  s.on('job:finished', (p) => say(`job ${p.jobId.slice(0, 8)}: ${p.status}`));
  s.on('scheduler:error', (p) => say(`error during ${p.during}: ${(p.error as Error)?.message ?? String(p.error)}`));
  const stopped = new Promise<'drain' | 'cancel'>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string): void => {
      signals += 1;
      if (signals === 1) say(`${sig}: stopping (runs going here may finish; signal again to cancel them)`);
      resolve(signals > 1 ? 'cancel' : 'drain');
      if (signals > 1) void s.stop({ mode: 'cancel' });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  let server: ReturnType<typeof createServer> | undefined;
  let dashboard: ReturnType<typeof createDashboard> | undefined;
  try {
    await s.start();
    say(`worker started (store under ${env.home})`);
    if (serve) {
      const host = o.host ?? '127.0.0.1';
      const token = o.token ?? process.env.PIPELINE_JOBS_TOKEN;
      if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536)) throw new UsageError(`--port must be 0..65535, got ${o.port}`);
      dashboard = createDashboard({ scheduler: s, artifactsRoot: env.artifactsRoot, actions: !o.readOnly, ...(token ? { token } : {}) });
      server = createServer(dashboard.listener);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(o.port ?? 8080, host, () => resolve());
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.port;
      say(`dashboard on http://${host.includes(':') ? `[${host}]` : host}:${port}/${token ? '?token=<your token>' : ''}`);
      if (!LOCAL.has(host) && !token) say('note: listening beyond localhost without --token: actions are off for other machines');
    }
    const mode = await stopped;
    dashboard?.close();
    if (server) {
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await env.close({ mode, timeoutMs: 30_000 });
    say('stopped');
    return 0;
  } catch (error) {
    dashboard?.close();
    server?.close();
    await env.close({ mode: 'cancel' });
    throw error;
  }
}
