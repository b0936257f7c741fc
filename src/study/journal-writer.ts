/**
 * Group commit for journal appends: the first entry queued goes to the backend at once (one
 * append: one write and one fsync for a file); everything queued while that append is under way
 * goes in the next one, in order. So the window of a group is the previous group's fsync, the
 * number of fsyncs is bounded by the disk, not by the number of entries, and a caller that does
 * not await `write` (a slot freed as soon as its result is queued) never waits for an fsync.
 * `write` resolves when its entry is durable; after a failed append every later write rejects.
 */
import type { JournalBackend, JournalEntry } from './journal-types.js';

export class JournalWriter {
  private queue: Array<{ entry: JournalEntry; resolve: () => void; reject: (e: unknown) => void }> = [];
  private inFlight = 0;
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

  /** Entries queued or being written, not yet durable. */
  get backlog(): number {
    return this.queue.length + this.inFlight;
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
        this.inFlight = batch.length;
        try {
          await this.backend.append(batch.map((b) => b.entry));
          for (const b of batch) b.resolve();
        } catch (err) {
          this.failure = err;
          for (const b of batch) b.reject(err);
          for (const b of this.queue) b.reject(err);
          this.queue = [];
        } finally {
          this.inFlight = 0;
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}
