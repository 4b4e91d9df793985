/**
 * The memory adapter's PENDING runs, per job, each job's in `seq` order. A claim merges
 * the queues of the jobs that may take runs (a heap on their head `seq`), so a job at its
 * `maxConcurrentRuns` costs nothing however long its backlog: its queue is never walked.
 */
export class PendingIndex {
  /** job id -> (seq -> run id), insertion-ordered; `seq` only grows, so insertion order is `seq` order. */
  readonly #byJob = new Map<string, Map<number, string>>();

  add(jobId: string, seq: number, runId: string): void {
    let queue = this.#byJob.get(jobId);
    if (!queue) {
      queue = new Map();
      this.#byJob.set(jobId, queue);
    }
    queue.set(seq, runId);
  }

  remove(jobId: string, seq: number): void {
    const queue = this.#byJob.get(jobId);
    if (!queue) return;
    queue.delete(seq);
    if (queue.size === 0) this.#byJob.delete(jobId);
  }

  dropJob(jobId: string): void {
    this.#byJob.delete(jobId);
  }

  /**
   * Up to `limit` pending runs in global `seq` order, at most `capacity(jobId)` of each job
   * (`0`: none of it; the function is asked once per job that has pending runs). Changes
   * nothing: the caller removes what it takes.
   */
  pick(limit: number, capacity: (jobId: string) => number): Array<{ jobId: string; seq: number; runId: string }> {
    const heads: Head[] = [];
    for (const [jobId, queue] of this.#byJob) {
      const cap = capacity(jobId);
      if (cap <= 0) continue;
      const it = queue.entries();
      const first = it.next();
      if (!first.done) heads.push({ jobId, it, seq: first.value[0], runId: first.value[1], left: cap });
    }
    const heap = new MinHeap(heads);
    const out: Array<{ jobId: string; seq: number; runId: string }> = [];
    while (out.length < limit) {
      const head = heap.peek();
      if (!head) break;
      out.push({ jobId: head.jobId, seq: head.seq, runId: head.runId });
      head.left--;
      const next = head.left > 0 ? head.it.next() : { done: true as const, value: undefined };
      if (next.done) heap.pop();
      else {
        head.seq = next.value[0];
        head.runId = next.value[1];
        heap.siftDown(0);
      }
    }
    return out;
  }
}

interface Head {
  jobId: string;
  it: MapIterator<[number, string]>;
  seq: number;
  runId: string;
  left: number;
}

/** A binary min-heap of queue heads by `seq`. */
class MinHeap {
  constructor(private readonly a: Head[]) {
    for (let i = (a.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  peek(): Head | undefined {
    return this.a[0];
  }

  pop(): void {
    const last = this.a.pop()!;
    if (this.a.length > 0) {
      this.a[0] = last;
      this.siftDown(0);
    }
  }

  siftDown(i: number): void {
    const { a } = this;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]!.seq < a[m]!.seq) m = l;
      if (r < a.length && a[r]!.seq < a[m]!.seq) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}
