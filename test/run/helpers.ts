import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { definePipeline, type PipelineDefinition } from '../../src/pipeline/index.js';
import type { Pipeline, RunParameters } from '../../src/pipeline/model.js';
import {
  FunctionStepExecutor,
  MemoryLogStore,
  RunExecutor,
  killStepProcesses,
  type RunExecutorOptions,
  type RunRequest,
  type StepFunction,
  type StepProcessInfo,
} from '../../src/run/index.js';
import type { SnapshotRecord, Snapshots } from '../../src/snapshot/port.js';

const created: string[] = [];
const started: StepProcessInfo[] = [];
afterAll(async () => {
  // A failed assertion must not leave step processes behind on the machine.
  await Promise.all(started.map((info) => killStepProcesses(info, { gracePeriodMs: 0 })));
  await Promise.all(created.map((d) => rm(d, { recursive: true, force: true })));
});

/** Records the step processes a run executor starts, so they are ended after the test file whatever happens. */
export function trackProcesses(executor: RunExecutor): StepProcessInfo[] {
  const mine: StepProcessInfo[] = [];
  executor.on('step:process', (e) => {
    mine.push(e.process);
    started.push(e.process);
  });
  return mine;
}

/** A fresh temp directory, removed after the test file. */
export async function tempDir(prefix = 'pj-run-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A project directory holding `files` (path -> content; a string ending in .sh etc.). */
export async function makeProject(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('pj-project-');
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return dir;
}

export function pipeline(def: Omit<PipelineDefinition, 'name'> & { name?: string }): Pipeline {
  return definePipeline({ name: 'test-pipeline', ...def });
}

/** The run parameters of a pipeline's defaults, with some values replaced. */
export function defaults(p: Pipeline, over: { pipeline?: Record<string, unknown>; steps?: Record<string, Record<string, unknown>> } = {}): RunParameters {
  const steps: Record<string, Record<string, unknown>> = {};
  for (const s of p.steps) steps[s.uuid] = { ...s.parameters, ...(over.steps?.[s.uuid] ?? {}) };
  return { pipeline: { ...p.parameters, ...(over.pipeline ?? {}) }, steps };
}

/**
 * TEST DOUBLE of the Snapshots port (not the library's SnapshotStore): a snapshot is a
 * plain copy of the project under `root/<id>`, made read-only; `materialize` copies it.
 */
export class TestDirectorySnapshots implements Snapshots {
  readonly #root: string;
  readonly #records = new Map<string, SnapshotRecord>();
  materializeCalls = 0;

  constructor(root: string) {
    this.#root = root;
  }

  async create(projectDir: string): Promise<SnapshotRecord> {
    const id = `snap-${this.#records.size + 1}`;
    await cp(projectDir, path.join(this.#root, id), { recursive: true });
    const record: SnapshotRecord = { id, createdAt: 0, sourceDir: projectDir, fileCount: 0, logicalBytes: 0, newBytes: 0, pipelines: [] };
    this.#records.set(id, record);
    return record;
  }

  async get(id: string): Promise<SnapshotRecord | undefined> {
    return this.#records.get(id);
  }

  async list(): Promise<SnapshotRecord[]> {
    return [...this.#records.values()];
  }

  async readFile(id: string, rel: string): Promise<Buffer> {
    return readFile(path.join(this.#root, id, rel));
  }

  async materialize(id: string, targetDir: string): Promise<void> {
    this.materializeCalls++;
    await cp(path.join(this.#root, id), targetDir, { recursive: true, errorOnExist: true, force: false });
  }

  async delete(id: string): Promise<void> {
    this.#records.delete(id);
    await rm(path.join(this.#root, id), { recursive: true, force: true });
  }

  /** A hash of every file of the snapshot (to prove it never changes). */
  async digest(id: string): Promise<string> {
    return digestDir(path.join(this.#root, id));
  }
}

/** A hash over every file path and content under `dir`. */
export async function digestDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else hash.update(path.relative(dir, p)).update(await readFile(p));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

/**
 * Whether a system tool is installed. Says so loudly when it is not; under `CI=true` its
 * absence is an error (CI installs bubblewrap, jupyter-nbconvert and python3-ipykernel).
 */
export function haveTool(tool: string, probe: string[] = ['--version']): boolean {
  try {
    execFileSync(tool, probe, { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`${tool} is missing or broken: CI must run these tests (${String(error)})`);
    console.warn(`\n*** SKIPPING tests that need ${tool}: it is missing or broken (${String(error)}) ***\n`);
    return false;
  }
}

/** Pids of live processes whose environment holds `NAME=value` (an independent scan of /proc for assertions). */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}\0`);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/\) [ZX] /.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) continue;
      if (readFileSync(`/proc/${entry}/environ`).includes(needle)) out.push(Number(entry));
    } catch (error) {
      // ENOENT/ESRCH: it ended while we looked; EACCES: not ours (pid 1 of the container)
      if (!['ENOENT', 'ESRCH', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  return out;
}

/** A promise with its resolve function outside. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Gates for function steps: a step calls `enter(id)` then waits on `release(id)`'s gate
 * (or its signal); the test waits for `started(id)` and opens gates one by one.
 */
export class Gates {
  readonly log: string[] = [];
  #started = new Map<string, Deferred<void>>();
  #open = new Map<string, Deferred<void>>();
  running = 0;
  maxRunning = 0;

  #get(map: Map<string, Deferred<void>>, id: string): Deferred<void> {
    let d = map.get(id);
    if (!d) {
      d = deferred<void>();
      map.set(id, d);
    }
    return d;
  }

  /** What a step function does: records, waits for its gate or its signal. */
  async pass(id: string, signal: AbortSignal): Promise<void> {
    this.log.push(`start:${id}`);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.#get(this.#started, id).resolve();
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        void this.#get(this.#open, id).promise.then(() => resolve());
      });
      this.log.push(`end:${id}`);
    } finally {
      this.running--;
    }
  }

  started(id: string): Promise<void> {
    return this.#get(this.#started, id).promise;
  }

  open(id: string): void {
    this.#get(this.#open, id).resolve();
  }
}

/** Resolves once the step's log (in a memory or file store) contains `text`. */
export async function waitForLog(store: { follow(key: { runId: string; stepId: string }): AsyncIterable<string> }, key: { runId: string; stepId: string }, text: string): Promise<void> {
  let seen = '';
  for await (const chunk of store.follow(key)) {
    seen += chunk;
    if (seen.includes(text)) return;
  }
  throw new Error(`the log ended without ${JSON.stringify(text)}: ${seen}`);
}

/** A RunExecutor over FunctionStepExecutor functions, a memory log store and an empty project. */
export async function fnSetup(functions: Record<string, StepFunction>, options: Partial<RunExecutorOptions> = {}) {
  const workRoot = await tempDir();
  const project = await makeProject({ 'README.md': 'x' });
  const logStore = new MemoryLogStore();
  const executor = new RunExecutor({ stepExecutors: new FunctionStepExecutor({ functions }), logStore, workRoot, gracePeriodMs: 1000, ...options });
  return { executor, logStore, workRoot, project };
}

/** A request for run `run-1` of `p` on `project`, defaults for parameters. */
export function fnRequest(p: ReturnType<typeof pipeline>, project: string, extra: Partial<RunRequest> = {}): RunRequest {
  return { runId: 'run-1', projectId: 'proj', pipeline: p, parameters: defaults(p), source: { directory: project }, ...extra };
}

