import { timingSafeEqual } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { NotFoundError, PipelineJobsError, type JobScheduler } from '../index.js';
import { SCRIPT, STYLE } from './assets.js';
import { esc, page } from './html.js';
import { jobPage, jobsPage, runPage, type PageContext } from './pages.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The scheduler whose jobs are shown (and acted on). */
  scheduler: JobScheduler;
  /**
   * Where the dashboard is mounted in the host's server, without a trailing slash
   * (e.g. `'/jobs-ui'`); requests outside it are not handled.
   * @default ''
   */
  basePath?: string;
  /**
   * A secret that action requests (pause, resume, trigger, cancel) must carry: the
   * `pj_token` cookie (set by opening any page with `?token=...`), a `token` form field,
   * or `Authorization: Bearer ...`. Without a token, actions are allowed only to clients
   * on the loopback interface.
   * @default undefined
   */
  token?: string;
  /**
   * `false` turns every action off (a read-only dashboard).
   * @default true
   */
  actions?: boolean;
  /**
   * The `RunExecutor`'s `artifactsRoot`, to serve executed notebooks' HTML
   * (`<artifactsRoot>/<runId>/steps/<stepId>/*.html`). Without it no notebook link is shown.
   * @default undefined
   */
  artifactsRoot?: string;
  /** How many runs the job page shows (the most recent). @default 200 */
  runsPerPage?: number;
}

/** A mountable dashboard: `handle` answers the requests under `basePath` and resolves `false` for others. */
export interface Dashboard {
  /** A `node:http` request listener. Requests outside `basePath` get 404. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Answers a request under `basePath`; resolves `false` (nothing written) for any other. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Ends the live log streams still open. */
  close(): void;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

/**
 * The dashboard over a scheduler (Orchest's Jobs view): jobs, a job's batches, runs and
 * ledger with actions, a run's DAG and live logs. Served by Node's own `http`; no build
 * step. Mount it in a host's server:
 *
 * @example
 * const dashboard = createDashboard({ scheduler, basePath: '/pipelines' });
 * http.createServer(async (req, res) => { if (!(await dashboard.handle(req, res))) hostApp(req, res); }).listen(3000);
 * @param options the scheduler, where to mount, and what the pages offer
 * @throws TypeError when `options.scheduler` is missing or `basePath` does not start with `/` or ends with one
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  if (!options || typeof options !== 'object' || !options.scheduler) throw new TypeError('createDashboard needs { scheduler }');
  const o = { basePath: '', actions: true, runsPerPage: 200, ...options };
  if (o.basePath !== '' && (!o.basePath.startsWith('/') || o.basePath.endsWith('/'))) throw new TypeError(`basePath must start with "/" and not end with one, got "${o.basePath}"`);
  const streams = new Set<AbortController>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (url.pathname !== o.basePath && !url.pathname.startsWith(`${o.basePath}/`)) return false;
    const route = url.pathname.slice(o.basePath.length) || '/';
    try {
      await dispatch(req, res, url, route);
    } catch (error) {
      if (res.headersSent) res.end();
      else if (error instanceof NotFoundError) send(res, 404, 'text/html', page(o.basePath, 'Not found', `<h1>Not found</h1><p>${esc(error.message)}</p>`));
      else if (error instanceof PipelineJobsError) send(res, 409, 'text/html', page(o.basePath, 'Refused', `<h1>Refused</h1><p>${esc(error.message)}</p>`));
      else send(res, 500, 'text/plain', `Internal error: ${(error as Error).message}`);
    }
    return true;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL, route: string): Promise<void> {
    const s = o.scheduler;
    const token = url.searchParams.get('token');
    if (token !== null && o.token !== undefined && same(token, o.token)) {
      // Opening a page with ?token= remembers it for the forms of this browser.
      res.setHeader('Set-Cookie', `pj_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=${o.basePath || '/'}`);
    }
    const ctx: PageContext = { base: o.basePath, actions: mayAct(req, token), now: Date.now() };
    const parts = route.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'POST') {
      if (parts[0] === 'jobs' && parts.length === 3) return act(req, res, parts[1]!, parts[2]!);
      return send(res, 404, 'text/plain', 'Not found');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'Method not allowed');
    if (route === '/assets/style.css') return send(res, 200, 'text/css', STYLE);
    if (route === '/assets/app.js') return send(res, 200, 'text/javascript', SCRIPT);
    if (route === '/') {
      const jobs = (await s.listJobs({ limit: 500 })).items;
      const rows = [];
      for (const job of jobs) {
        const live = job.schedule.type === 'cron' && (job.status === 'STARTED' || job.status === 'PAUSED');
        rows.push({ job, next: live ? await s.previewJob(job.id, 3) : [] });
      }
      return send(res, 200, 'text/html', jobsPage(ctx, rows));
    }
    if (parts[0] === 'jobs' && parts.length === 2) {
      const job = await s.getJob(parts[1]!);
      if (!job) throw new NotFoundError('JOB_NOT_FOUND', `No job "${parts[1]}"`);
      const batches = (await s.listBatches(job.id, { limit: 20 })).items;
      const runs = await lastRuns(job.id);
      const ledger = (await s.listOccurrences(job.id, { limit: 1000 })).items.slice(-50).reverse();
      const live = job.schedule.type === 'cron' && (job.status === 'STARTED' || job.status === 'PAUSED');
      const next = live ? await s.previewJob(job.id, 5) : [];
      return send(res, 200, 'text/html', jobPage(ctx, job, batches, runs, ledger, next));
    }
    if (parts[0] === 'runs' && parts.length >= 2) {
      const run = await s.getRun(parts[1]!);
      if (!run) throw new NotFoundError('RUN_NOT_FOUND', `No run "${parts[1]}"`);
      const job = (await s.getJob(run.jobId))!;
      if (parts.length === 2) return send(res, 200, 'text/html', runPage(ctx, job, run, await notebooks(run.id, job.pipeline.steps.map((x) => x.uuid))));
      if (parts.length === 3 && parts[2] === 'state') {
        return send(res, 200, 'application/json', JSON.stringify({ status: run.status, steps: run.steps.map((x) => ({ stepId: x.stepId, status: x.status })) }));
      }
      if (parts.length === 3 && parts[2] === 'logs') return streamLogs(req, res, run.id, job.pipeline.steps.map((x) => x.uuid));
      if (parts.length === 5 && parts[2] === 'steps' && parts[4] === 'notebook') return sendNotebook(res, run.id, parts[3]!);
    }
    send(res, 404, 'text/html', page(o.basePath, 'Not found', '<h1>Not found</h1>'));
  }

  async function lastRuns(jobId: string) {
    const all = [];
    let cursor: string | null = null;
    do {
      const p = await o.scheduler.listRuns(jobId, { limit: 1000, cursor });
      all.push(...p.items);
      cursor = p.nextCursor;
    } while (cursor !== null);
    return all.slice(-o.runsPerPage).reverse();
  }

  function mayAct(req: IncomingMessage, queryToken: string | null): boolean {
    if (!o.actions) return false;
    if (o.token === undefined) return isLoopback(req.socket.remoteAddress);
    const given = queryToken ?? bearer(req) ?? cookie(req, 'pj_token');
    return given !== undefined && same(given, o.token);
  }

  async function act(req: IncomingMessage, res: ServerResponse, jobId: string, action: string): Promise<void> {
    const form = new URLSearchParams(await body(req));
    // Cross-site form posts (CSRF) are refused: a browser always sends Origin on POST.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && new URL(origin).host !== req.headers.host) return send(res, 403, 'text/plain', 'Cross-site request refused');
    if (!mayAct(req, form.get('token'))) return send(res, 403, 'text/plain', 'Actions need a token here (or are off)');
    const s = o.scheduler;
    if (action === 'pause') await s.pauseJob(jobId);
    else if (action === 'resume') await s.resumeJob(jobId);
    else if (action === 'trigger') await s.triggerJob(jobId);
    else if (action === 'cancel') await s.cancelJob(jobId);
    else return send(res, 404, 'text/plain', 'Unknown action');
    res.writeHead(303, { Location: `${o.basePath}/jobs/${encodeURIComponent(jobId)}` }).end();
  }

  async function streamLogs(req: IncomingMessage, res: ServerResponse, runId: string, stepIds: readonly string[]): Promise<void> {
    const stop = new AbortController();
    streams.add(stop);
    // The response's 'close' means the client went away (a GET request's own 'close' is not a reliable signal).
    res.on('close', () => stop.abort());
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    const event = (name: string, data: unknown): void => {
      if (!stop.signal.aborted) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    try {
      await Promise.all(stepIds.map(async (step) => {
        for await (const text of o.scheduler.followLog(runId, step, { signal: stop.signal })) event('chunk', { step, text });
        event('end', { step });
      }));
      event('done', {});
    } finally {
      streams.delete(stop);
      res.end();
    }
  }

  async function notebookFile(runId: string, stepId: string): Promise<string | undefined> {
    if (o.artifactsRoot === undefined) return undefined;
    const dir = path.join(o.artifactsRoot, encodeId(runId), 'steps', encodeId(stepId));
    const files = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[]; // the step kept no artifacts
      throw error;
    });
    const html = files.find((f) => f.endsWith('.html'));
    return html === undefined ? undefined : path.join(dir, html);
  }

  async function notebooks(runId: string, stepIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const id of stepIds) if (await notebookFile(runId, id)) found.add(id);
    return found;
  }

  async function sendNotebook(res: ServerResponse, runId: string, stepId: string): Promise<void> {
    const file = await notebookFile(runId, stepId);
    if (!file) throw new NotFoundError('NOTEBOOK_NOT_FOUND', 'This step kept no executed notebook');
    // The notebook's HTML is user content: sandboxed (no scripts, an opaque origin).
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "sandbox; default-src 'none'; style-src 'unsafe-inline' data:; img-src data:; font-src data:", 'X-Content-Type-Options': 'nosniff' });
    res.end(await readFile(file));
  }

  return {
    listener: (req, res) => {
      void handle(req, res).then((handled) => {
        if (!handled) send(res, 404, 'text/plain', 'Not found');
      });
    },
    handle,
    close() {
      for (const c of streams) c.abort();
    },
  };
}

function send(res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, {
    'Content-Type': `${type}; charset=utf-8`,
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || (address?.startsWith('127.') ?? false);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 64 * 1024) throw new TypeError('Request body too large');
  }
  return text;
}

/** The artifact layout's folder name for an id (as `RunExecutor` writes it). */
function encodeId(id: string): string {
  const encoded = encodeURIComponent(id);
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

