/**
 * Directory storage for studies (the embedded default, e.g. `./dehb-studies`):
 *
 *   <root>/<name>/study.json        {name, kind, createdAt, version}
 *   <root>/<name>/journal.jsonl     the journal (file-journal.ts), lock `journal.jsonl.lock`
 *   <root>/<name>/lease.json        {holder, expiresAt} — changed only under the journal lock, so
 *                                   `appendAsLeader` checks the lease and appends atomically
 *   <root>/<name>/queue.json        the work queue (storage-file-queue.ts)
 *   <root>/<name>/files/<sha256>    input files
 *   <root>/<name>/trials/<id>/      per-trial working directories of local workers
 *
 * A study is created in a temporary directory and renamed into place (atomic: a concurrent
 * duplicate create fails cleanly); deletion renames it aside first. Lease and claim expiry use
 * this host's clock: processes on several hosts sharing an NFS directory need synchronised clocks.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DehbError } from '../errors.js';
import { FileJournal } from './file-journal.js';
import type { JournalEntry } from './journal-types.js';
import { FileLock } from './storage-file-lock.js';
import { FileQueuePlace } from './storage-file-queue.js';
import { queueOn } from './queue-ops.js';
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

export class FileStudyStorage implements StudyStorage {
  readonly kind = 'file' as const;
  /** Processes of this machine share the study through its local queue (`queue.json`). */
  readonly queue: LocalStudyQueue = queueOn(new FileQueuePlace(async (name) => (await this.requireStudy(name), this.studyDir(name))));

  /** One journal per study for fenced appends, so its index stays incremental. */
  private readonly leaderJournals = new Map<string, FileJournal>();

  private constructor(
    readonly root: string,
    readonly url: string,
  ) {}

  static async open(url: string): Promise<FileStudyStorage> {
    const root = /^file:/i.test(url) ? (url.startsWith('file://') ? fileURLToPath(url) : url.slice(5)) : url;
    const abs = resolve(root);
    await fsp.mkdir(abs, { recursive: true });
    return new FileStudyStorage(abs, url);
  }

  localDir(name: string): string {
    return this.studyDir(name);
  }

  /** The directory of a study (exists or not). */
  studyDir(name: string): string {
    return join(this.root, checkStudyName(name));
  }

  async createStudy(name: string, created: CreatedEntry, opts: { skipIfExists?: boolean } = {}): Promise<boolean> {
    const dir = this.studyDir(name);
    if (await this.studyExists(name)) return studyTaken(name, this.url, opts);
    const tmp = join(this.root, `.tmp-${randomUUID()}`);
    await fsp.mkdir(tmp, { recursive: true });
    try {
      await fsp.writeFile(
        join(tmp, 'study.json'),
        JSON.stringify({ name, kind: created.options.kind, createdAt: Date.now(), version: 1 }, null, 2) + '\n',
      );
      const j = await FileJournal.open(join(tmp, 'journal.jsonl'));
      await j.append([created]);
      await j.close();
      await fsp.rename(tmp, dir);
      return true;
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return studyTaken(name, this.url, opts);
      throw err;
    }
  }

  async listStudies(): Promise<string[]> {
    const names: string[] = [];
    for (const e of await fsp.readdir(this.root, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      if (await exists(join(this.root, e.name, 'journal.jsonl'))) names.push(e.name);
    }
    return names.sort();
  }

  async studyExists(name: string): Promise<boolean> {
    return exists(join(this.studyDir(name), 'journal.jsonl'));
  }

  async deleteStudy(name: string): Promise<boolean> {
    this.leaderJournals.delete(name);
    if (!(await this.studyExists(name))) return false;
    const aside = join(this.root, `.deleted-${randomUUID()}`);
    try {
      await fsp.rename(this.studyDir(name), aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await fsp.rm(aside, { recursive: true, force: true });
    return true;
  }

  async journal(name: string): Promise<FileJournal> {
    await this.requireStudy(name);
    return FileJournal.open(this.journalPath(name), { create: false });
  }

  // ------------------------------------------------------------------ lease

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    await this.requireStudy(name);
    return this.withJournalLock(name, async () => {
      const lease = await this.readLease(name);
      if (lease !== null && lease.holder !== holder && lease.expiresAt > Date.now()) return false;
      await this.writeLease(name, { holder, expiresAt: Date.now() + ttlMs });
      return true;
    });
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.withJournalLock(name, async () => {
      const lease = await this.readLease(name);
      if (lease === null || lease.holder !== holder || lease.expiresAt <= Date.now()) return false;
      await this.writeLease(name, { holder, expiresAt: Date.now() + ttlMs });
      return true;
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (!(await this.studyExists(name))) return;
    await this.withJournalLock(name, async () => {
      const lease = await this.readLease(name);
      if (lease !== null && lease.holder === holder) await fsp.rm(this.leasePath(name), { force: true });
    });
  }

  async getLease(name: string): Promise<LeaseInfo | null> {
    const lease = await this.readLease(name);
    return lease !== null && lease.expiresAt > Date.now() ? lease : null;
  }

  async appendAsLeader(name: string, holder: string, entries: JournalEntry[]): Promise<number> {
    let j = this.leaderJournals.get(name);
    if (j === undefined) {
      j = await this.journal(name);
      this.leaderJournals.set(name, j);
    }
    return j.append(entries, {
      precondition: async () => {
        const lease = await this.readLease(name);
        if (lease === null || lease.holder !== holder || lease.expiresAt <= Date.now()) {
          throw new DehbError('E_STUDY', `study "${name}": the leader lease of ${holder} was lost; another process leads now`, {
            details: { study: name, reason: 'lease-lost' },
          });
        }
      },
    });
  }

  // ------------------------------------------------------------------ files

  async putFile(name: string, data: Buffer, opts: { maxBytes?: number } = {}): Promise<StoredFile> {
    await this.requireStudy(name);
    const { sha256 } = fileToStore(data, opts.maxBytes);
    const dir = join(this.studyDir(name), 'files');
    await fsp.mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${randomUUID()}.tmp`);
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, join(dir, sha256));
    return { sha256, size: data.length };
  }

  async getFile(name: string, sha256: string): Promise<Buffer> {
    await this.requireStudy(name);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new DehbError('E_STUDY', `not a sha256 digest: "${sha256}"`);
    const data = await fsp.readFile(join(this.studyDir(name), 'files', sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return checkStoredFile(name, sha256, data);
  }

  async close(): Promise<void> {
    for (const j of this.leaderJournals.values()) await j.close();
    this.leaderJournals.clear();
  }

  // ------------------------------------------------------------------ internals

  private journalPath(name: string): string {
    return join(this.studyDir(name), 'journal.jsonl');
  }

  private leasePath(name: string): string {
    return join(this.studyDir(name), 'lease.json');
  }


  private async requireStudy(name: string): Promise<void> {
    if (!(await this.studyExists(name))) throw unknownStudy(name, this.url);
  }

  private withJournalLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(`${this.journalPath(name)}.lock`, fn);
  }

  private async readLease(name: string): Promise<LeaseInfo | null> {
    try {
      const v = JSON.parse(await fsp.readFile(this.leasePath(name), 'utf8')) as Partial<LeaseInfo>;
      if (typeof v.holder !== 'string' || typeof v.expiresAt !== 'number') return null;
      return { holder: v.holder, expiresAt: v.expiresAt };
    } catch {
      return null; // absent or half-written: no lease
    }
  }

  private async writeLease(name: string, lease: LeaseInfo): Promise<void> {
    const tmp = `${this.leasePath(name)}.${randomUUID()}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(lease));
    await fsp.rename(tmp, this.leasePath(name));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}
