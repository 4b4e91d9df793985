import type { Notification, Pool, PoolClient } from 'pg';
import type { Clock, TimerHandle } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { StorageEvent } from '../port.js';
import type { Tables } from './pg.js';

type Listener = (event: StorageEvent) => void;

/**
 * One LISTEN connection shared by every subscriber of a store. When the connection is
 * lost it reconnects (after `retryMs`) and tells subscribers `{ type: 'job-changed' }`
 * without a job id: whatever happened meanwhile was not seen, re-check everything.
 */
export class PgListener {
  readonly #listeners = new Set<Listener>();
  #client: PoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #retry: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly t: Tables,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {}

  async add(listener: Listener): Promise<() => Promise<void>> {
    this.#stopped = false;
    this.#listeners.add(listener);
    await this.#connect();
    return async () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) await this.stop();
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#listeners.clear();
    if (this.#retry) this.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#connecting?.catch(() => {
      // A failed connect was already reported to the subscriber that waited for it.
    });
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    client.removeAllListeners('notification');
    client.removeAllListeners('error');
    // The connection may drop during UNLISTEN: the query rejects with it, and the client
    // also emits `error`, which would crash the host with no listener.
    const quiet = (error: Error): void => this.logger.warn('storage notifications: connection lost while closing', { error });
    client.on('error', quiet);
    try {
      await client.query(`UNLISTEN "${this.t.channel}"`);
      client.off('error', quiet);
      client.release();
    } catch (error) {
      // The connection is already broken: drop it instead of returning it to the pool.
      client.release(error as Error);
    }
  }

  #connect(): Promise<void> {
    if (this.#client) return Promise.resolve();
    this.#connecting ??= (async () => {
      const client = await this.pool.connect();
      try {
        client.on('notification', (n) => this.#deliver(n));
        client.on('error', (error) => this.#lost(client, error));
        await client.query(`LISTEN "${this.t.channel}"`);
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      if (this.#stopped) {
        client.release();
        return;
      }
      this.#client = client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #deliver(n: Notification): void {
    if (n.channel !== this.t.channel || !n.payload) return;
    let event: StorageEvent;
    try {
      event = JSON.parse(n.payload) as StorageEvent;
    } catch (error) {
      // Someone else wrote to our channel: not ours to act on, but worth a line in the log.
      this.logger.warn('ignored a malformed storage notification', { payload: n.payload, error });
      return;
    }
    this.#emit(event);
  }

  #emit(event: StorageEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener({ ...event, ...(event.runIds ? { runIds: [...event.runIds] } : {}) });
      } catch (error) {
        // A listener's failure must not stop delivery to the others: report it.
        this.logger.error('storage listener threw', { error, event: event.type });
      }
    }
  }

  #lost(client: PoolClient, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.release(error);
    this.logger.warn('storage notifications interrupted; reconnecting', { error });
    this.#emit({ type: 'job-changed' });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = this.clock.setTimeout(() => {
      this.#retry = undefined;
      if (this.#stopped || this.#listeners.size === 0) return;
      this.#connect().then(
        () => this.#emit({ type: 'job-changed' }),
        (error: unknown) => {
          this.logger.warn('storage notifications: reconnect failed', { error });
          this.#schedule();
        },
      );
    }, this.retryMs);
  }
}
