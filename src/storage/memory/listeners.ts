import type { Logger } from '../../logger.js';
import type { StorageEvent } from '../port.js';

/**
 * In-process `subscribe` listeners: events are delivered after the change that caused
 * them (in a microtask), each listener gets its own copy, and a listener that throws is
 * reported to the logger without stopping the others.
 */
export class Listeners {
  readonly #listeners = new Set<(event: StorageEvent) => void>();

  constructor(private readonly logger: Logger) {}

  add(listener: (event: StorageEvent) => void): () => Promise<void> {
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  clear(): void {
    this.#listeners.clear();
  }

  emit(event: StorageEvent): void {
    if (this.#listeners.size === 0) return;
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const listener of listeners) {
        try {
          listener({ ...event, ...(event.runIds ? { runIds: [...event.runIds] } : {}) });
        } catch (error) {
          // A listener's failure must not break the store or the other listeners: report it.
          this.logger.error('storage listener threw', { error, event: event.type });
        }
      }
    });
  }
}
