/**
 * The journal of a run directory as its single writer sees it (`dehb run --output D`, DEHB with
 * outputDir): the run's writer lock (run-lock.ts) is held from open to close, so an append is one
 * write and one fdatasync through a descriptor kept open — no lock file per append, no re-scan.
 * Group commit happens one level up (journal-writer.ts hands over everything queued while the
 * previous write was being synced). Opening repairs a torn last line and finds the last seq by
 * reading the file backwards; `latest()` reads the last snapshot and what follows it. The file
 * format is the one of file-journal.ts, so readers (`dehb show`) and old journals work unchanged.
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DehbError } from '../errors.js';
import { writeError } from '../io-errors.js';
import { FileJournal } from './file-journal.js';
import { writeAll } from './line-chunks.js';
import { findEnd, readLatest, scanJournalSync, type LatestEntries } from './journal-tail.js';
import { withVersion } from '../protocol/journal-versions.js';
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';
import { RunLock } from './run-lock.js';
import { TrialHistory } from './history.js';

interface Open {
  fh: fsp.FileHandle;
  lock: RunLock;
}

async function openLocked(path: string): Promise<Open & { lastSeq: number }> {
  const lock = await RunLock.acquire(path);
  try {
    const fh = await fsp.open(path, constants.O_RDWR | constants.O_APPEND);
    try {
      const end = await findEnd(fh, path);
      const { size } = await fh.stat();
      if (size > end.validEnd) {
        await fh.truncate(end.validEnd); // a torn last line from a crash
        await fh.datasync();
      }
      return { fh, lock, lastSeq: end.lastSeq };
    } catch (err) {
      await fh.close();
      throw err;
    }
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export class RunJournal implements JournalBackend {
  private closed = false;
  private opening: Promise<Open> | null;

  private constructor(
    readonly path: string,
    private readonly reader: FileJournal,
    first: Open,
    private seq: number,
  ) {
    this.opening = Promise.resolve(first);
  }

  /** Opens (creating it unless `create: false`) and locks the journal for writing. */
  static async open(path: string, opts: { create?: boolean } = {}): Promise<RunJournal> {
    const reader = await FileJournal.open(path, { create: opts.create ?? true });
    const o = await openLocked(path);
    return new RunJournal(path, reader, { fh: o.fh, lock: o.lock }, o.lastSeq);
  }

  /** Seq of the last entry written. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Appends in order with one write and one fdatasync; resolves with the last seq once durable. */
  async append(entries: JournalEntry[]): Promise<number> {
    const at = Date.now();
    const text = entries.map((e, i) => JSON.stringify(Object.assign({ seq: this.seq + i + 1, at }, withVersion(e)))).join('\n');
    return this.appendLines(entries.length === 0 ? [] : [Buffer.from(text + '\n', 'utf8')], this.seq + 1, entries.length);
  }

  /**
   * Appends encoded lines numbered firstSeq.. (journal-writer.ts encodes them as they are queued)
   * with one writev and one fdatasync; resolves with the last seq once durable.
   */
  async appendLines(chunks: Buffer[], firstSeq: number, count: number): Promise<number> {
    if (this.closed) throw new DehbError('E_JOURNAL', `journal ${this.path} is closed`);
    const { fh } = await this.handle();
    if (firstSeq !== this.seq + 1) {
      throw new DehbError('E_JOURNAL', `${this.path} was appended to by another process while this run paused (its last entry is ${this.seq}, not ${firstSeq - 1}); re-open it with resume`);
    }
    if (count === 0) return this.seq;
    try {
      await writeAllAndSync(fh, chunks);
    } catch (err) {
      throw writeError(err, this.path); // ENOSPC & co. name the journal file
    }
    this.seq += count;
    return this.seq;
  }

  /** Entries with seq >= fromSeq (a full scan; re-opening uses latest()). */
  read(fromSeq = 1): Promise<StoredEntry[]> {
    return this.reader.read(fromSeq);
  }

  /** The last snapshot and the entries after it (all entries when there is none); null if empty. */
  async latest(): Promise<LatestEntries | null> {
    return readLatest((await this.handle()).fh, this.path);
  }

  /** Every trial record, read back from the file now (the session keeps none of them). */
  readRecords(): TrialHistory {
    const history = new TrialHistory();
    scanJournalSync(this.path, (e) => history.absorbEntry(e));
    return history;
  }

  /**
   * Gives the writer lock up between runs (another process may then open the directory); the
   * next append or latest() takes it again.
   */
  async suspend(): Promise<void> {
    const o = this.opening;
    this.opening = null;
    if (o === null) return;
    const { fh, lock } = await o;
    await fh.close().catch(() => undefined);
    await lock.release();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.suspend();
    await this.reader.close();
  }

  private handle(): Promise<Open> {
    this.opening ??= openLocked(this.path).then(
      (o) => {
        this.seq = o.lastSeq;
        return { fh: o.fh, lock: o.lock };
      },
      (err: unknown) => {
        this.opening = null;
        throw err;
      },
    );
    return this.opening;
  }
}

/** Writes every buffer and fdatasyncs once. */
async function writeAllAndSync(fh: FileHandle, chunks: Buffer[]): Promise<void> {
  await writeAll(fh, chunks, null);
  await fh.datasync();
}
