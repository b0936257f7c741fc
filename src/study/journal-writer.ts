/**
 * Batches journal appends: entries queued in the same tick go to the backend in one append (one
 * fsync for the file backend), in order. `write` resolves when its entry is durable.
 */
import type { JournalBackend, JournalEntry } from './journal-types.js';

export class JournalWriter {
  private queue: Array<{ entry: JournalEntry; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(private readonly backend: JournalBackend) {}

  /** Queues an entry; the promise resolves once it is durable. */
  write(entry: JournalEntry): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (this.flushing === null) this.flushing = this.loop();
    });
  }

  /** Resolves when everything queued so far is durable (rejects if a write failed). */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.failure !== null) throw this.failure;
  }

  private async loop(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.backend.append(batch.map((b) => b.entry));
          for (const b of batch) b.resolve();
        } catch (err) {
          this.failure = err;
          for (const b of batch) b.reject(err);
          for (const b of this.queue) b.reject(err);
          this.queue = [];
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}
