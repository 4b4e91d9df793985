import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bashProject, cli, etl, json, remove, requireBuild, start, tempDir, until } from './helpers.js';

interface RunJson {
  id: string;
  status: string;
  runIndex: number;
  parameters: { pipeline: Record<string, unknown>; steps: Record<string, Record<string, unknown>> };
}

/** The built `pipeline-jobs` binary, run as a real process on the embedded defaults. */
describe('pipeline-jobs CLI', () => {
  let cwd: string;
  beforeAll(() => {
    requireBuild();
    cwd = tempDir();
  });
  afterAll(() => remove(cwd));

  it('runs the etl example in the foreground with progress lines, then lists, shows and reads it', async () => {
    const r = await cli(cwd, 'run', etl);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Job etl');
    expect(r.stdout).toMatch(/run 3 SUCCESS/);
    expect(r.stdout).toContain('4 succeeded, 0 failed');
    expect(existsSync(path.join(cwd, '.pipeline-jobs', 'jobs.sqlite'))).toBe(true);

    const jobs = json<{ id: string; name: string; status: string }[]>(await cli(cwd, 'jobs', '--json'));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ name: 'etl', status: 'SUCCESS' });
    const prefix = jobs[0]!.id.slice(0, 6);

    const runs = json<RunJson[]>(await cli(cwd, 'runs', prefix, '--json'));
    expect(runs.map((x) => x.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    const table = await cli(cwd, 'runs', 'etl');
    expect(table.stdout).toMatch(/clean\.drop_nulls=false/);

    const log = await cli(cwd, 'logs', runs[2]!.id.slice(0, 8), 'report');
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/^report \(text\): sales-us rows=\d+ total=\d+\n$/);
    const all = await cli(cwd, 'logs', runs[0]!.id);
    expect(all.stdout.indexOf('==> extract')).toBeLessThan(all.stdout.indexOf('==> report'));

    const job = await cli(cwd, 'job', 'etl');
    expect(job.stdout).toContain('schedule   once, now');
    const snaps = json<{ id: string; jobs: string[] }[]>(await cli(cwd, 'snapshots', '--json'));
    expect(snaps[0]!.jobs).toEqual([jobs[0]!.id]);
  });

  it('sets and sweeps parameters, selects grid indices, and prints JSON', async () => {
    const r = await cli(cwd, 'run', etl, 'etl.orchest', '--name', 'swept', '--param', 'source=["a","b"]', '--param', 'clean.drop_nulls=false', '--select', '1', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { job: { status: string }; runs: { gridIndex: number; status: string }[] };
    expect(out.job.status).toBe('SUCCESS');
    expect(out.runs).toEqual([expect.objectContaining({ gridIndex: 1, status: 'SUCCESS' })]);
    const runs = json<RunJson[]>(await cli(cwd, 'runs', 'swept', '--json'));
    expect(runs[0]!.parameters.pipeline.source).toBe('b');
    expect(runs[0]!.parameters.steps['3f0c2b8a-0002-4c1e-9d2a-6b0f1e2d3c4a']!.drop_nulls).toBe(false);
  });

  it('exits 1 when a run fails and shows the failing step\'s last log lines', async () => {
    const dir = bashProject(path.join(cwd, 'failing'), { a: { title: 'explode', script: 'echo "about to fail: xyz-123"\nexit 3' } });
    const r = await cli(cwd, 'run', dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('step explode FAILURE');
    expect(r.stdout).toContain('| about to fail: xyz-123');
    expect(r.stdout).toContain('0 succeeded, 1 failed');
  });

  it('gives usage and exits 2 on bad arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['run'], /missing required argument 'project'[\s\S]*Usage: pipeline-jobs run/],
      [['nonsense'], /unknown command/],
      [['run', etl, '--bogus'], /unknown option '--bogus'/],
      [['run', path.join(cwd, 'no-such-dir')], /does not exist/],
      [['run', etl, '--param', 'noequals'], /expected key=value/],
      [['run', etl, '--select', '3-1'], /ends before it starts/],
      [['run', etl, '--param', 'nostep.x=1', '--param', 'undeclared=1'], /./],
      [['runs', 'no-such-job'], /No job "no-such-job"/],
      [['logs', 'zzzz'], /No run "zzzz"/],
      [['create', etl, '--cron', '0 3 * * *', '--overlap', 'sometimes'], /Allowed choices are allow, skip, queue, cancel-previous/],
      [['create', etl, '--cron', 'not a cron'], /SCHEDULE_/],
      [['create', etl, '--tz', 'Europe/Berlin'], /--tz, --missed and --overlap go with --cron/],
      [['job', 'etl', '--next', '-1'], /--next must be a positive integer/],
      [['pause', 'etl'], /JOB_ACTION_NOT_ALLOWED/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(cwd, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    // Nothing was created by the refused commands.
    expect(json<unknown[]>(await cli(cwd, 'jobs', '--json'))).toHaveLength(3);
  });

  it('create --key: running the same create again returns the job it made; another spec under the key is refused', async () => {
    const args = ['create', etl, '--cron', '0 4 * * *', '--name', 'keyed', '--select', '0', '--key', 'setup-1', '--json'];
    const first = json<{ job: { id: string; key: string } }>(await cli(cwd, ...args));
    const again = json<{ job: { id: string } }>(await cli(cwd, ...args));
    expect(first.job.key).toBe('setup-1');
    expect(again.job.id).toBe(first.job.id);
    const other = await cli(cwd, 'create', etl, '--cron', '0 5 * * *', '--name', 'keyed', '--select', '0', '--key', 'setup-1');
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('JOB_KEY_CONFLICT');
    expect(json<{ id: string }[]>(await cli(cwd, 'jobs', '--json')).filter((j) => j.id === first.job.id)).toHaveLength(1);
    expect((await cli(cwd, 'cancel', first.job.id)).code).toBe(0);
    expect((await cli(cwd, 'delete', first.job.id)).code).toBe(0);
  });

  it('creates a cron job, shows its next occurrences, pauses, resumes, and a worker runs a trigger', async () => {
    const created = await cli(cwd, 'create', etl, '--cron', '0 3 * * *', '--tz', 'Europe/Berlin', '--missed', 'skip', '--overlap', 'queue', '--name', 'nightly', '--select', '0');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('created (STARTED)');
    const shown = await cli(cwd, 'job', 'nightly');
    expect(shown.stdout).toContain('every day at 03:00 (Europe/Berlin)');
    expect(shown.stdout).toContain('missed: skip, overlap: queue');
    expect(shown.stdout).toMatch(/Next occurrences:\n {2}\d{4}-\d\d-\d\d 02:00:00Z {2}\(\d{4}-\d\d-\d\d 03:00 Europe\/Berlin\)/);
    expect(json<{ nextOccurrences: number[] }>(await cli(cwd, 'job', 'nightly', '--json', '--next', '3')).nextOccurrences).toHaveLength(3);
    expect((await cli(cwd, 'pause', 'nightly')).stdout).toContain('paused');
    expect(json<{ job: { status: string } }>(await cli(cwd, 'job', 'nightly', '--json')).job.status).toBe('PAUSED');
    expect((await cli(cwd, 'resume', 'nightly')).code).toBe(0);
    expect((await cli(cwd, 'trigger', 'nightly')).stdout).toContain('batch 0 with 1 run(s) queued');

    const worker = start(cwd, ['worker']);
    try {
      await until(() => /run \w+ SUCCESS/.test(worker.output().stdout), 'the worker to run the triggered batch');
      worker.kill('SIGTERM');
      const end = await worker.exited;
      expect(end.code).toBe(0);
      expect(end.stdout).toContain('SIGTERM: stopping');
      expect(end.stdout).toContain('stopped');
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
    const job = json<{ job: { status: string; counters: { SUCCESS: number } }; batches: { batchIndex: number; trigger: string }[] }>(await cli(cwd, 'job', 'nightly', '--json'));
    expect(job.job).toMatchObject({ status: 'STARTED', counters: expect.objectContaining({ SUCCESS: 1 }) });
    expect(job.batches).toEqual([expect.objectContaining({ batchIndex: 0, trigger: 'manual' })]);
    expect((await cli(cwd, 'cancel', 'nightly')).code).toBe(0);
    expect((await cli(cwd, 'delete', 'nightly')).code).toBe(0);
    expect((await cli(cwd, 'runs', 'nightly')).code).toBe(2);
  });

  it('follows a running step\'s log with logs -f, and ends when the run ends', async () => {
    const go = path.join(cwd, 'go-signal');
    const dir = bashProject(path.join(cwd, 'slow'), {
      s: { title: 'slow', script: `echo "line one"\nwhile [ ! -f '${go}' ]; do sleep 0.05; done\necho "line two"` },
    });
    const running = start(cwd, ['run', dir, '--name', 'slowjob']);
    try {
      let runId = '';
      await until(async () => {
        const r = await cli(cwd, 'runs', 'slowjob', '--json');
        const runs = r.code === 0 ? (JSON.parse(r.stdout) as RunJson[]) : [];
        runId = runs[0]?.status === 'STARTED' ? runs[0].id : '';
        return runId !== '';
      }, 'the slow run to start');
      const follower = start(cwd, ['logs', runId.slice(0, 8), 'slow', '-f']);
      await until(() => follower.output().stdout.includes('line one'), 'the first line');
      expect(follower.output().stdout).not.toContain('line two');
      writeFileSync(go, '');
      const followed = await follower.exited;
      expect(followed.code).toBe(0);
      expect(followed.stdout).toBe('line one\nline two\n');
      expect((await running.exited).code).toBe(0);
    } finally {
      if (running.exitCode === null) running.kill('SIGKILL');
    }
  });

  it('cancels the job on Ctrl-C during run: its runs end ABORTED, exit 130', async () => {
    const dir = bashProject(path.join(cwd, 'forever'), { w: { title: 'wait', script: 'echo waiting\nwhile true; do sleep 0.05; done' } });
    const running = start(cwd, ['run', dir, '--name', 'interrupted']);
    try {
      await until(() => running.output().stdout.includes('step wait started'), 'the step to start');
      running.kill('SIGINT');
      const end = await running.exited;
      expect(end.code).toBe(130);
      expect(end.stderr).toContain('Cancelling the job');
    } finally {
      if (running.exitCode === null) running.kill('SIGKILL');
    }
    const runs = json<RunJson[]>(await cli(cwd, 'runs', 'interrupted', '--json'));
    expect(runs.map((r) => r.status)).toEqual(['ABORTED']);
    expect(json<{ job: { status: string } }>(await cli(cwd, 'job', 'interrupted', '--json')).job.status).toBe('ABORTED');
  });
});
