/**
 * A study storage held in this process (the Study API's default when no `storage` is given):
 * studies, journals, leases, the work queue and input files live in a MemoryStore, and every
 * MemoryStudyStorage opened on the same store sees the same studies (so several Study objects of
 * one process can share a study). Nothing survives the process. Entries are stored as a journal
 * file would give them back (JSON round trip, checked by the journal entry schema once, on append);
 * reads return copies. Leases and claims expire by this process's clock, as in the other storages.
 */
import { DehbError } from '../errors.js';
import { parseStoredEntry, withVersion } from '../protocol/journal-schemas.js';
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';
import { queueOn, type QueueState } from './queue-ops.js';
import {
  checkStudyName,
  checkStoredFile,
  fileToStore,
  studyTaken,
  unknownStudy,
  type CreatedEntry,
  type LeaseInfo,
  type LocalStudyQueue,
  type StoredFile,
  type StudyStorage,
} from './storage.js';

export interface MemoryStudy {
  entries: StoredEntry[];
  lease: LeaseInfo | null;
  /** The work queue as JSON text (queue-ops.ts). */
  queue: string;
  files: Map<string, Buffer>;
  deleted: boolean;
}

/** The studies of one in-memory storage; open as many MemoryStudyStorage handles on it as needed. */
export class MemoryStore {
  readonly studies = new Map<string, MemoryStudy>();
}

let counter = 0;

export class MemoryStudyStorage implements StudyStorage {
  /** Trials go out through the local queue (this process's slots claim them), kept as queue.json would keep it. */
  readonly queue: LocalStudyQueue = queueOn({
    update: async (name, change) => {
      const study = this.study(name);
      const q = JSON.parse(study.queue) as QueueState;
      const out = change(q);
      study.queue = JSON.stringify(q);
      return out;
    },
    load: async (name) => JSON.parse(this.study(name).queue) as QueueState,
  });
  readonly kind = 'memory' as const;
  readonly url: string;

  constructor(readonly store: MemoryStore = new MemoryStore()) {
    this.url = `memory:${++counter}`;
  }

  async createStudy(name: string, created: CreatedEntry, opts: { skipIfExists?: boolean } = {}): Promise<boolean> {
    checkStudyName(name);
    if (this.store.studies.has(name)) return studyTaken(name, this.url, opts, 'skipIfExists');
    const study: MemoryStudy = { entries: [], lease: null, queue: '{"tasks":{}}', files: new Map(), deleted: false };
    appendEntries(study, [created]);
    this.store.studies.set(name, study);
    return true;
  }

  async listStudies(): Promise<string[]> {
    return [...this.store.studies.keys()].sort();
  }

  async studyExists(name: string): Promise<boolean> {
    return this.store.studies.has(checkStudyName(name));
  }

  async deleteStudy(name: string): Promise<boolean> {
    const study = this.store.studies.get(checkStudyName(name));
    if (study === undefined) return false;
    study.deleted = true;
    this.store.studies.delete(name);
    return true;
  }

  async journal(name: string): Promise<JournalBackend> {
    const study = this.study(name);
    const alive = (): MemoryStudy => {
      if (study.deleted) throw unknownStudy(name, this.url);
      return study;
    };
    return {
      append: async (entries) => appendEntries(alive(), entries),
      read: async (fromSeq = 1) => structuredClone(alive().entries.slice(Math.max(0, fromSeq - 1))),
      close: async () => {},
    };
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const study = this.study(name);
    const lease = liveLease(study);
    if (lease !== null && lease.holder !== holder) return false;
    study.lease = { holder, expiresAt: Date.now() + ttlMs };
    return true;
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const study = this.store.studies.get(name);
    if (study === undefined || liveLease(study)?.holder !== holder) return false;
    study.lease = { holder, expiresAt: Date.now() + ttlMs };
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    const study = this.store.studies.get(name);
    if (study !== undefined && study.lease?.holder === holder) study.lease = null;
  }

  async getLease(name: string): Promise<LeaseInfo | null> {
    const study = this.store.studies.get(name);
    const lease = study === undefined ? null : liveLease(study);
    return lease === null ? null : { ...lease };
  }

  async appendAsLeader(name: string, holder: string, entries: JournalEntry[]): Promise<number> {
    const study = this.study(name);
    if (liveLease(study)?.holder !== holder) {
      throw new DehbError('E_STUDY', `study "${name}": the leader lease of ${holder} was lost; another process leads now`, {
        details: { study: name, reason: 'lease-lost' },
      });
    }
    return appendEntries(study, entries);
  }

  async putFile(name: string, data: Buffer, opts: { maxBytes?: number } = {}): Promise<StoredFile> {
    const study = this.study(name);
    const file = fileToStore(data, opts.maxBytes);
    study.files.set(file.sha256, Buffer.from(data));
    return file;
  }

  async getFile(name: string, sha256: string): Promise<Buffer> {
    return Buffer.from(checkStoredFile(name, sha256, this.study(name).files.get(sha256)));
  }

  async close(): Promise<void> {}

  private study(name: string): MemoryStudy {
    const study = this.store.studies.get(checkStudyName(name));
    if (study === undefined) throw unknownStudy(name, this.url);
    return study;
  }
}

function liveLease(study: MemoryStudy): LeaseInfo | null {
  return study.lease !== null && study.lease.expiresAt > Date.now() ? study.lease : null;
}

/** Stores entries as a journal file would return them: versioned, JSON round-tripped, checked. */
function appendEntries(study: MemoryStudy, entries: JournalEntry[]): number {
  const at = Date.now();
  const stored = entries.map((e, i) => {
    const parsed = parseStoredEntry(JSON.parse(JSON.stringify({ ...withVersion(e), seq: study.entries.length + i + 1, at })));
    if (!parsed.ok) throw new DehbError('E_JOURNAL', `journal entry ${e.type} does not match its schema: ${parsed.reason}`);
    return parsed.entry;
  });
  study.entries.push(...stored);
  return study.entries.length;
}
