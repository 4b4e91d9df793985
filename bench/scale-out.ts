/**
 * Scale-out on one PostgreSQL (issue 12): runs/s of one code-defined job of RUNS one-step
 * no-op runs with 1, 2 and 3 worker processes, each a separate Node process with its own
 * JobScheduler (concurrency 10) on the same schema, beside a cron job due every second that
 * all of them watch. After each trial the database and the workers' own tallies are checked:
 * every run ran exactly once (each step call counted by the process that made it), every
 * cron occurrence has exactly one batch, no run is left unfinished.
 * Timed from the `go` (the first worker confirms the job, whose batch it then writes) to
 * the last run finished in the database. Trials of 1, 2, 3 workers interleaved, TRIALS each.
 * Imports the built package (`npx tsup` first). Run `npm run bench -- scale-out`.
 * Env: BENCH_SCALE_RUNS (default 3000). Prints markdown, never asserts (a failed check is
 * printed in bold and makes the exit code 1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FunctionStepExecutor, JobScheduler, MemoryLogStore, RunExecutor, definePipeline, type FunctionStepContext } from 'pipeline-jobs';
import { PostgresStorage } from 'pipeline-jobs/postgres';

const PG_URL = process.env.PIPELINE_JOBS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3_000);
const CONCURRENCY = 10;
const TRIALS = 2;
const WORKERS = [1, 2, 3];

const pipeline = definePipeline({ name: 'bench-scale', parameters: { p0: 0, p1: 0, p2: 0, p3: 0, p4: 0 }, steps: [{ uuid: 'a' }] });
const spec = { pipeline_parameters: Object.fromEntries(['p0', 'p1', 'p2', 'p3', 'p4'].map((k) => [k, Array.from({ length: 10 }, (_, i) => i)])) };

// ---------------------------------------------------------------- a worker process

/**
 * argv: --worker <schema> <leader 0|1>. Prints `ready <jobId|->` once started; on `go` the
 * leader confirms the job; on `stop` it stops and prints `tally <json>`: how many times this
 * process ran each run id.
 */
async function worker(schema: string, leader: boolean): Promise<void> {
  const tally: Record<string, number> = {};
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pj-bench-scale-'));
  const storage = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 10 });
  const executor = new RunExecutor({
    stepExecutors: new FunctionStepExecutor({ functions: { a: ({ runId }: FunctionStepContext) => void (tally[runId] = (tally[runId] ?? 0) + 1) } }),
    logStore: new MemoryLogStore(),
    workRoot: path.join(tmp, 'runs'),
  });
  const scheduler = new JobScheduler({ storage, executor, concurrency: CONCURRENCY });
  scheduler.on('scheduler:error', ({ error, during }) => process.stderr.write(`[scale-out ${process.pid}] scheduler error during ${during}: ${String(error)}\n`));
  await scheduler.start();
  let jobId = '-';
  if (leader) {
    jobId = (await scheduler.createJob({ name: 'scale', pipeline, parameters: { from: 'spec', spec }, selection: { ranges: [[0, RUNS]] }, draft: true })).id;
    await scheduler.createJob({ name: 'tick', pipeline, schedule: { type: 'cron', cron: '* * * * * *' } });
  }
  process.stdout.write(`ready ${jobId}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'go' && leader) await scheduler.confirmJob(jobId);
    if (line === 'stop') break;
  }
  await scheduler.stop();
  rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`tally ${JSON.stringify(tally)}\n`, () => process.exit(0));
}

// ---------------------------------------------------------------- the bench

interface Child {
  proc: ChildProcess;
  lines: AsyncIterator<string>;
}

function startChild(schema: string, leader: boolean): Child {
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--worker', schema, leader ? '1' : '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  return { proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator]() };
}

async function expectLine(child: Child, prefix: string): Promise<string> {
  for (;;) {
    const next = await child.lines.next();
    if (next.done) throw new Error(`worker ${child.proc.pid} ended before "${prefix}"`);
    if (next.value.startsWith(`${prefix} `)) return next.value.slice(prefix.length + 1);
  }
}

interface Outcome {
  rate: number;
  problems: string[];
  perWorker: number[];
  occurrences: number;
}

async function trial(workers: number): Promise<Outcome> {
  const schema = `pj_scale_${randomBytes(4).toString('hex')}`;
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  const problems: string[] = [];
  const children: Child[] = [];
  try {
    // The leader first: it creates the schema and the jobs; the others join once it is ready.
    children.push(startChild(schema, true));
    const jobId = await expectLine(children[0]!, 'ready');
    for (let i = 1; i < workers; i++) children.push(startChild(schema, false));
    await Promise.all(children.slice(1).map((c) => expectLine(c, 'ready')));
    const t0 = performance.now();
    children[0]!.proc.stdin!.write('go\n');
    const ended = `SELECT count(*) AS n FROM "${schema}".runs WHERE job_id = $1 AND status IN ('SUCCESS', 'FAILURE', 'ABORTED')`;
    while (Number((await db.query(ended, [jobId])).rows[0].n) < RUNS) await new Promise((r) => setTimeout(r, 10));
    const ms = performance.now() - t0;
    for (const c of children) c.proc.stdin!.end('stop\n');
    const tallies = await Promise.all(children.map(async (c) => JSON.parse(await expectLine(c, 'tally')) as Record<string, number>));
    await Promise.all(children.map((c) => new Promise((r) => (c.proc.exitCode !== null ? r(null) : c.proc.once('exit', r)))));

    // Exactly once: each run of the job ran in one process, once, and ended SUCCESS.
    const { rows } = await db.query<{ id: string; status: string; attempts: number }>(`SELECT id, status, attempts FROM "${schema}".runs WHERE job_id = $1`, [jobId]);
    const seen = new Map<string, number>();
    for (const t of tallies) for (const [id, n] of Object.entries(t)) seen.set(id, (seen.get(id) ?? 0) + n);
    const bad = rows.filter((r) => r.status !== 'SUCCESS' || Number(r.attempts) !== 1 || seen.get(r.id) !== 1);
    if (rows.length !== RUNS) problems.push(`${rows.length} runs stored, ${RUNS} expected`);
    if (bad.length > 0) problems.push(`${bad.length} runs not exactly once (e.g. ${JSON.stringify(bad[0])}, ran ${seen.get(bad[0]!.id) ?? 0} times)`);
    // The cron job: one batch per occurrence, and each of its runs ran once.
    const dup = await db.query(`SELECT b.occurrence_at, count(*) AS n FROM "${schema}".batches b JOIN "${schema}".jobs j ON j.id = b.job_id WHERE j.name = 'tick' GROUP BY 1 HAVING count(*) > 1`);
    if (dup.rows.length > 0) problems.push(`${dup.rows.length} cron occurrences with more than one batch`);
    const tick = await db.query<{ id: string; status: string }>(`SELECT r.id, r.status FROM "${schema}".runs r JOIN "${schema}".jobs j ON j.id = r.job_id WHERE j.name = 'tick'`);
    const tickTwice = tick.rows.filter((r) => (seen.get(r.id) ?? 0) > 1);
    if (tickTwice.length > 0) problems.push(`${tickTwice.length} cron runs ran more than once`);
    const perWorker = tallies.map((t) => Object.keys(t).filter((id) => rows.some((r) => r.id === id)).length);
    return { rate: (RUNS / ms) * 1000, problems, perWorker, occurrences: tick.rows.length };
  } finally {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const before = load();
  process.stderr.write('[scale-out] warm-up (1 worker)\n');
  await trial(1);
  const results = new Map<number, Outcome[]>(WORKERS.map((k) => [k, []]));
  for (let i = 0; i < TRIALS; i++) {
    for (const k of WORKERS) {
      process.stderr.write(`[scale-out] round ${i + 1}, ${k} worker(s)\n`);
      results.get(k)!.push(await trial(k));
    }
  }
  const base = median(results.get(1)!.map((o) => o.rate));
  const lines = [
    '### Scale-out: worker processes on one PostgreSQL',
    '',
    `${fmt(RUNS)} one-step no-op runs of one code-defined job (default at-most-once), each worker a Node process with a JobScheduler (concurrency ${CONCURRENCY}, pool 10) on the same schema, plus a cron job due every second; median of ${TRIALS} (range), interleaved. ` +
      `${os.cpus().length} CPUs shared by the workers and PostgreSQL. Load average (1/5/15 min) before ${before}, after ${load()}.`,
    '',
    '| workers | runs/s | range | / 1 worker | runs per worker (last trial) | cron runs seen (last trial) | exactly once |',
    '|---|---|---|---|---|---|---|',
  ];
  let failed = false;
  for (const k of WORKERS) {
    const os_ = results.get(k)!;
    const rates = os_.map((o) => o.rate);
    const problems = os_.flatMap((o) => o.problems);
    failed ||= problems.length > 0;
    const last = os_[os_.length - 1]!;
    lines.push(`| ${k} | **${fmt(median(rates))}** | ${fmt(Math.min(...rates))} - ${fmt(Math.max(...rates))} | ${fmt(median(rates) / base, 2)}x | ${last.perWorker.map((n) => fmt(n)).join(' / ')} | ${last.occurrences} | ${problems.length === 0 ? 'yes' : `**no: ${problems.join('; ')}**`} |`);
  }
  console.log(lines.join('\n'));
  if (failed) process.exitCode = 1;
}

const args = process.argv.slice(2);
if (args[0] === '--worker') await worker(args[1]!, args[2] === '1');
else await main();
