/**
 * The journal a study's lease holder writes through: reads pass through, appends are fenced by the
 * lease (`appendAsLeader`: a deposed holder can never write `asked` entries), and entries that
 * other processes already wrote are dropped — the pushes it re-applies from the journal, and, for
 * trials evaluated through the study queue, the `started`/`report` entries their workers wrote
 * (the holder journals every `told`). So the lease holder can drive a RunSession like any run
 * while the journal keeps exactly one copy of every entry.
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
    /** Trials whose evaluating worker journals `started` and `report` (true: drop the holder's copies). */
    private readonly evaluatedElsewhere: (trialId: number) => boolean,
  ) {}

  async append(entries: JournalEntry[]): Promise<number> {
    const own = entries.filter((e) => {
      if (e.type === 'pushed') return false;
      if (e.type === 'started' || e.type === 'report') return !this.evaluatedElsewhere(e.trialId);
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
