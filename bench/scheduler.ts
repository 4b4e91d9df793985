/**
 * JobScheduler figures (issue 5), each beside its baseline measured in the same run:
 * 1. Dispatch: 100,000 runs of one job (grid of 100,000 combinations, one no-op function
 *    step, MemoryStorage, a SnapshotStore working copy per run), trigger to job end, beside
 *    raw p-queue on as many no-op tasks at the same concurrency; then where the time goes
 *    (RunExecutor alone vs scheduler, a CPU profile, a grid of one 100,000-value parameter).
 * 2. Scale: 10,000 cron jobs: creation time, heap and RSS after GC, CPU while idle.
 * 3. Precision on the real clock: 1 job, then 1,000 jobs, due at the same second; lateness
 *    of the first and last run start.
 * 4. Code-defined jobs (issue 10): one-step runs of a job defined in code (no projectDir: no
 *    snapshot, no working copy) on MemoryStorage, beside raw p-queue in the same run.
 * 5. Grid shapes (issue 12): the same runs of a 100,000-combination grid defined as 1 x
 *    100,000 values or as 5 x 10 values, with and without a project directory, on
 *    MemoryStorage and SqliteStorage (and PostgreSQL, code-defined only, at
 *    PIPELINE_JOBS_BENCH_PG or the local test database), at two sizes: the cost per run
 *    (the slope) should match (no per-run cost that grows with the grid's definition); the
 *    cost per batch is reported beside it.
 * Imports the built package as users do (`npx tsup` first). Run `npm run bench -- scheduler`
 * or `node --expose-gc --import tsx bench/scheduler.ts`. Env: BENCH_DISPATCH_RUNS (default
 * 100000); BENCH_CODE_RUNS (default 20000); BENCH_SHAPE_RUNS (default 2000, per cell); BENCH_ONLY=dispatch,scale,precision,code,shapes; BENCH_PROFILE_OUT=<file.cpuprofile> keeps
 * the dispatch profile. Prints markdown, never asserts; files under os.tmpdir(), removed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import pg from 'pg';
import { PostgresStorage } from 'pipeline-jobs/postgres';
import { SqliteStorage } from 'pipeline-jobs/sqlite';
import { FunctionStepExecutor, JobScheduler, MemoryLogStore, MemoryStorage, ParameterGrid, RunExecutor, SnapshotStore, definePipeline, type Job, type JobSpec, type StepFunction } from 'pipeline-jobs';

const DISPATCH_RUNS = Number(process.env.BENCH_DISPATCH_RUNS ?? 100_000);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'dispatch,scale,precision,code,shapes').split(','));
const SHAPE_CELL_RUNS = Number(process.env.BENCH_SHAPE_RUNS ?? 2_000);
/** The smaller size of each grid-shape cell: the slope between the two is the cost per run. */
const SHAPE_SMALL_RUNS = Math.max(1, Math.round(SHAPE_CELL_RUNS / 10));
const CODE_RUNS = Number(process.env.BENCH_CODE_RUNS ?? 20_000);
const CONCURRENCY = 10; // scheduler and p-queue alike (BENCHMARKING.md's p-queue figure uses 10)
const IN_FLIGHT = 4; // createJob calls at once
// Dispatch: p-queue repetitions; RunExecutor alone vs scheduler (interleaved pairs); profile; grid shapes.
const [PQUEUE_REPS, PAIR_RUNS, PAIR_REPS, PROFILE_RUNS, SHAPE_RUNS] = [3, 1_000, 3, 3_000, 100];
const [SCALE_JOBS, IDLE_MS, IDLE_BASELINE_MS] = [10_000, 20_000, 5_000];
// Precision: 1,000 jobs every 10 s for 3 occurrences; 1 job every second for 5.
const [PRECISION_JOBS, PERIOD_S, PRECISION_REPS, SINGLE_REPS] = [1_000, 10, 3, 5];

const gc = (globalThis as { gc?: () => void }).gc;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pj-bench-scheduler-'));
const distDir = path.dirname(fileURLToPath(import.meta.resolve('pipeline-jobs')));
const hrNow = (): number => performance.timeOrigin + performance.now();
const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const progress = (msg: string): void => void process.stderr.write(`[scheduler bench] ${msg}\n`);
const median = (xs: readonly number[]): number => {
  const [s, m] = [[...xs].sort((a, b) => a - b), xs.length >> 1];
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (xs: readonly number[], digits = 0): string => (xs.length > 1 ? `${fmt(Math.min(...xs), digits)} to ${fmt(Math.max(...xs), digits)}` : 'one run');
const mb = (bytes: number): string => `${fmt(bytes / 1024 / 1024, 1)} MB`;
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const table = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
/** Runs `work(i)` for i in [0, n) with `k` at once. */
const inFlight = async (n: number, k: number, work: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(k, n) }, async () => {
    for (let i = next++; i < n; i = next++) await work(i);
  }));
};

// One tiny project: one .orchest file (pipeline parameters x, p0..p4) and one step file.
const project = path.join(tmp, 'project');
mkdirSync(project);
const step = { uuid: 'a', title: 'a', file_path: 'a.py', incoming_connections: [], environment: '', parameters: {} };
writeFileSync(path.join(project, 'main.orchest'), JSON.stringify({ name: 'main', uuid: 'bench-pipeline', version: '1.0.0', parameters: { x: 0, p0: 0, p1: 0, p2: 0, p3: 0, p4: 0 }, settings: {}, steps: { a: step } }, null, 2));
writeFileSync(path.join(project, 'a.py'), '# run in-process by the benchmark\n');
const base = { projectDir: project, pipeline: 'main.orchest' };
/** 10^5 combinations from a definition of 50 values. */
const squareSpec = { pipeline_parameters: Object.fromEntries(['p0', 'p1', 'p2', 'p3', 'p4'].map((k) => [k, Array.from({ length: 10 }, (_, i) => i)])) };
/** 10^5 combinations from one parameter with 100,000 values. */
const wideSpec = { pipeline_parameters: { x: Array.from({ length: 100_000 }, (_, i) => i) } };
const noop: StepFunction = () => undefined;

let setups = 0;
/** A started scheduler of its own (storage, snapshot store, work root). Lease, heartbeat, poll and timer options stay at their defaults. */
async function makeScheduler(fn: StepFunction = noop): Promise<{ scheduler: JobScheduler; snapshots: SnapshotStore; root: string }> {
  const root = path.join(tmp, `s${setups++}`);
  const snapshots = new SnapshotStore({ root: path.join(root, 'snapshots') });
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: fn } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs') });
  const scheduler = new JobScheduler({ storage: new MemoryStorage(), snapshots, executor, concurrency: CONCURRENCY });
  scheduler.on('scheduler:error', ({ error, during }) => progress(`scheduler error during ${during}: ${String(error)}`));
  await scheduler.start();
  return { scheduler, snapshots, root };
}

// 1. Dispatch
interface Dispatched { runs: number; ms: number; cpuMs: number; ok: boolean; status: string; tenths: number[]; job: Job }
/** Creates the job as a draft (its snapshot is taken), then times confirm -> job finished. */
async function dispatch(scheduler: JobScheduler, spec: JobSpec['parameters'], runs: number): Promise<Dispatched> {
  const job = await scheduler.createJob({ ...base, name: 'dispatch', parameters: spec, selection: { ranges: [[0, runs]] }, draft: true });
  const marks: number[] = [];
  const tenth = Math.max(1, Math.floor(runs / 10));
  let finished = 0;
  const off = scheduler.on('run:finished', () => void (++finished % tenth === 0 && marks.push(performance.now())));
  const [cpu0, t0, ended] = [process.cpuUsage(), performance.now(), scheduler.waitForJob(job.id)];
  await scheduler.confirmJob(job.id);
  const done = await ended;
  const [ms, cpu] = [performance.now() - t0, process.cpuUsage(cpu0)];
  off();
  const tenths = marks.slice(0, 10).map((m, i) => tenth / ((m - (i === 0 ? t0 : marks[i - 1]!)) / 1000));
  return { runs, ms, cpuMs: (cpu.user + cpu.system) / 1000, ok: done.counters.SUCCESS === runs, status: `${done.status} ${JSON.stringify(done.counters)}`, tenths, job: done };
}

/** Raw p-queue: `n` no-op tasks; the producer keeps at most `maxQueued` waiting. Resolves tasks/s. */
async function pqueue(n: number, maxQueued: number): Promise<number> {
  const [q, t0] = [new PQueue({ concurrency: CONCURRENCY }), performance.now()];
  for (let i = 0; i < n; i++) {
    if (q.size >= maxQueued) await q.onSizeLessThan(maxQueued);
    void q.add(async () => undefined);
  }
  await q.onIdle();
  return n / ((performance.now() - t0) / 1000);
}

/** RunExecutor alone: the same runs from the same snapshot through p-queue at the same concurrency. Resolves runs/s. */
async function executorAlone(job: Job, snapshots: SnapshotStore, root: string, runs: number): Promise<number> {
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: noop } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'alone') });
  const grid = new ParameterGrid(job.pipeline, squareSpec);
  const [q, t0] = [new PQueue({ concurrency: CONCURRENCY }), performance.now()];
  for (let i = 0; i < runs; i++) {
    void q.add(async () => {
      const r = await executor.execute({ runId: `alone-${setups}-${i}`, projectId: 'bench', pipeline: job.pipeline, parameters: grid.at(i), source: { snapshots, snapshotId: job.snapshotId! } });
      if (r.status !== 'SUCCESS') progress(`RunExecutor alone: a run ended ${r.status}`);
    });
  }
  await q.onIdle();
  return runs / ((performance.now() - t0) / 1000);
}

interface CpuProfile { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[] }
type Frame = CpuProfile['nodes'][number]['callFrame'];

/** A sample goes to the nearest frame (leaf first) one of these claims: library frames by name in the built package, Node's
 * file-system frames by module (an async caller is lost after an await; the working copy is the only file I/O here). */
const BUCKETS: readonly { label: string; ours?: readonly (string | RegExp)[]; node?: (f: Frame) => boolean }[] = [
  { label: 'MemoryStorage.getJob (hands out the frozen record)', ours: ['getJob'] },
  { label: 'MemoryStorage, other calls (claim, finish, step states, batch)', ours: ['claimRuns', 'finishRun', 'getBatch', 'insertRuns', 'createBatch', 'putStepStates', 'updateJob', 'recoverExpiredRuns', 'listIncompleteBatches'] },
  { label: 'working copy, make: SnapshotStore.materialize (synchronous mkdir, copyFile, chmod on the main thread)', ours: ['materialize', 'materializeSnapshot', 'prepareTarget', '#runInline'] },
  { label: 'working copy, make: stat for a leftover, mkdir, writeFile "wx" (EEXIST) then temp file + rename of the pipeline file', ours: ['materializeWorkspace', /^exists\d*$/], node: (f) => f.url === 'node:internal/fs/promises' && f.functionName !== 'rm' },
  { label: 'working copy, delete: fs.rm recursive', ours: ['removeWorkingCopy'], node: (f) => f.url === 'node:internal/fs/rimraf' || (f.url === 'node:internal/fs/promises' && f.functionName === 'rm') },
  { label: 'RunExecutor request check (snapshots.get reads the manifest header from disk each run)', ours: ['validateRequest', 'validateSource', 'readRecord'] },
  { label: 'the step itself: DAG runner, FunctionStepExecutor, step logs', ours: ['runDag', 'runStep', 'runAttempt', 'attempts', 'emitFinished'] },
  { label: 'writing the batch (grid.at per run)', ours: ['writeRuns'] },
];
const SPECIAL = new Map([['(idle)', 'idle: main thread waiting (file I/O in libuv threads, other processes)'], ['(garbage collector)', 'garbage collection'], ['(program)', 'V8 and Node internals ((program))']]);

function summarizeProfile(profile: CpuProfile, runs: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const bucket = (id: number | undefined): string => {
    if (id === undefined) return 'other: scheduler and executor glue (promises, events, p-queue, timers)';
    if (memo.has(id)) return memo.get(id)!;
    const f = byId.get(id)!.callFrame;
    const mine = f.url.startsWith('file://') && fileURLToPath(f.url).startsWith(distDir);
    const claims = (b: (typeof BUCKETS)[number]): boolean =>
      mine ? (b.ours ?? []).some((n) => (typeof n === 'string' ? n === f.functionName : n.test(f.functionName))) : (b.node?.(f) ?? false);
    const label = SPECIAL.get(f.functionName) ?? BUCKETS.find(claims)?.label ?? bucket(parent.get(id));
    memo.set(id, label);
    return label;
  };
  const perBucket = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    total += profile.timeDeltas[i] ?? 0;
    perBucket.set(bucket(id), (perBucket.get(bucket(id)) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const rows = [...perBucket].sort((a, b) => b[1] - a[1]).map(([label, t]) => [label, `${fmt((t / total) * 100, 1)}%`, fmt(t / 1000 / runs, 3)]);
  return [
    `Where the time goes: main-thread CPU profile (node:inspector, 1 ms sampling) of a ${fmt(runs)}-run dispatch of the same kind, ${fmt(total / 1000 / runs, 3)} ms sampled per run; each sample charged to its nearest frame below (leaf first). Wall-clock samples: time the thread was descheduled on this loaded machine lands on whatever it was running.`,
    '',
    table(['where', 'share', 'ms per run'], rows),
  ].join('\n');
}

async function profiled<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 1_000 });
    await session.post('Profiler.start');
    const result = await work();
    return { result, profile: (await session.post('Profiler.stop')).profile as unknown as CpuProfile };
  } finally {
    session.disconnect();
  }
}

async function dispatchPart(): Promise<string> {
  const loadBefore = load();
  progress(`p-queue: ${PQUEUE_REPS} x 2 x ${fmt(DISPATCH_RUNS)} no-op tasks`);
  await pqueue(DISPATCH_RUNS, Infinity); // warm-up
  const [upFront, fed]: [number[], number[]] = [[], []];
  for (let i = 0; i < PQUEUE_REPS; i++) {
    upFront.push(await pqueue(DISPATCH_RUNS, Infinity));
    fed.push(await pqueue(DISPATCH_RUNS, 1_000));
  }
  progress(`RunExecutor alone vs scheduler, interleaved: ${PAIR_REPS} x 2 x ${fmt(PAIR_RUNS)} runs (the first pair also warms up)`);
  const [alone, withScheduler]: [number[], number[]] = [[], []];
  for (let i = 0; i <= PAIR_REPS; i++) {
    const s = await makeScheduler();
    const d = await dispatch(s.scheduler, { from: 'spec', spec: squareSpec }, PAIR_RUNS);
    const a = await executorAlone(d.job, s.snapshots, s.root, PAIR_RUNS);
    await s.scheduler.stop();
    if (i > 0) withScheduler.push(d.runs / (d.ms / 1000)), alone.push(a);
  }
  progress(`scheduler: ${fmt(DISPATCH_RUNS)} runs (one job, grid 10^5 from a 5 x 10-value spec)`);
  const main = await makeScheduler();
  const full = await dispatch(main.scheduler, { from: 'spec', spec: squareSpec }, DISPATCH_RUNS);
  await main.scheduler.stop();
  if (!full.ok) progress(`dispatch did not end as expected: ${full.status}`);
  gc?.();
  progress(`grid shapes: ${SHAPE_RUNS} runs each`);
  const shapes = await makeScheduler();
  const square = await dispatch(shapes.scheduler, { from: 'spec', spec: squareSpec }, SHAPE_RUNS);
  const wide = await dispatch(shapes.scheduler, { from: 'spec', spec: wideSpec }, SHAPE_RUNS);
  await shapes.scheduler.stop();
  gc?.();
  progress(`profile: ${fmt(PROFILE_RUNS)} runs`);
  const prof = await makeScheduler();
  const { result: profRun, profile } = await profiled(() => dispatch(prof.scheduler, { from: 'spec', spec: squareSpec }, PROFILE_RUNS));
  await prof.scheduler.stop();
  if (process.env.BENCH_PROFILE_OUT) writeFileSync(process.env.BENCH_PROFILE_OUT, JSON.stringify(profile));
  gc?.();
  const rate = full.runs / (full.ms / 1000);
  const vs = (xs: number[]): string => fmt(rate / median(xs), 4);
  const goal = (xs: number[]): string => (rate >= median(xs) / 4 ? 'met' : `missed (${fmt(median(xs) / rate)}x slower)`);
  const shapeRow = (label: string, r: Dispatched): string[] => [label, `${fmt(r.runs)}${r.ok ? '' : ' (not all succeeded)'}`, fmt(r.runs / (r.ms / 1000)), fmt(r.ms / r.runs, 2), `${fmt((r.ms / r.runs) * 100)} s`];
  return [
    '### 1. Dispatch',
    '',
    `${fmt(full.runs)} one-step runs (no-op function step) of one job: MemoryStorage, a SnapshotStore working copy per run, concurrency ${CONCURRENCY} everywhere. The scheduler's run is one repetition (the long part); p-queue: median of ${PQUEUE_REPS}. ` +
      `${os.cpus().length} CPUs shared with other work; load average (1/5/15 min) before ${loadBefore}, after ${load()}.`,
    '',
    table(['what', 'runs/s (median)', 'range', 'scheduler / this', 'goal: scheduler >= 1/4 of this'], [
      [`**JobScheduler**: confirm -> job finished (${fmt(full.ms / 1000, 1)} s, process CPU ${fmt(full.cpuMs / full.ms, 2)} cores)${full.ok ? '' : ` **not all succeeded: ${full.status}**`}`, `**${fmt(rate)}**`, 'one run', '1', ''],
      ['raw p-queue, no-op tasks, all queued up front', fmt(median(upFront)), range(upFront), vs(upFront), goal(upFront)],
      ['raw p-queue, no-op tasks, producer keeps <= 1,000 queued', fmt(median(fed)), range(fed), vs(fed), goal(fed)],
    ]),
    '',
    `Runs/s over each tenth of the ${fmt(full.runs)} runs, in order: ${full.tenths.map((r) => fmt(r)).join(', ')}.`,
    '',
    `Scheduler overhead over the executor, ${PAIR_REPS} interleaved pairs of ${fmt(PAIR_RUNS)} runs (fresh scheduler and work root each):`,
    '',
    table(['what', 'runs/s (median)', 'range', 'ms per run'], [
      ['RunExecutor.execute alone through p-queue (same snapshot, same grid)', fmt(median(alone)), range(alone), fmt(1000 / median(alone), 3)],
      ['JobScheduler, confirm -> job finished', fmt(median(withScheduler)), range(withScheduler), fmt(1000 / median(withScheduler), 3)],
    ]),
    '',
    'The grid shape should not matter per run: MemoryStorage hands out its frozen records without a copy (what is left here is per job: the grid is parsed and the batch written once). Part 5 measures more runs per shape, on SQLite too.',
    '',
    table(['job grid (100,000 combinations either way)', 'runs timed', 'runs/s', 'ms per run', 'extrapolated to 100,000 runs'], [
      shapeRow('5 parameters x 10 values (50 values stored)', square),
      shapeRow('1 parameter x 100,000 values (100,000 values stored)', wide),
    ]),
    '',
    summarizeProfile(profile, profRun.runs),
  ].join('\n');
}

// 2. Scale
async function idleCpu(ms: number): Promise<{ msPerS: number; wallMs: number }> {
  const [c0, t0] = [process.cpuUsage(), performance.now()];
  await sleepMs(ms);
  const [c, wallMs] = [process.cpuUsage(c0), performance.now() - t0];
  return { msPerS: (c.user + c.system) / 1000 / (wallMs / 1000), wallMs };
}

async function scalePart(): Promise<string> {
  const loadBefore = load();
  const { scheduler } = await makeScheduler();
  const seen = { fired: 0, runs: 0 };
  scheduler.on('occurrence:fired', () => void seen.fired++);
  scheduler.on('run:started', () => void seen.runs++);
  const warm = await scheduler.createJob({ ...base, name: 'warm-up', schedule: { type: 'cron', cron: '0 0 1 1 *' } });
  await scheduler.deleteJob((await scheduler.cancelJob(warm.id)).id);
  gc?.();
  await sleepMs(500);
  progress(`scale: idle baseline (no jobs), ${IDLE_BASELINE_MS / 1000} s`);
  const idle0 = await idleCpu(IDLE_BASELINE_MS);
  gc?.();
  const m0 = process.memoryUsage();
  // Daily crons at minutes spread over the day, none due in the next 30 minutes.
  const minute = Math.floor(Date.now() / 60_000) % 1440;
  progress(`scale: creating ${fmt(SCALE_JOBS)} cron jobs (${IN_FLIGHT} in flight)`);
  const t0 = performance.now();
  await inFlight(SCALE_JOBS, IN_FLIGHT, async (i) => {
    const m = (minute + 30 + ((i * 7919) % 1380)) % 1440;
    await scheduler.createJob({ ...base, name: `cron ${i}`, schedule: { type: 'cron', cron: `${m % 60} ${Math.floor(m / 60)} * * *` } });
  });
  const createMs = performance.now() - t0;
  gc?.();
  await sleepMs(1_000); // let what creation left behind (timers, I/O callbacks) settle
  gc?.();
  const m1 = process.memoryUsage();
  progress(`scale: idle with ${fmt(SCALE_JOBS)} jobs, ${IDLE_MS / 1000} s`);
  const idle = await idleCpu(IDLE_MS);
  const count = (await scheduler.listJobs({ limit: SCALE_JOBS + 1 })).items.length;
  await scheduler.stop();
  const grew = (a: number, b: number): string => `${mb(b)} (+${mb(b - a)}, ${fmt((b - a) / SCALE_JOBS)} B per job)`;
  return [
    '### 2. Scale',
    '',
    `${fmt(count)} daily cron jobs (\`M H * * *\`, minutes spread over the day, none due in the next 30 min) on MemoryStorage, each created with its own snapshot of the same small project (${IN_FLIGHT} createJob calls in flight). ` +
      `Memory after a forced GC${gc ? '' : ' (**no --expose-gc: includes garbage**)'}. Idle CPU: process.cpuUsage (user + system, all threads) over real time. Load average before ${loadBefore}, after ${load()}.`,
    '',
    table(['what', `${fmt(count)} jobs`, 'baseline: same scheduler, no jobs', 'goal'], [
      ['create the jobs (a snapshot each)', `${fmt(createMs / 1000, 1)} s (${fmt(createMs / SCALE_JOBS, 2)} ms per job, ${fmt(SCALE_JOBS / (createMs / 1000))} jobs/s)`, '', ''],
      ['heap used after GC', grew(m0.heapUsed, m1.heapUsed), mb(m0.heapUsed), ''],
      ['RSS after GC', grew(m0.rss, m1.rss), mb(m0.rss), ''],
      [`CPU while idle (${fmt(idle.wallMs / 1000, 1)} s; baseline ${fmt(idle0.wallMs / 1000, 1)} s)`, `${fmt(idle.msPerS, 2)} ms/s (${fmt(idle.msPerS / 10, 2)}% of a core)`, `${fmt(idle0.msPerS, 2)} ms/s`, `near zero (< 10 ms/s): ${idle.msPerS < 10 ? 'met' : 'missed'}`],
      ['occurrences fired / runs started in this part', `${seen.fired} / ${seen.runs}`, '', '0 / 0 expected'],
    ]),
  ].join('\n');
}

// 3. Precision
/** Per occurrence: [first, last] ms after it, of the batches fired, the runs started, the step functions started. */
interface Lateness { at: number; runs: number; fired: [number, number]; start: [number, number]; step: [number, number] }

/** `jobs` drafts on a cron every `periodS` s, confirmed before the first timed occurrence; lateness of the next `reps` occurrences. */
async function measurePrecision(jobs: number, periodS: number, reps: number): Promise<Lateness[]> {
  const stepAt = new Map<string, number>();
  const { scheduler } = await makeScheduler((ctx) => void stepAt.set(ctx.runId, hrNow()));
  const fired = new Map<string, { at: number; t: number }>();
  const started: { jobId: string; runId: string; t: number }[] = [];
  scheduler.on('occurrence:fired', ({ jobId, at, batchIndex }) => fired.set(`${jobId}#${batchIndex}`, { at, t: hrNow() }));
  scheduler.on('run:started', ({ jobId, runId }) => void started.push({ jobId, runId, t: hrNow() }));
  const cron = periodS === 1 ? '* * * * * *' : `*/${periodS} * * * * *`;
  const ids: string[] = [];
  await inFlight(jobs, IN_FLIGHT, async (i) => void (ids[i] = (await scheduler.createJob({ ...base, name: `due ${i}`, draft: true, schedule: { type: 'cron', cron } })).id));
  gc?.();
  for (const id of ids) await scheduler.confirmJob(id);
  const period = periodS * 1000;
  const first = Math.floor(Date.now() / period) * period + period;
  const last = first + (reps - 1) * period;
  // Until every run of the last occurrence started, or just before the next occurrence.
  while (Date.now() < last + period - 300 && !(Date.now() > last && started.filter((s) => s.t >= last).length >= jobs)) await sleepMs(100);
  await scheduler.stop({ mode: 'cancel' });
  const byAt = new Map<number, { fired: number[]; started: number[]; step: number[] }>();
  const entry = (at: number): { fired: number[]; started: number[]; step: number[] } => byAt.get(at) ?? byAt.set(at, { fired: [], started: [], step: [] }).get(at)!;
  for (const f of fired.values()) entry(f.at).fired.push(f.t);
  for (const s of started) {
    const run = await scheduler.getRun(s.runId);
    const f = run && fired.get(`${s.jobId}#${run.batchIndex}`);
    if (!f) continue;
    entry(f.at).started.push(s.t);
    if (stepAt.has(s.runId)) entry(f.at).step.push(stepAt.get(s.runId)!);
  }
  const late = (xs: number[], at: number): [number, number] => [Math.min(...xs) - at, Math.max(...xs) - at];
  return [...byAt]
    .filter(([at, e]) => at >= first && at <= last && e.started.length > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([at, e]) => ({ at, runs: e.started.length, fired: late(e.fired, at), start: late(e.started, at), step: late(e.step, at) }));
}

async function precisionPart(): Promise<string> {
  const loadBefore = load();
  progress(`precision: 1 job every second, ${SINGLE_REPS} occurrences`);
  const one = await measurePrecision(1, 1, SINGLE_REPS);
  gc?.();
  // As many jobs as run slots: what starting that many runs at once costs, without a backlog of batches to write.
  progress(`precision: ${CONCURRENCY} jobs every second, ${SINGLE_REPS} occurrences`);
  const slots = await measurePrecision(CONCURRENCY, 1, SINGLE_REPS);
  gc?.();
  progress(`precision: ${fmt(PRECISION_JOBS)} jobs every ${PERIOD_S} s, ${PRECISION_REPS} occurrences`);
  const many = await measurePrecision(PRECISION_JOBS, PERIOD_S, PRECISION_REPS);
  /** Median and range of `xs` (and of `ys` after a slash). */
  const row = (label: string, xs: number[], goal = false, ys?: number[]): string[] => {
    const both = (f: (v: number[]) => string): string => (xs.length === 0 ? 'n/a' : ys ? `${f(xs)} / ${f(ys)}` : f(xs));
    const verdict = `median < 5: ${median(xs) < 5 ? 'met' : 'missed'}; max < 20: ${Math.max(...xs) < 20 ? 'met' : 'missed'}`;
    return [label, both((v) => fmt(median(v), 1)), both((v) => range(v, 1)), goal && xs.length > 0 ? verdict : ''];
  };
  const n = fmt(PRECISION_JOBS);
  return [
    '### 3. Precision on the real clock',
    '',
    `SystemClock; 6-field crons (\`* * * * * *\` for one job and for ${CONCURRENCY}, \`*/${PERIOD_S} * * * * *\` for ${n} jobs), created as drafts and confirmed before the first timed occurrence; ` +
      `lateness in ms after the occurrence (performance.timeOrigin + performance.now()), from the scheduler's events and the step function's own clock. Concurrency ${CONCURRENCY}; lease, heartbeat, poll and timer options at their defaults. ` +
      `Median and range over ${SINGLE_REPS} occurrences (1 and ${CONCURRENCY} jobs) and ${PRECISION_REPS} (${n} jobs). Between due jobs the scheduler yields one event-loop turn (\`Clock.yield\`), so runs start while later batches are written. Reference: BullMQ's job scheduler on this kind of machine, 47 ms median, 105 ms max. Load average before ${loadBefore}, after ${load()}.`,
    '',
    table(['lateness (ms)', 'median', 'range', 'goal for the first run start: median < 5 ms, max < 20 ms'], [
      row('1 job: run start (`run:started`)', one.map((o) => o.start[0]), true),
      row('1 job: step function start', one.map((o) => o.step[0])),
      row(`${CONCURRENCY} jobs (one per run slot): first step function start`, slots.map((o) => o.step[0])),
      row(`${n} jobs: first / last batch fired (\`occurrence:fired\`)`, many.map((o) => o.fired[0]), false, many.map((o) => o.fired[1])),
      row(`${n} jobs: **first run start** (\`run:started\`)`, many.map((o) => o.start[0]), true),
      row(`${n} jobs: first step function start`, many.map((o) => o.step[0])),
      row(`${n} jobs: last run start / last step function start`, many.map((o) => o.start[1]), false, many.map((o) => o.step[1])),
    ]),
    '',
    `Runs per occurrence of the ${n} jobs: ${many.map((o) => fmt(o.runs)).join(', ')}.`,
  ].join('\n');
}

// 4. Code-defined jobs
const codePipeline = definePipeline({ name: 'bench-code', parameters: { p0: 0, p1: 0, p2: 0, p3: 0, p4: 0 }, steps: [{ uuid: 'a' }] });

/** One code-defined job of `runs` runs (draft, then timed confirm -> job finished), on a scheduler without a snapshot store. */
async function codeDispatch(runs: number): Promise<{ rate: number; ok: boolean; status: string }> {
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: noop } }), logStore: new MemoryLogStore(), workRoot: path.join(tmp, `code${setups++}`) });
  const scheduler = new JobScheduler({ storage: new MemoryStorage(), executor, concurrency: CONCURRENCY });
  scheduler.on('scheduler:error', ({ error, during }) => progress(`scheduler error during ${during}: ${String(error)}`));
  await scheduler.start();
  try {
    const job = await scheduler.createJob({ name: 'code', pipeline: codePipeline, parameters: { from: 'spec', spec: squareSpec }, selection: { ranges: [[0, runs]] }, draft: true });
    const [t0, ended] = [performance.now(), scheduler.waitForJob(job.id)];
    await scheduler.confirmJob(job.id);
    const done = await ended;
    const ms = performance.now() - t0;
    return { rate: runs / (ms / 1000), ok: done.counters.SUCCESS === runs, status: `${done.status} ${JSON.stringify(done.counters)}` };
  } finally {
    await scheduler.stop();
  }
}

async function codePart(): Promise<string> {
  const loadBefore = load();
  progress(`code-defined: warm-up, then 3 x (p-queue, scheduler) interleaved, ${fmt(CODE_RUNS)} runs each`);
  await pqueue(CODE_RUNS, Infinity);
  await codeDispatch(Math.min(CODE_RUNS, 2_000));
  const [pq, fed, sched]: [number[], number[], number[]] = [[], [], []];
  let bad = '';
  for (let i = 0; i < 3; i++) {
    pq.push(await pqueue(CODE_RUNS, Infinity));
    fed.push(await pqueue(CODE_RUNS, 1_000));
    const d = await codeDispatch(CODE_RUNS);
    if (!d.ok) bad = d.status;
    sched.push(d.rate);
    gc?.();
  }
  const rate = median(sched);
  const ratio = (xs: number[]): string => fmt(rate / median(xs), 4);
  const goal = (xs: number[]): string => (rate >= median(xs) / 4 ? 'met' : `missed (${fmt(median(xs) / rate)}x slower)`);
  return [
    '### 4. Code-defined jobs',
    '',
    `${fmt(CODE_RUNS)} one-step runs (no-op function step) of one job defined in code (\`definePipeline\`, no projectDir: no snapshot, no working copy), MemoryStorage, concurrency ${CONCURRENCY}; medians of 3 interleaved repetitions. ` +
      `${os.cpus().length} CPUs shared with other work; load average (1/5/15 min) before ${loadBefore}, after ${load()}.${bad ? ` **Not all succeeded: ${bad}**` : ''}`,
    '',
    table(['what', 'runs/s (median)', 'range', 'scheduler / this', 'goal: scheduler >= 1/4 of this'], [
      ['**JobScheduler**, code-defined job: confirm -> job finished', `**${fmt(rate)}**`, range(sched), '1', ''],
      ['raw p-queue, no-op tasks, all queued up front', fmt(median(pq)), range(pq), ratio(pq), goal(pq)],
      ['raw p-queue, no-op tasks, producer keeps <= 1,000 queued', fmt(median(fed)), range(fed), ratio(fed), goal(fed)],
    ]),
  ].join('\n');
}

// 5. Grid shapes
const shapesPipeline = definePipeline({ name: 'bench-shapes', parameters: { x: 0, p0: 0, p1: 0, p2: 0, p3: 0, p4: 0 }, steps: [{ uuid: 'a' }] });
type ShapeStore = 'MemoryStorage' | 'SqliteStorage' | 'PostgresStorage';
const PG_URL = process.env.PIPELINE_JOBS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs `work` with a fresh PostgreSQL schema name, dropped afterwards. */
async function withSchema<T>(work: (schema: string) => Promise<T>): Promise<T> {
  const schema = `pj_bench_shape_${process.pid}_${setups++}`;
  try {
    return await work(schema);
  } finally {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

/** The first `runs` runs of one job of the given grid (draft, then timed confirm -> job finished), on a scheduler of its own. */
async function shapeDispatch(store: ShapeStore, withProject: boolean, spec: Record<string, Record<string, unknown[]>>, runs: number): Promise<{ rate: number; ok: boolean }> {
  if (store === 'PostgresStorage') return withSchema((schema) => shapeRun(new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 }), withProject, spec, runs));
  const root = path.join(tmp, `shape${setups}`);
  return shapeRun(store === 'MemoryStorage' ? new MemoryStorage() : new SqliteStorage({ path: path.join(root, 'jobs.sqlite') }), withProject, spec, runs);
}

async function shapeRun(storage: MemoryStorage | SqliteStorage | PostgresStorage, withProject: boolean, spec: Record<string, Record<string, unknown[]>>, runs: number): Promise<{ rate: number; ok: boolean }> {
  const root = path.join(tmp, `shape${setups++}`);
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions: { a: noop } }), logStore: new MemoryLogStore(), workRoot: path.join(root, 'runs') });
  const snapshots = withProject ? { snapshots: new SnapshotStore({ root: path.join(root, 'snapshots') }) } : {};
  const scheduler = new JobScheduler({ storage, executor, concurrency: CONCURRENCY, ...snapshots });
  scheduler.on('scheduler:error', ({ error, during }) => progress(`scheduler error during ${during}: ${String(error)}`));
  await scheduler.start();
  try {
    const where = withProject ? base : { pipeline: shapesPipeline };
    const job = await scheduler.createJob({ ...where, name: 'shape', parameters: { from: 'spec', spec }, selection: { ranges: [[0, runs]] }, draft: true });
    const [t0, ended] = [performance.now(), scheduler.waitForJob(job.id)];
    await scheduler.confirmJob(job.id);
    const done = await ended;
    return { rate: runs / ((performance.now() - t0) / 1000), ok: done.counters.SUCCESS === runs };
  } finally {
    await scheduler.stop();
    await storage.close();
  }
}

async function shapesPart(): Promise<string> {
  const loadBefore = load();
  const rows: string[][] = [];
  let bad = false;
  for (const store of ['MemoryStorage', 'SqliteStorage', 'PostgresStorage'] as const) {
    for (const withProject of store === 'PostgresStorage' ? [false] : [false, true]) {
      progress(`grid shapes: ${store}, ${withProject ? 'project dir' : 'code-defined'}: warm-up, then 3 x (5 x 10, 1 x 100,000) interleaved, ${fmt(SHAPE_SMALL_RUNS)} and ${fmt(SHAPE_CELL_RUNS)} runs each`);
      await shapeDispatch(store, withProject, squareSpec, Math.min(500, SHAPE_CELL_RUNS));
      const [square, wide, squareSmall, wideSmall]: [number[], number[], number[], number[]] = [[], [], [], []];
      /** Trigger to job end, ms. */
      const ms = (r: { rate: number }, runs: number): number => (runs / r.rate) * 1000;
      for (let i = 0; i < 3; i++) {
        for (const [spec, big, small] of [[squareSpec, square, squareSmall], [wideSpec, wide, wideSmall]] as const) {
          const b = await shapeDispatch(store, withProject, spec, SHAPE_CELL_RUNS);
          const a = await shapeDispatch(store, withProject, spec, SHAPE_SMALL_RUNS);
          bad ||= !a.ok || !b.ok;
          big.push(ms(b, SHAPE_CELL_RUNS));
          small.push(ms(a, SHAPE_SMALL_RUNS));
        }
        gc?.();
      }
      // Per run: the slope between the two sizes; per batch: what is left at zero runs.
      const perRun = (big: number[], small: number[]): number => ((median(big) - median(small)) / (SHAPE_CELL_RUNS - SHAPE_SMALL_RUNS)) * 1000;
      const fixed = (big: number[], small: number[]): number => median(small) - (perRun(big, small) / 1000) * SHAPE_SMALL_RUNS;
      const [sqRun, wdRun] = [perRun(square, squareSmall), perRun(wide, wideSmall)];
      const ratio = sqRun / wdRun;
      rows.push([
        store,
        withProject ? 'project dir (snapshot, working copy per run)' : 'code-defined (no project)',
        `${fmt((SHAPE_CELL_RUNS / median(square)) * 1000)} / ${fmt((SHAPE_CELL_RUNS / median(wide)) * 1000)} (${fmt(median(square) / median(wide), 2)})`,
        `${fmt(sqRun)} / ${fmt(wdRun)}`,
        fmt(ratio, 2),
        `${fmt(fixed(square, squareSmall))} / ${fmt(fixed(wide, wideSmall))}`,
        ratio >= 0.9 ? 'met' : `missed (${fmt(1 / ratio, 1)}x the cost)`,
      ]);
    }
  }
  return [
    '### 5. Grid shapes',
    '',
    `The first ${fmt(SHAPE_CELL_RUNS)} (and ${fmt(SHAPE_SMALL_RUNS)}) runs of one job whose grid has 100,000 combinations, defined as 5 parameters x 10 values (50 values stored) or as 1 parameter x 100,000 values; one no-op function step, concurrency ${CONCURRENCY}; medians of 3 interleaved repetitions, a fresh scheduler and store each. ` +
      `The cost per run is the slope between the two sizes; the cost per batch is what is left at zero runs (creating the batch and reading the grid's definition, which grows with the definition by nature: 100,000 values are read and checked once). ` +
      `${os.cpus().length} CPUs shared with other work; load average (1/5/15 min) before ${loadBefore}, after ${load()}.${bad ? ' **Not all runs succeeded.**' : ''}`,
    '',
    table(['storage', 'job', `runs/s, ${fmt(SHAPE_CELL_RUNS)} runs: 5 x 10 / 1 x 100,000 (ratio)`, 'us per run: 5 x 10 / 1 x 100,000', 'per-run ratio', 'ms per batch: 5 x 10 / 1 x 100,000', 'aim: the same cost per run (>= 0.9)'], rows),
  ].join('\n');
}

const t0 = performance.now();
try {
  console.log(`Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average at start ${load()}\n`);
  if (ONLY.has('dispatch')) console.log(`${await dispatchPart()}\n`);
  gc?.();
  if (ONLY.has('scale')) console.log(`${await scalePart()}\n`);
  gc?.();
  if (ONLY.has('precision')) console.log(`${await precisionPart()}\n`);
  gc?.();
  if (ONLY.has('code')) console.log(`${await codePart()}\n`);
  gc?.();
  if (ONLY.has('shapes')) console.log(`${await shapesPart()}\n`);
  console.log(`(total ${fmt((performance.now() - t0) / 1000, 1)} s)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
