/**
 * The journal a study's lease holder writes through: reads pass through, appends are fenced by the
 * lease (`appendAsLeader`: a deposed holder can never write `asked` entries), and entries that
 * other processes already wrote are dropped — the pushes it re-applies from the journal, and the
 * `started`/`report`/`told` entries the caller says others write (a study queue's workers journal
 * `started` and `report`, the lease holder every `told`; an asker only applies results). So the
 * lease holder can drive a RunSession like any run while the journal keeps one copy of each entry.
 */
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';
import type { StudyStorage } from './storage.js';

export class LeaderJournal implements JournalBackend {
  /** The last seq a read returned (what a session resumed through this journal has seen). */
  lastReadSeq = 0;

  constructor(
    private readonly storage: StudyStorage,
    private readonly study: string,
    private readonly holder: string,
    private readonly inner: JournalBackend,
    /** Entries someone else journals (true: drop the holder's copy), e.g. a queue worker's `started`. */
    private readonly writtenElsewhere: (entry: Extract<JournalEntry, { type: 'started' | 'report' | 'told' }>) => boolean,
  ) {}

  async append(entries: JournalEntry[]): Promise<number> {
    const own = entries.filter((e) => {
      if (e.type === 'pushed') return false;
      if (e.type === 'started' || e.type === 'report' || e.type === 'told') return !this.writtenElsewhere(e);
      return true;
    });
    return own.length === 0 ? 0 : this.storage.appendAsLeader(this.study, this.holder, own);
  }

  async read(fromSeq?: number): Promise<StoredEntry[]> {
    const entries = await this.inner.read(fromSeq);
    const last = entries[entries.length - 1];
    if (last !== undefined && last.seq > this.lastReadSeq) this.lastReadSeq = last.seq;
    return entries;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
