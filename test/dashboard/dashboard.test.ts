import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard, describeSchedule, type DashboardOptions } from '../../src/dashboard/index.js';
import { harness } from '../scheduler/harness.js';

const HOSTILE_TITLE = '<img src=x onerror=alert(1)>';
const HOSTILE_NAME = '<script>alert("name")</script>';
const HOSTILE_PARAM = '"><svg onload=alert(3)>';

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A project whose step title and parameter are hostile HTML. */
function hostileProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pj-dash-'));
  dirs.push(dir);
  const doc = {
    name: 'main',
    uuid: 'main-uuid',
    parameters: { p: HOSTILE_PARAM },
    settings: {},
    steps: { a: { uuid: 'a', title: HOSTILE_TITLE, file_path: 'a.py', incoming_connections: [], environment: '', parameters: {} } },
  };
  writeFileSync(path.join(dir, 'main.orchest'), JSON.stringify(doc));
  writeFileSync(path.join(dir, 'a.py'), '# in-process\n');
  return dir;
}

async function serve(options: DashboardOptions, basePath = ''): Promise<string> {
  const d = createDashboard({ ...options, basePath });
  const server = createServer(async (req, res) => {
    if (!(await d.handle(req, res))) res.writeHead(418).end('host app');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`;
}

async function setup() {
  const h = await harness({ functions: { a: (ctx) => ctx.log('<b>not bold</b> & done') } });
  const job = await h.scheduler.createJob({ name: HOSTILE_NAME, projectDir: hostileProject(), pipeline: 'main.orchest' });
  await h.scheduler.waitForJob(job.id);
  const run = (await h.scheduler.listRuns(job.id)).items[0]!;
  const cron = await h.scheduler.createJob({ name: 'nightly', projectDir: hostileProject(), pipeline: 'main.orchest', schedule: { type: 'cron', cron: '30 4 * * 1-5', timezone: 'Europe/Berlin' } });
  return { h, job, run, cron };
}

describe('dashboard', () => {
  it('renders the three pages with everything escaped, under a strict CSP', async () => {
    const { h, job, run } = await setup();
    const base = await serve({ scheduler: h.scheduler });
    const pages = [`${base}/`, `${base}/jobs/${job.id}`, `${base}/runs/${run.id}`];
    for (const url of pages) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).not.toContain('<script>alert');
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<svg onload');
      expect(html).toMatch(/<script src="\/assets\/app\.js" defer><\/script>/);
      expect(html.match(/<script/g)).toHaveLength(1);
    }
    const jobs = await (await fetch(`${base}/`)).text();
    expect(jobs).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(jobs).toContain('on weekdays at 04:30 <span class="muted">(Europe/Berlin)</span>');
    const jobPage = await (await fetch(`${base}/jobs/${job.id}`)).text();
    expect(jobPage).toContain('&quot;\\&quot;&gt;&lt;svg onload=alert(3)&gt;&quot;');
    expect(jobPage).toContain(`href="/runs/${run.id}"`);
    const runPage = await (await fetch(`${base}/runs/${run.id}`)).text();
    expect(runPage).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(runPage).toContain('<svg class="dag"');
  });

  it('streams a run\'s step logs as server-sent events, as JSON the page inserts as text', async () => {
    const { h, run } = await setup();
    const base = await serve({ scheduler: h.scheduler });
    const res = await fetch(`${base}/runs/${run.id}/logs`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toContain(`event: chunk\ndata: ${JSON.stringify({ step: 'a', text: '<b>not bold</b> & done\n' })}`);
    expect(text).toContain('event: end\ndata: {"step":"a"}');
    expect(text.trimEnd().endsWith('event: done\ndata: {}')).toBe(true);
    const state = (await (await fetch(`${base}/runs/${run.id}/state`)).json()) as { status: string; steps: { stepId: string; status: string }[] };
    expect(state).toEqual({ status: 'SUCCESS', steps: [{ stepId: 'a', status: 'SUCCESS' }] });
  });

  it('lets local clients act without a token, and refuses cross-site posts', async () => {
    const { h, cron } = await setup();
    const base = await serve({ scheduler: h.scheduler });
    const evil = await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', headers: { origin: 'http://evil.example' }, redirect: 'manual' });
    expect(evil.status).toBe(403);
    expect((await h.scheduler.listBatches(cron.id)).items).toEqual([]);
    const ok = await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', redirect: 'manual' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/jobs/${cron.id}`);
    expect((await h.scheduler.listBatches(cron.id)).items).toHaveLength(1);
    expect((await fetch(`${base}/jobs/${cron.id}/pause`, { method: 'POST', redirect: 'manual' })).status).toBe(303);
    expect((await h.scheduler.getJob(cron.id))?.status).toBe('PAUSED');
    const unknown = await fetch(`${base}/jobs/${cron.id}/bogus`, { method: 'POST', redirect: 'manual' });
    expect(unknown.status).toBe(404);
    const cancel = await fetch(`${base}/jobs/${cron.id}/cancel`, { method: 'POST', redirect: 'manual' });
    expect(cancel.status).toBe(303);
    const again = await fetch(`${base}/jobs/${cron.id}/resume`, { method: 'POST', redirect: 'manual' });
    // An action the lifecycle refuses is a 409 with the reason.
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('Cannot resume');
  });

  it('requires the token for actions when one is set, from a header, a form field or the cookie', async () => {
    const { h, cron } = await setup();
    const base = await serve({ scheduler: h.scheduler, token: 's3cret' });
    const page = await (await fetch(`${base}/jobs/${cron.id}`)).text();
    expect(page).toContain('Actions are off');
    expect((await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', redirect: 'manual' })).status).toBe(403);
    expect((await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', headers: { authorization: 'Bearer wrong' }, redirect: 'manual' })).status).toBe(403);
    expect((await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', headers: { authorization: 'Bearer s3cret' }, redirect: 'manual' })).status).toBe(303);
    const form = await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', body: new URLSearchParams({ token: 's3cret' }), redirect: 'manual' });
    expect(form.status).toBe(303);
    const withToken = await fetch(`${base}/jobs/${cron.id}?token=s3cret`);
    expect(withToken.headers.get('set-cookie')).toMatch(/^pj_token=s3cret; HttpOnly; SameSite=Strict/);
    expect(await withToken.text()).toContain('data-action="trigger"');
    const cookie = await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', headers: { cookie: 'pj_token=s3cret' }, redirect: 'manual' });
    expect(cookie.status).toBe(303);
    expect((await h.scheduler.listBatches(cron.id)).items).toHaveLength(3);
  });

  it('is read-only with actions: false, and mounts under a base path beside the host app', async () => {
    const { h, cron } = await setup();
    const base = await serve({ scheduler: h.scheduler, actions: false }, '/ui');
    expect((await fetch(`${base}/jobs/${cron.id}/trigger`, { method: 'POST', redirect: 'manual' })).status).toBe(403);
    const jobs = await (await fetch(`${base}/`)).text();
    expect(jobs).toContain(`href="/ui/jobs/${cron.id}"`);
    expect(jobs).toContain('href="/ui/assets/style.css"');
    expect((await fetch(base.replace('/ui', '/other'))).status).toBe(418);
    expect((await fetch(`${base}/runs/nope`)).status).toBe(404);
    expect(() => createDashboard({ scheduler: h.scheduler, basePath: 'ui/' })).toThrow(/basePath/);
  });

  it('links and serves an executed notebook\'s HTML, sandboxed', async () => {
    const { h, run } = await setup();
    const artifactsRoot = mkdtempSync(path.join(tmpdir(), 'pj-dash-artifacts-'));
    dirs.push(artifactsRoot);
    const base = await serve({ scheduler: h.scheduler, artifactsRoot });
    expect(await (await fetch(`${base}/runs/${run.id}`)).text()).not.toContain('Executed notebook');
    // Where RunExecutor keeps a step's artifacts: <artifactsRoot>/<runId>/steps/<stepId>/.
    const dir = path.join(artifactsRoot, encodeURIComponent(run.id), 'steps', 'a');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'a.html'), '<html><script>alert(1)</script><p>executed</p></html>');
    const page = await (await fetch(`${base}/runs/${run.id}`)).text();
    expect(page).toContain(`href="/runs/${run.id}/steps/a/notebook"`);
    const nb = await fetch(`${base}/runs/${run.id}/steps/a/notebook`);
    expect(nb.status).toBe(200);
    expect(nb.headers.get('content-security-policy')).toMatch(/^sandbox;/);
    expect(await nb.text()).toContain('<p>executed</p>');
    expect((await fetch(`${base}/runs/${run.id}/steps/zzz/notebook`)).status).toBe(404);
  });

  it('describes schedules in words', () => {
    const cron = (c: string) => ({ type: 'cron', cron: c, timezone: 'UTC' }) as Parameters<typeof describeSchedule>[0];
    expect(describeSchedule(cron('0 3 * * *'))).toBe('every day at 03:00');
    expect(describeSchedule(cron('*/15 * * * *'))).toBe('every 15 minutes');
    expect(describeSchedule(cron('5 * * * *'))).toBe('every hour at :05');
    expect(describeSchedule(cron('0 9 * * 1,3'))).toBe('on Monday, Wednesday at 09:00');
    expect(describeSchedule(cron('0 0 1 * *'))).toBe('on day 1 of every month at 00:00');
    expect(describeSchedule(cron('0 0 1 1 *'))).toBe('cron "0 0 1 1 *"');
    expect(describeSchedule({ type: 'at', at: Date.UTC(2026, 11, 4, 10, 0) })).toBe('once at 2026-12-04 10:00 UTC');
  });
});

