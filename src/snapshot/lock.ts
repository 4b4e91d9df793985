/**
 * The store's reader/writer lock, made of files so it works across processes (and hosts
 * sharing the directory). `create` holds it shared, `gc` exclusive; `materialize`,
 * `readFile` and `verify` need no lock, because gc only removes objects that no
 * published manifest references.
 *
 * Handshake: a `create` first writes its marker `locks/shared/<token>.json`, then looks for
 * `locks/gc.lock`; a gc first creates `gc.lock` (atomically, by `link`), then looks at the
 * markers. Whatever the interleaving, one of them sees the other: the create steps back
 * and waits, or the gc waits until the markers are gone (holding `gc.lock`, so it is not
 * starved). A holder that died is detected by process id on the same host, or by a
 * heartbeat older than `staleMs` (each holder rewrites its marker every `staleMs / 3`).
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as wait } from 'node:timers/promises';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { isErrno } from './errors.js';
import { unlinkQuiet, writeAtomic, type Layout } from './layout.js';

interface Marker {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  readonly kind: 'create' | 'gc';
  readonly heartbeatAt: number;
}

/** A held lock; `release()` is idempotent. */
export interface Held {
  release(): void;
}

export interface LockOptions {
  readonly layout: Layout;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly staleMs: number;
  readonly pollMs: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return !isErrno(e, 'ESRCH');
  }
}

export class StoreLock {
  readonly #o: LockOptions;
  readonly #gcFile: string;
  readonly #sharedDir: string;

  constructor(options: LockOptions) {
    this.#o = options;
    this.#gcFile = `${options.layout.locks}/gc.lock`;
    this.#sharedDir = `${options.layout.locks}/shared`;
  }

  #marker(token: string, kind: Marker['kind']): string {
    const m: Marker = { token, pid: process.pid, host: hostname(), kind, heartbeatAt: this.#o.clock.now() };
    return JSON.stringify(m);
  }

  /**
   * Waits before looking at the lock again. Real time, not the injected clock: this is a
   * wait for I/O, and a test's FakeClock standing still must not freeze a create behind a gc.
   */
  async #pause(signal: AbortSignal | undefined, waiting: string): Promise<void> {
    this.#o.logger.debug(`snapshot: ${waiting}`, { pollMs: this.#o.pollMs });
    try {
      await wait(this.#o.pollMs, undefined, { signal });
    } catch (e) {
      // Like every wait of the library: a cancel rejects with the signal's own reason.
      if (signal?.aborted) throw signal.reason;
      throw e;
    }
  }

  #scratch(): string {
    return `${this.#o.layout.locks}/.m-${randomUUID()}`;
  }

  #read(file: string): Marker | 'gone' | 'unreadable' {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Marker;
    } catch (e) {
      // Released meanwhile: nothing to wait for.
      if (isErrno(e, 'ENOENT')) return 'gone';
      if (e instanceof SyntaxError) return 'unreadable';
      throw e;
    }
  }

  /**
   * Whether a marker's holder is dead. This process: never (its operations release their
   * markers when they end). Another process on this host: when it is gone. Anything else:
   * when its heartbeat is older than `staleMs`.
   */
  #stale(file: string, m: Marker | 'unreadable'): boolean {
    if (m === 'unreadable') {
      // Markers are published complete (rename / link): an unreadable one is damage. Judge by age.
      const st = statSync(file, { throwIfNoEntry: false });
      return st === undefined || this.#o.clock.now() - st.mtimeMs > this.#o.staleMs;
    }
    if (m.host === hostname()) {
      if (m.pid === process.pid) return false;
      if (!pidAlive(m.pid)) return true;
    }
    return this.#o.clock.now() - m.heartbeatAt > this.#o.staleMs;
  }

  /** Moves a stale lock file away; puts it back if it turned out to be a fresh one. */
  #breakStale(file: string, m: Marker | 'unreadable'): void {
    const aside = this.#scratch();
    try {
      renameSync(file, aside);
    } catch (e) {
      // Someone else broke or released it first.
      if (isErrno(e, 'ENOENT')) return;
      throw e;
    }
    const now = this.#read(aside);
    const same = m === 'unreadable' ? now === 'unreadable' : now !== 'gone' && now !== 'unreadable' && now.token === m.token;
    if (!same) {
      try {
        linkSync(aside, file);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw e;
        this.#o.logger.error('snapshot: a lock was taken while a stale one was broken', { file });
      }
    } else {
      this.#o.logger.warn('snapshot: removed a stale lock', { file, holder: m });
    }
    unlinkQuiet(aside);
  }

  #heartbeat(file: string, token: string, kind: Marker['kind']): { stop(): void } {
    const { clock, staleMs, logger } = this.#o;
    let handle: TimerHandle | undefined;
    let stopped = false;
    const beat = (): void => {
      if (stopped) return;
      try {
        writeAtomic(this.#scratch(), file, this.#marker(token, kind), false);
      } catch (e) {
        logger.warn('snapshot: lock heartbeat failed', { file, error: String(e) });
      }
      handle = clock.setTimeout(beat, Math.max(1, Math.floor(staleMs / 3)));
    };
    handle = clock.setTimeout(beat, Math.max(1, Math.floor(staleMs / 3)));
    return {
      stop() {
        stopped = true;
        if (handle !== undefined) clock.clearTimeout(handle);
      },
    };
  }

  /** Takes the lock shared (a `create`); waits while a gc holds it. */
  async shared(signal: AbortSignal | undefined): Promise<Held> {
    const token = randomUUID();
    const file = `${this.#sharedDir}/${token}.json`;
    for (;;) {
      signal?.throwIfAborted();
      writeAtomic(this.#scratch(), file, this.#marker(token, 'create'), false);
      const gc = this.#read(this.#gcFile);
      if (gc === 'gone') break;
      unlinkQuiet(file); // step back while the gc runs
      if (this.#stale(this.#gcFile, gc)) this.#breakStale(this.#gcFile, gc);
      else await this.#pause(signal, 'create waits for a gc');
    }
    const hb = this.#heartbeat(file, token, 'create');
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        hb.stop();
        unlinkQuiet(file);
      },
    };
  }

  /**
   * Takes the lock exclusively (a gc), once no `create` holds it. With `wait: false`,
   * resolves `undefined` instead of waiting. `onStale` counts markers of dead holders removed.
   */
  async exclusive(wait: boolean, signal: AbortSignal | undefined, onStale: () => void): Promise<Held | undefined> {
    const token = randomUUID();
    for (;;) {
      signal?.throwIfAborted();
      const scratch = this.#scratch();
      writeFileSync(scratch, this.#marker(token, 'gc'), { flag: 'wx' });
      try {
        linkSync(scratch, this.#gcFile);
        break;
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw e;
      } finally {
        unlinkQuiet(scratch);
      }
      const cur = this.#read(this.#gcFile);
      if (cur === 'gone') continue;
      if (this.#stale(this.#gcFile, cur)) this.#breakStale(this.#gcFile, cur);
      else if (!wait) return undefined;
      else await this.#pause(signal, 'gc waits for another gc');
    }
    const hb = this.#heartbeat(this.#gcFile, token, 'gc');
    let done = false;
    const held: Held = {
      release: () => {
        if (done) return;
        done = true;
        hb.stop();
        const cur = this.#read(this.#gcFile);
        if (cur !== 'gone' && cur !== 'unreadable' && cur.token === token) unlinkQuiet(this.#gcFile);
      },
    };
    try {
      while (this.#liveHolders(onStale) > 0) {
        if (!wait) {
          held.release();
          return undefined;
        }
        await this.#pause(signal, 'gc waits for running creates');
      }
    } catch (e) {
      held.release();
      throw e;
    }
    return held;
  }

  /** Counts live shared holders, removing the markers of dead ones. */
  #liveHolders(onStale: () => void): number {
    let live = 0;
    for (const name of readdirSync(this.#sharedDir)) {
      const file = `${this.#sharedDir}/${name}`;
      const m = this.#read(file);
      if (m === 'gone') continue;
      if (this.#stale(file, m)) {
        // We hold gc.lock: no new holder can be behind this marker, so removing it is safe.
        this.#o.logger.warn('snapshot: removed the marker of a create that died', { file });
        unlinkQuiet(file);
        onStale();
      } else {
        live++;
      }
    }
    return live;
  }

  /** Removes scratch files a crash left in `locks/` (call while holding the lock exclusively). */
  sweepScratch(): number {
    let removed = 0;
    for (const name of readdirSync(this.#o.layout.locks)) {
      if (!name.startsWith('.m-')) continue;
      const file = `${this.#o.layout.locks}/${name}`;
      const st = statSync(file, { throwIfNoEntry: false });
      if (st !== undefined && this.#o.clock.now() - st.mtimeMs > this.#o.staleMs) {
        unlinkQuiet(file);
        removed++;
      }
    }
    return removed;
  }
}
