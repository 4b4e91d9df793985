/**
 * Soak (issue 13): many every-second cron jobs on the embedded durable stack for a few
 * minutes, watching what must stay flat or bounded. A JobScheduler on a SQLite file, a
 * SnapshotStore, a RunExecutor with a FileLogStore (each run writes one log line) and
 * working copies under a run folder; `SOAK_JOBS` cron jobs `* * * * * *` with
 * `maxRetainedRuns: SOAK_RETAIN`. Prints, per minute: heap used after GC, RSS, open fds,
 * files under the log and run folders, the database size (file + WAL), occurrences fired,
 * runs pending (the backlog), and occurrence lateness percentiles: when the batch was
 * fired and when its run started, minus the occurrence instant. The first row is the
 * state after setup (baseline).
 *
 * Run `npm run bench -- soak` (also part of `npm run bench`), or
 * `node --expose-gc --import tsx bench/soak.ts`. Env: SOAK_MINUTES (default 3), SOAK_JOBS
 * (default 200), SOAK_RETAIN (default 5), SOAK_CONCURRENCY (default 8), SOAK_LEDGER (the jobs'
 * `ledgerRetention.maxRecords`; default: the library's default, 1,000, which a per-second
 * job reaches after about 17 minutes: a shorter soak shows the bound with a smaller one),
 * SOAK_HEAP_SNAPSHOTS (a folder: heap snapshots at minute 2 and at the end, kept there).
 * Row counts (runs / batches / ledger) are read beside the file size. Prints markdown,
 * never asserts; files under os.tmpdir(), removed at the end.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { writeHeapSnapshot } from 'node:v8';
import path from 'node:path';
import { FileLogStore, FunctionStepExecutor, JobScheduler, RunExecutor, SnapshotStore } from 'pipeline-jobs';
import { SqliteStorage } from 'pipeline-jobs/sqlite';
import Database from 'better-sqlite3';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 3);
const JOBS = Number(process.env.SOAK_JOBS ?? 200);
const RETAIN = Number(process.env.SOAK_RETAIN ?? 5);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 8);
const LEDGER = process.env.SOAK_LEDGER === undefined ? undefined : Number(process.env.SOAK_LEDGER);
/** A folder for heap snapshots at minute 2 and at the end (compare them to find what grows). */
const SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS;

const gc = (globalThis as { gc?: () => void }).gc;
const progress = (msg: string): void => void process.stderr.write(`[soak bench] ${msg}\n`);
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number): string => fmt(bytes / 1024 / 1024, 1);
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const table = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
const pct = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

/** Files (not folders) under `dir`, recursively; 0 when it does not exist. */
function countFiles(dir: string): number {
  let n = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  for (const e of entries) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

/** Bytes of the SQLite database with its WAL and shared-memory files. */
function dbBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      total += statSync(f).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return total;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pj-bench-soak-'));
const dirs = { project: path.join(tmp, 'project'), snapshots: path.join(tmp, 'snapshots'), logs: path.join(tmp, 'logs'), runs: path.join(tmp, 'runs'), db: path.join(tmp, 'soak.db') };
mkdirSync(dirs.project);
const step = { uuid: 'a', title: 'a', file_path: 'a.py', incoming_connections: [], environment: '', parameters: {} };
writeFileSync(path.join(dirs.project, 'main.orchest'), JSON.stringify({ name: 'main', uuid: 'soak-pipeline', version: '1.0.0', parameters: {}, settings: {}, steps: { a: step } }, null, 2));
writeFileSync(path.join(dirs.project, 'a.py'), '# run in-process by the benchmark\n');

const storage = new SqliteStorage({ path: dirs.db });
await storage.init();
const executor = new RunExecutor({
  stepExecutors: new FunctionStepExecutor({ functions: { a: ({ log, runId }) => log('soak', runId) } }),
  logStore: new FileLogStore({ directory: dirs.logs }),
  workRoot: dirs.runs,
});
const scheduler = new JobScheduler({ storage, snapshots: new SnapshotStore({ root: dirs.snapshots }), executor, concurrency: CONCURRENCY });
let errors = 0;
scheduler.on('scheduler:error', ({ error, during }) => {
  if (errors++ < 5) progress(`scheduler error during ${during}: ${String(error)}`);
});

// Lateness of each occurrence: when its batch was fired, and when its run started (wall
// clock minus the occurrence instant). Each batch has one run and a job's runs are claimed
// in order, so a job's run starts pair with its fired occurrences first in, first out
// (no storage read in the measurement).
const firedAt = new Map<string, number[]>();
let fireLateness: number[] = [];
let startLateness: number[] = [];
let fired = 0;
scheduler.on('occurrence:fired', ({ jobId, at }) => {
  fired++;
  fireLateness.push(Date.now() - at);
  const queue = firedAt.get(jobId) ?? [];
  queue.push(at);
  firedAt.set(jobId, queue);
});
scheduler.on('run:started', ({ jobId }) => {
  const at = firedAt.get(jobId)?.shift();
  if (at !== undefined) startLateness.push(Date.now() - at);
});

await scheduler.start();
progress(`creating ${JOBS} every-second cron jobs (maxRetainedRuns ${RETAIN}, ledger ${LEDGER ?? 'default'}), ${MINUTES} min, concurrency ${CONCURRENCY}`);
for (let i = 0; i < JOBS; i++) {
  await scheduler.createJob({ name: `soak ${i}`, projectDir: dirs.project, pipeline: 'main.orchest', schedule: { type: 'cron', cron: '* * * * * *' }, options: { maxRetainedRuns: RETAIN, ...(LEDGER === undefined ? {} : { ledgerRetention: { maxRecords: LEDGER } }) } });
}

/** Rows of the tables that grow with occurrences, through a read-only connection of its own. */
function tableRows(): string {
  const db = new Database(dirs.db, { readonly: true });
  try {
    return ['pj_runs', 'pj_batches', 'pj_ledger'].map((t) => String((db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n)).join(' / ');
  } finally {
    db.close();
  }
}

/** Bytes of the WAL alone (SQLite keeps its size after a checkpoint and reuses it). */
function walBytes(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

const percentiles = (xs: readonly number[]): string => (xs.length === 0 ? '-' : [50, 90, 99].map((p) => fmt(pct(xs, p))).concat(fmt(xs[xs.length - 1]!)).join(' / '));
interface Row { minute: number; heap: number; heapTotal: number; external: number; rss: number; fds: number; logs: number; runs: number; db: number; wal: number; rows: string; fired: number; pending: number; fire: string; start: string; load: string }
const sample = async (minute: number): Promise<Row> => {
  gc?.();
  const m = process.memoryUsage();
  const jobs = await storage.listJobs({ limit: JOBS + 10 });
  const pending = jobs.items.reduce((n, j) => n + j.counters.PENDING, 0);
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const row: Row = {
    minute, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external, rss: m.rss, fds: readdirSync('/proc/self/fd').length, logs: countFiles(dirs.logs), runs: countFiles(dirs.runs), db: dbBytes(dirs.db), wal: walBytes(dirs.db), rows: tableRows(),
    // Percentiles only: keeping each minute's samples would grow the heap this bench watches.
    fired, pending, fire: percentiles(sorted(fireLateness)), start: percentiles(sorted(startLateness)), load: load(),
  };
  fired = 0;
  fireLateness = [];
  startLateness = [];
  return row;
};
const rows: Row[] = [await sample(0)];
const started = Date.now();
for (let minute = 1; minute <= MINUTES; minute++) {
  await new Promise((resolve) => setTimeout(resolve, started + minute * 60_000 - Date.now()));
  rows.push(await sample(minute));
  if (SNAPSHOTS && (minute === 2 || minute === MINUTES)) progress(`heap snapshot: ${writeHeapSnapshot(path.join(SNAPSHOTS, `soak-minute-${minute}.heapsnapshot`))}`);
  const r = rows[rows.length - 1]!;
  progress(`minute ${minute}: heap ${mb(r.heap)} MB, reserved ${mb(r.heapTotal)} MB, rss ${mb(r.rss)} MB, db ${mb(r.db)} MB, rows ${r.rows}, fired ${r.fired}, pending ${r.pending}`);
}
await scheduler.stop({ mode: 'cancel' });
await storage.close();

const first = rows.length > 2 ? rows[1]! : rows[0]!;
const last = rows[rows.length - 1]!;
const span = Math.max(1, last.minute - first.minute);
const perMin = (f: (r: Row) => number): string => `${(f(last) - f(first)) / span >= 0 ? '+' : ''}${fmt((f(last) - f(first)) / span / 1024 / 1024, 2)} MB/min`;
console.log(`Soak: ${JOBS} cron jobs every second, maxRetainedRuns ${RETAIN}, ledgerRetention.maxRecords ${LEDGER ?? '1000 (default)'}, SQLite, FileLogStore, function steps, concurrency ${CONCURRENCY}, ${MINUTES} min. Node ${process.version}, ${os.cpus().length} CPUs; load average (1/5/15 min) per row.\n`);
console.log(
  table(
    ['minute', 'heap MB (after GC)', 'V8 heap reserved MB', 'external MB', 'RSS MB', 'RSS outside V8 heap MB', 'open fds', 'log files', 'files under runs/', 'database MB (of it WAL)', 'rows runs / batches / ledger', 'occurrences fired', 'runs pending', 'fired late p50 / p90 / p99 / max ms', 'run started late p50 / p90 / p99 / max ms', 'load'],
    rows.map((r) => [String(r.minute), mb(r.heap), mb(r.heapTotal), mb(r.external), mb(r.rss), mb(r.rss - r.heapTotal), String(r.fds), String(r.logs), String(r.runs), `${mb(r.db)} (${mb(r.wal)})`, r.rows, String(r.fired), String(r.pending), r.fire, r.start, r.load]),
  ),
);
console.log(`\nSlopes from minute ${first.minute} to ${last.minute} (minute 0 is setup): heap ${perMin((r) => r.heap)}, V8 heap reserved ${perMin((r) => r.heapTotal)}, RSS ${perMin((r) => r.rss)}, RSS outside the V8 heap ${perMin((r) => r.rss - r.heapTotal)}, database ${perMin((r) => r.db)}. Aims (issue 13): heap, RSS, fds and files flat; database bounded. Scheduler errors: ${errors}.`);
rmSync(tmp, { recursive: true, force: true });
