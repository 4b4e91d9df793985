import type { Logger } from './logger.js';

/** A listener of one event. */
export type Listener<P> = (payload: P) => void;

/**
 * A typed event emitter: namespaced names, one payload object each. A throwing
 * listener is logged and does not stop the others nor the emitter's caller.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: object }> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry = (payload: never): void => listener(payload);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Subscribes for the first event that `filter` accepts; resolves with its payload. */
  once<K extends keyof Events>(event: K, filter: (payload: Events[K]) => boolean = () => true, signal?: AbortSignal): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const off = this.on(event, (p) => {
        if (!filter(p)) return;
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve(p);
      });
      const onAbort = (): void => {
        off();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Calls every listener of `event`; errors (thrown or a rejected promise) are contained and logged. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        const result: unknown = (l as (p: Events[K]) => unknown)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.#report(event, error));
      } catch (error) {
        this.#report(event, error);
      }
    }
  }

  #report(event: keyof Events, error: unknown): void {
    this.#logger.error('an event listener threw; the error is contained', { event: String(event), error });
  }

  /** Whether anyone listens to `event` (to skip building costly payloads). */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }
}
