import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bashProject, cli, remove, requireBuild, root, start, tempDir, until } from '../cli/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = path.join(root, 'test-artifacts');
const HOSTILE = '<img src=x onerror=alert(1)>';

/** Chromium is needed; missing, the test says so loudly, and fails under CI=true (never skips there). */
function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `Chromium not found at ${CHROMIUM} (Debian package \`chromium\`)`;
  if (process.env.CI === 'true') throw new Error(`${message}: CI must run the browser test`);
  console.warn(`\n*** SKIPPING the dashboard browser test: ${message}. Install it with: apt-get install chromium ***\n`);
  return false;
}

/**
 * The dashboard end to end in a real headless Chromium: `pipeline-jobs serve` as a
 * process, the three pages with real data, a trigger from the page, a log streaming in.
 */
describe.skipIf(!haveChromium())('dashboard in a browser', () => {
  let cwd: string;
  let go: string;
  let server: ReturnType<typeof start>;
  let context: BrowserContext;
  let base: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    requireBuild();
    mkdirSync(ARTIFACTS, { recursive: true });
    cwd = tempDir('pj-browser-');
    go = path.join(cwd, 'go');
    // A finished job with real runs, then a cron job whose step waits for the test.
    const quick = bashProject(path.join(cwd, 'quick'), {
      a: { title: 'extract', script: 'echo "extracted 3 rows"' },
      b: { title: HOSTILE, script: 'echo "<b>escaped?</b>"', incoming: ['a'] },
      c: { title: 'report', script: 'echo "report done"', incoming: ['a', 'b'] },
    }, { region: ['eu'] });
    writeFileSync(path.join(quick, 'main.parameters.json'), JSON.stringify({ pipeline_parameters: { region: [['eu'], ['us']] } }));
    const ran = await cli(cwd, 'run', quick, '--name', 'quick etl');
    expect(ran.code, ran.stderr).toBe(0);
    const slow = bashProject(path.join(cwd, 'slow'), {
      s: { title: 'wait', script: `echo "line one"\nwhile [ ! -f '${go}' ]; do sleep 0.05; done\necho "line two"` },
    });
    expect((await cli(cwd, 'create', slow, '--cron', '0 6 * * 1-5', '--tz', 'America/New_York', '--name', 'weekday wait')).code).toBe(0);
    server = start(cwd, ['serve', '--port', '0']);
    await until(() => /dashboard on (http:\S+)/.test(server.output().stdout), 'the dashboard to listen');
    base = /dashboard on (http:\/\/[^/\s]+)/.exec(server.output().stdout)![1]!;
    context = await chromium.launchPersistentContext(tempDir('pj-chromium-'), { executablePath: CHROMIUM, args: FLAGS, headless: true, viewport: { width: 1280, height: 900 } });
    context.on('page', (p) => p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    }));
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await server.exited;
    }
    if (cwd) remove(cwd);
  });

  it('shows jobs, a job and a run; a trigger from the page runs and its log streams in', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('table.list tbody tr').count()).toBe(2);
    const jobsText = await page.locator('main').innerText();
    expect(jobsText).toContain('quick etl');
    expect(jobsText).toContain('on weekdays at 06:00');
    expect(jobsText).toContain('America/New_York');
    expect(jobsText).toMatch(/\d{4}-\d\d-\d\d 06:00/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-jobs.png'), fullPage: true });

    // A finished run: the DAG with statuses, the hostile title shown as text, logs streamed.
    await page.click('text=quick etl');
    await page.waitForSelector('table.runs');
    expect(await page.locator('table.runs tbody tr').count()).toBe(2);
    await page.click('table.runs tbody tr:last-child a');
    await page.waitForSelector('body[data-logs="done"]');
    expect(await page.locator(`section.step h3:has-text("${HOSTILE}")`).count()).toBe(1);
    expect(await page.locator('section.step pre.log').first().innerText()).toContain('extracted 3 rows');
    expect(await page.locator('section.step pre.log').nth(1).innerText()).toContain('<b>escaped?</b>');
    expect(await page.locator('svg.dag .node.success').count()).toBe(3);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-run.png'), fullPage: true });

    // Trigger the cron job from its page; its run's log streams in while it runs.
    await page.goto(`${base}/`);
    await page.click('text=weekday wait');
    await page.click('button[data-action="trigger"]');
    await page.waitForSelector('table.runs tbody tr a');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-job.png'), fullPage: true });
    await page.click('table.runs tbody tr a');
    const log = page.locator('section.step pre.log');
    await expect.poll(() => log.innerText(), { timeout: 30_000 }).toContain('line one');
    expect(await log.innerText()).not.toContain('line two');
    expect(await page.locator('body[data-logs="done"]').count()).toBe(0);
    writeFileSync(go, '');
    await expect.poll(() => log.innerText(), { timeout: 30_000 }).toContain('line two');
    await expect.poll(() => page.locator('.title .badge').innerText(), { timeout: 30_000 }).toBe('SUCCESS');
    await expect.poll(() => page.locator('svg.dag .node.success').count(), { timeout: 30_000 }).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-run-live.png'), fullPage: true });
    expect(dialogs).toEqual([]);
  });
});
