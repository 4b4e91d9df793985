import { mkdir, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { SystemClock, type Clock } from '../clock.js';
import { OptionsError } from '../errors.js';
import { logKeyString, type LogKey, type LogStore, type LogStream } from './log-store.js';

/** Options of {@link FileLogStore}. */
export interface FileLogStoreOptions {
  /** The directory logs are written to (created when needed). */
  directory: string;
  /**
   * How often `follow` looks at the file for changes made by other processes. Changes
   * made through this store instance wake followers at once.
   * @default 250
   */
  pollIntervalMs?: number;
  /** Timers of the polling. @default new SystemClock() */
  clock?: Clock;
}

/**
 * A {@link LogStore} of plain text files: `<directory>/<runId>/<stepId>.log` (all streams
 * interleaved, as a user would `cat` it) and an empty `<stepId>.end` once the step ended.
 * Ids are URI-encoded into file names. Several processes may follow a log written by
 * another (shared file system): they poll.
 */
export class FileLogStore implements LogStore {
  /** The absolute directory the logs are written to. */
  readonly directory: string;
  readonly #pollIntervalMs: number;
  readonly #clock: Clock;
  readonly #handles = new Map<string, FileHandle>();
  readonly #listeners = new Map<string, Set<() => void>>();
  /** Logs ended here whose end marker could not be written (disk full): their followers here still finish. */
  readonly #endedUnmarked = new Set<string>();

  /**
   * Checks the options; nothing is written until the first append.
   * @param options the directory, and how often followers poll
   * @throws {@link OptionsError} `OPTIONS_INVALID` when `directory` is empty or `pollIntervalMs` is not a finite number > 0
   */
  constructor(options: FileLogStoreOptions) {
    const { directory, pollIntervalMs = 250, clock = new SystemClock() } = { ...options };
    if (typeof directory !== 'string' || directory === '') {
      throw new OptionsError('OPTIONS_INVALID', 'FileLogStore needs a directory', { path: 'options.directory', value: directory });
    }
    if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) {
      throw new OptionsError('OPTIONS_INVALID', 'Expected `pollIntervalMs` to be a finite number > 0', {
        path: 'options.pollIntervalMs',
        value: pollIntervalMs,
      });
    }
    this.directory = path.resolve(directory);
    this.#pollIntervalMs = pollIntervalMs;
    this.#clock = clock;
  }

  /** The log file of a step (it may not exist yet). */
  logPath(key: LogKey): string {
    return path.join(this.#runDir(key.runId), `${encodeId(key.stepId)}.log`);
  }

  /** `stream` is not kept: all streams are interleaved in one text. */
  async append(key: LogKey, text: string, _stream?: LogStream): Promise<void> {
    if (text === '') return;
    const handle = await this.#handle(key);
    try {
      await handle.appendFile(text, 'utf8');
    } catch (error) {
      // Disk full, permission, I/O error: the file is not kept open for a writer that failed
      // (a later append reopens it; end() still marks the log complete).
      await this.#release(logKeyString(key), handle);
      this.#notify(key);
      throw error;
    }
    this.#notify(key);
  }

  /**
   * Closes the log's file and writes its end marker. When the marker cannot be written
   * (disk full, permission) this rejects, and followers in this process still finish;
   * followers in other processes need the marker.
   */
  async end(key: LogKey): Promise<void> {
    const k = logKeyString(key);
    const handle = this.#handles.get(k);
    try {
      if (handle) {
        await this.#release(k, handle);
      } else {
        // A step that printed nothing still gets a (empty) log, so `read` tells "ran, silent"
        // from "unknown".
        await mkdir(this.#runDir(key.runId), { recursive: true });
        await writeFile(this.logPath(key), '', { flag: 'a' });
      }
      await writeFile(this.#endPath(key), '');
    } catch (error) {
      this.#endedUnmarked.add(k);
      throw error;
    } finally {
      this.#notify(key);
    }
  }

  async read(key: LogKey): Promise<string | undefined> {
    try {
      return await readFile(this.logPath(key), 'utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined; // no such log: the port says undefined
      throw error;
    }
  }

  async *follow(key: LogKey, options: { signal?: AbortSignal } = {}): AsyncIterable<string> {
    const { signal } = options;
    const decoder = new StringDecoder('utf8');
    let offset = 0;
    let seen = false;
    for (;;) {
      if (signal?.aborted) return;
      // The end marker is written after the last append: seen first, it proves the data read next is complete.
      const ended = this.#endedUnmarked.has(logKeyString(key)) || (await exists(this.#endPath(key)));
      const chunk = await readFrom(this.logPath(key), offset);
      if (chunk === undefined) {
        // The log vanished after we saw it: deleted (retention); nothing more will come.
        if (seen) return;
      } else {
        seen = true;
        if (chunk.length > 0) {
          offset += chunk.length;
          const text = decoder.write(chunk);
          if (text !== '') yield text;
          continue;
        }
      }
      if (ended) {
        const rest = decoder.end();
        if (rest !== '') yield rest;
        return;
      }
      await this.#waitForChange(key, signal);
    }
  }

  async delete(runId: string): Promise<void> {
    for (const [k, handle] of this.#handles) {
      if (k.startsWith(`${runId}\u0000`)) {
        this.#handles.delete(k);
        await handle.close();
      }
    }
    await rm(this.#runDir(runId), { recursive: true, force: true });
    for (const k of this.#endedUnmarked) if (k.startsWith(`${runId}\u0000`)) this.#endedUnmarked.delete(k);
    for (const [k, set] of this.#listeners) if (k.startsWith(`${runId}\u0000`)) for (const fn of set) fn();
  }

  /** Closes the files still open (logs not ended). */
  async close(): Promise<void> {
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(handles.map((h) => h.close()));
  }

  async #handle(key: LogKey): Promise<FileHandle> {
    const k = logKeyString(key);
    const known = this.#handles.get(k);
    if (known) return known;
    await mkdir(this.#runDir(key.runId), { recursive: true });
    const handle = await open(this.logPath(key), 'a');
    this.#handles.set(k, handle);
    return handle;
  }

  /** Forgets and closes a log's file; the handle is gone from the map even when close fails. */
  async #release(k: string, handle: FileHandle): Promise<void> {
    if (this.#handles.get(k) === handle) this.#handles.delete(k);
    await handle.close();
  }

  #runDir(runId: string): string {
    return path.join(this.directory, encodeId(runId));
  }

  #endPath(key: LogKey): string {
    return path.join(this.#runDir(key.runId), `${encodeId(key.stepId)}.end`);
  }

  #notify(key: LogKey): void {
    const set = this.#listeners.get(logKeyString(key));
    if (set) for (const fn of set) fn();
  }

  #waitForChange(key: LogKey, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const k = logKeyString(key);
      const set = this.#listeners.get(k) ?? new Set<() => void>();
      this.#listeners.set(k, set);
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.#listeners.delete(k);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, this.#pollIntervalMs);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** A file name for an id: URI-encoded, and never `.` or `..`. */
export function encodeId(id: string): string {
  const encoded = encodeURIComponent(id);
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

async function readFrom(file: string, offset: number): Promise<Buffer | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isNotFound(error)) return undefined; // not written yet (or deleted): the caller decides
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false; // absence is the answer
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}
