/**
 * RunExecutor overhead.
 *
 * 1. A 20-step DAG of trivial processes (`/bin/true`, through the ProcessStepExecutor with
 *    a directory source, logs in memory) against spawning the same processes directly
 *    (child_process.spawn with piped, drained output) along the same DAG with the same
 *    parallelism, measured in the same run, interleaved. Goal: under 1.3x.
 * 2. In-process function steps on a wide DAG (one root, 10,000 independent no-op steps,
 *    one sink), steps per second, against calling the same functions directly. Goal: over
 *    20,000 steps/s.
 *
 * Run: npx tsx bench/executor.ts
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pipeline, PipelineStep, RunParameters } from '../src/pipeline/model.js';
import { FunctionStepExecutor, MemoryLogStore, ProcessStepExecutor, RunExecutor, type StepFunction } from '../src/run/index.js';

const TRUE = '/bin/true';
const PARALLELISM = 4;
const PROCESS_REPS = 15;
const WIDE_STEPS = 10_000;
const WIDE_REPS = 7;

interface Node {
  uuid: string;
  deps: string[];
}

/** 20 steps: a root, 6 fan-out, 6 joining pairs, 6 single links, a sink. */
function dag20(): Node[] {
  const nodes: Node[] = [{ uuid: 's0', deps: [] }];
  for (let i = 1; i <= 6; i++) nodes.push({ uuid: `s${i}`, deps: ['s0'] });
  for (let i = 7; i <= 12; i++) nodes.push({ uuid: `s${i}`, deps: [`s${i - 6}`, `s${((i - 6) % 6) + 1}`] });
  for (let i = 13; i <= 18; i++) nodes.push({ uuid: `s${i}`, deps: [`s${i - 6}`] });
  nodes.push({ uuid: 's19', deps: ['s13', 's14', 's15', 's16', 's17', 's18'] });
  return nodes;
}

function wideDag(n: number): Node[] {
  const middle = Array.from({ length: n }, (_, i) => ({ uuid: `w${i}`, deps: ['root'] }));
  return [{ uuid: 'root', deps: [] }, ...middle, { uuid: 'sink', deps: middle.map((m) => m.uuid) }];
}

/** A frozen Pipeline built directly (definePipeline needs the typia transform, which tsx does not run). */
function pipelineOf(nodes: Node[], fileOf: (uuid: string) => string): Pipeline {
  const steps: PipelineStep[] = nodes.map((n) => ({
    uuid: n.uuid,
    title: n.uuid,
    file_path: fileOf(n.uuid),
    incoming_connections: n.deps,
    environment: '',
    parameters: {},
    parameterOrder: [],
  }));
  return { uuid: 'bench', name: 'bench', parameters: {}, parameterOrder: [], settings: {}, services: {}, steps, source: {}, path: '', warnings: [] };
}

function noParameters(p: Pipeline): RunParameters {
  return { pipeline: {}, steps: Object.fromEntries(p.steps.map((s) => [s.uuid, {}])) };
}

/** The baseline: the same DAG, the same parallelism, each step a direct spawn of /bin/true. */
function runDirect(nodes: Node[], parallelism: number): Promise<void> {
  const waiting = new Map(nodes.map((n) => [n.uuid, n.deps.length]));
  const children = new Map<string, string[]>(nodes.map((n) => [n.uuid, []]));
  for (const n of nodes) for (const d of n.deps) children.get(d)!.push(n.uuid);
  const ready = nodes.filter((n) => n.deps.length === 0).map((n) => n.uuid);
  let running = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      while (running < parallelism && ready.length > 0) {
        const id = ready.shift()!;
        running++;
        const child = spawn(TRUE, [id], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.resume();
        child.stderr.resume();
        child.on('error', reject);
        child.on('close', () => {
          running--;
          done++;
          for (const c of children.get(id)!) {
            const left = waiting.get(c)! - 1;
            waiting.set(c, left);
            if (left === 0) ready.push(c);
          }
          if (done === nodes.length) resolve();
          else pump();
        });
      }
    };
    pump();
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (xs: number[], digits = 1): string => `${fmt(Math.min(...xs), digits)} to ${fmt(Math.max(...xs), digits)}`;

async function processBench(tmp: string): Promise<string[]> {
  const nodes = dag20();
  const project = path.join(tmp, 'project');
  await rm(project, { recursive: true, force: true });
  await mkdir(project, { recursive: true });
  for (const n of nodes) await writeFile(path.join(project, `${n.uuid}.noop`), '');
  const p = pipelineOf(nodes, (id) => `${id}.noop`);
  const logStore = new MemoryLogStore();
  const executor = new RunExecutor({
    stepExecutors: new ProcessStepExecutor({ interpreters: { '.noop': [TRUE] } }),
    logStore,
    workRoot: path.join(tmp, 'work'),
    maxParallelism: PARALLELISM,
  });
  const parameters = noParameters(p);
  let run = 0;
  // The part between the first step's start and the last step's end: the DAG itself,
  // without making and deleting the working copy.
  let firstStart = 0;
  let lastEnd = 0;
  executor.on('step:started', (e) => {
    if (e.stepId === 's0') firstStart = performance.now();
  });
  executor.on('step:finished', (e) => {
    if (e.stepId === 's19') lastEnd = performance.now();
  });
  const steps: number[] = [];
  const viaExecutor = async (): Promise<number> => {
    const t0 = performance.now();
    const result = await executor.execute({ runId: `p${run++}`, projectId: 'bench', pipeline: p, parameters, source: { directory: project } });
    const ms = performance.now() - t0;
    if (result.status !== 'SUCCESS') throw new Error(`bench run failed: ${JSON.stringify(result.error)}`);
    steps.push(lastEnd - firstStart);
    await logStore.delete(result.runId);
    return ms;
  };
  const direct = async (): Promise<number> => {
    const t0 = performance.now();
    await runDirect(nodes, PARALLELISM);
    return performance.now() - t0;
  };
  // Making 21 files costs what the disk says: measured alone, for the reader.
  const copies: number[] = [];
  const copyOnly = async (): Promise<void> => {
    const t0 = performance.now();
    const target = path.join(tmp, `copy-${copies.length}`);
    await mkdir(target);
    await Promise.all((await readdir(project)).map((f) => copyFile(path.join(project, f), path.join(target, f))));
    copies.push(performance.now() - t0);
  };
  for (let i = 0; i < 3; i++) {
    await viaExecutor();
    await direct();
  }
  steps.length = 0;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < PROCESS_REPS; i++) {
    // Alternating order, so drift on a shared machine hits both alike.
    if (i % 2) {
      b.push(await direct());
      a.push(await viaExecutor());
    } else {
      a.push(await viaExecutor());
      b.push(await direct());
    }
    await copyOnly();
  }
  const ratio = median(a) / median(b);
  const stepsRatio = median(steps) / median(b);
  return [
    `| 20-step DAG of \`/bin/true\`, parallelism ${PARALLELISM}: direct spawn (baseline) | ${fmt(median(b))} ms | ${range(b)} ms | 1.00x | |`,
    `| same DAG through RunExecutor + ProcessStepExecutor, whole run (working copy, logs, cleanup) | ${fmt(median(a))} ms | ${range(a)} ms | ${fmt(ratio, 2)}x | under 1.3x: ${ratio < 1.3 ? 'met' : 'MISSED'} |`,
    `| the same runs, first step start to last step end (the DAG without the working copy) | ${fmt(median(steps))} ms | ${range(steps)} ms | ${fmt(stepsRatio, 2)}x | under 1.3x: ${stepsRatio < 1.3 ? 'met' : 'MISSED'} |`,
    `| for reference: copying the 20 step files alone (this disk's file creation cost) | ${fmt(median(copies))} ms | ${range(copies)} ms | | |`,
  ];
}

async function wideBench(tmp: string): Promise<string[]> {
  const nodes = wideDag(WIDE_STEPS);
  const project = path.join(tmp, 'wide-project');
  await mkdir(project, { recursive: true });
  let calls = 0;
  const noop: StepFunction = () => {
    calls++;
  };
  const functions: Record<string, StepFunction> = Object.fromEntries(nodes.map((n) => [n.uuid, noop]));
  const p = pipelineOf(nodes, () => '');
  const parameters = noParameters(p);
  const logStore = new MemoryLogStore();
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions }), logStore, workRoot: path.join(tmp, 'wide-work') });
  let run = 0;
  const viaExecutor = async (): Promise<number> => {
    const t0 = performance.now();
    const result = await executor.execute({ runId: `w${run++}`, projectId: 'bench', pipeline: p, parameters, source: { directory: project } });
    const ms = performance.now() - t0;
    if (result.status !== 'SUCCESS') throw new Error('wide run failed');
    await logStore.delete(result.runId);
    return (nodes.length / ms) * 1000;
  };
  // The ceiling: the same functions called directly, in the same DAG order (root, all, sink).
  const direct = async (): Promise<number> => {
    const t0 = performance.now();
    const ctx = {} as never;
    await noop(ctx);
    await Promise.all(nodes.slice(1, -1).map(async () => noop(ctx)));
    await noop(ctx);
    return (nodes.length / (performance.now() - t0)) * 1000;
  };
  await viaExecutor();
  await direct();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < WIDE_REPS; i++) {
    a.push(await viaExecutor());
    b.push(await direct());
  }
  if (calls < nodes.length * (WIDE_REPS + 1)) throw new Error('not every step ran');
  const m = median(a);
  return [
    `| wide DAG (1 + ${WIDE_STEPS.toLocaleString('en-US')} + 1 steps): the same no-op functions called directly (ceiling) | ${fmt(median(b), 0)} steps/s | ${range(b, 0)} | 1.00x | |`,
    `| same DAG through RunExecutor + FunctionStepExecutor | ${fmt(m, 0)} steps/s | ${range(a, 0)} | ${fmt(m / median(b), 3)}x | over 20,000/s: ${m > 20_000 ? 'met' : 'MISSED'} |`,
  ];
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'pj-bench-executor-'));
  try {
    const rows = [...(await processBench(tmp)), ...(await wideBench(tmp))];
    console.log(`\n### RunExecutor (Node ${process.version}, ${os.cpus().length} CPUs, ${PROCESS_REPS} / ${WIDE_REPS} repetitions, medians)\n`);
    console.log('| what | median | range | ratio | goal |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log('\nThe benchmark and the processes share the machine\'s cores.');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
