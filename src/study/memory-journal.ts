/**
 * A journal held in memory: the reference implementation of JournalBackend, used by tests and by
 * callers that want replayable state without a file.
 */
import { withVersion } from '../protocol/journal-versions.js';
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';

export class MemoryJournal implements JournalBackend {
  private readonly entries: StoredEntry[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  async append(entries: JournalEntry[]): Promise<number> {
    for (const e of entries) {
      this.entries.push(JSON.parse(JSON.stringify({ ...withVersion(e), seq: this.entries.length + 1, at: this.now() })) as StoredEntry);
    }
    return this.entries.length;
  }

  async read(fromSeq = 1): Promise<StoredEntry[]> {
    return this.entries.slice(Math.max(0, fromSeq - 1)).map((e) => JSON.parse(JSON.stringify(e)) as StoredEntry);
  }

  async close(): Promise<void> {}
}
