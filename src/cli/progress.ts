import { createLogUpdate } from 'log-update';
import type { Job, JobScheduler, Run } from '../index.js';

type RunState = Run['status'];
import { duration, lastLines } from './format.js';

/** How many log lines of a failing step are shown. */
const FAILURE_LINES = 8;

interface RunView {
  label: string;
  status: RunState;
  steps: Set<string>;
}

/**
 * Live progress of a job's runs: a redrawn block on a terminal (log-update), one plain
 * line per event otherwise (CI logs, pipes). Reads everything through the scheduler's
 * events and `readLog`.
 */
export class Progress {
  readonly #scheduler: JobScheduler;
  readonly #job: Job;
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #startedAt = Date.now();
  readonly #runs = new Map<string, RunView>();
  readonly #failures: string[] = [];
  readonly #unsubscribe: (() => void)[] = [];
  readonly #title: (uuid: string) => string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #live: ReturnType<typeof createLogUpdate> | undefined;
  #pending: Promise<void> = Promise.resolve();

  constructor(scheduler: JobScheduler, job: Job, out: NodeJS.WriteStream = process.stdout) {
    this.#scheduler = scheduler;
    this.#job = job;
    this.#out = out;
    this.#tty = out.isTTY === true && process.env.CI !== 'true';
    const titles = new Map(job.pipeline.steps.map((s) => [s.uuid, s.title || s.uuid.slice(0, 8)]));
    this.#title = (uuid) => titles.get(uuid) ?? uuid.slice(0, 8);
  }

  /** Starts listening (call before the runs can start). */
  start(): void {
    const mine = (p: { jobId: string }): boolean => p.jobId === this.#job.id;
    const s = this.#scheduler;
    this.#unsubscribe.push(
      s.on('run:started', (p) => mine(p) && this.#queue(async () => {
        const v = await this.#view(p.runId);
        v.status = 'STARTED';
        this.#line(`${v.label} started`);
      })),
      s.on('step:started', (p) => mine(p) && this.#queue(async () => {
        const v = await this.#view(p.runId);
        v.steps.add(p.stepId);
        this.#line(`${v.label} step ${this.#title(p.stepId)} started`);
      })),
      s.on('step:finished', (p) => mine(p) && this.#queue(async () => {
        const v = await this.#view(p.runId);
        v.steps.delete(p.stepId);
        this.#line(`${v.label} step ${this.#title(p.stepId)} ${p.status}`);
        if (p.status === 'FAILURE') await this.#failure(v, p.runId, p.stepId);
      })),
      s.on('run:finished', (p) => mine(p) && this.#queue(async () => {
        const v = await this.#view(p.runId);
        v.status = p.status;
        v.steps.clear();
        this.#line(`${v.label} ${p.status}${p.reason ? ` (${p.reason})` : ''}`);
      })),
    );
    if (this.#tty) {
      this.#live = createLogUpdate(this.#out);
      this.#timer = setInterval(() => this.#draw(), 200);
      this.#draw();
    } else {
      this.#out.write(`Job ${this.#job.name} (${this.#job.id.slice(0, 8)}): ${this.#job.selectedRuns} run(s)\n`);
    }
  }

  /** Stops listening and leaves the final state on screen. */
  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    await this.#pending;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#live) {
      this.#draw();
      this.#live.done();
    }
  }

  /** Event handlers run one after another, so lines keep the events' order. */
  #queue(fn: () => Promise<void>): void {
    this.#pending = this.#pending.then(fn).catch((error: unknown) => {
      this.#out.write(`progress: ${(error as Error).message}\n`);
    });
  }

  async #view(runId: string): Promise<RunView> {
    let v = this.#runs.get(runId);
    if (!v) {
      const run = await this.#scheduler.getRun(runId);
      v = { label: `run ${run?.runIndex ?? runId.slice(0, 8)}`, status: run?.status ?? 'PENDING', steps: new Set() };
      this.#runs.set(runId, v);
    }
    return v;
  }

  async #failure(v: RunView, runId: string, stepId: string): Promise<void> {
    const log = (await this.#scheduler.readLog(runId, stepId)) ?? '';
    const lines = lastLines(log, FAILURE_LINES).map((l) => `    | ${l}`);
    const block = [`  ${v.label} step ${this.#title(stepId)} failed; last lines of its log:`, ...lines].join('\n');
    this.#failures.push(block);
    if (!this.#tty) this.#out.write(`${block}\n`);
  }

  /** Plain mode: one line per event. */
  #line(text: string): void {
    if (!this.#tty) this.#out.write(`[${duration(Date.now() - this.#startedAt)}] ${text}\n`);
  }

  #draw(): void {
    let done = 0;
    let failed = 0;
    let running = 0;
    const active: string[] = [];
    for (const v of this.#runs.values()) {
      if (v.status === 'SUCCESS') done += 1;
      else if (v.status === 'FAILURE' || v.status === 'ABORTED') failed += 1;
      else if (v.status === 'STARTED') {
        running += 1;
        active.push(`  ${v.label}: ${[...v.steps].map(this.#title).join(', ') || 'preparing'}`);
      }
    }
    const total = this.#job.selectedRuns;
    const head = `${this.#job.name}: ${done} done, ${failed} failed, ${running} running of ${total}  (${duration(Date.now() - this.#startedAt)})`;
    this.#live?.([head, ...active, ...this.#failures.slice(-3)].join('\n'));
  }
}
