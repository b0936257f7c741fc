/**
 * The embedded journal backend: one JSON-lines file, each line `{"seq":N,"at":ms,...entry}`.
 *
 * Concurrency: appends from any number of processes (and FileJournal instances) are serialised by
 * an O_EXCL lock file `<path>.lock` (see storage-file-lock.ts: stale when the holder's pid is gone
 * on this host, or by mtime after 30 s). Under the lock an appender brings its index up to date,
 * repairs a torn tail, writes the whole batch as ONE buffer through an O_APPEND descriptor and
 * fsyncs before resolving. The seq of an entry is its position among the valid lines of the file:
 * the appender writes that number into the line, and readers derive it from the position again,
 * so even a lock broken by mistake can never yield duplicate or missing seqs.
 *
 * Crash tolerance: the tail after the last valid line may hold one torn line (no trailing newline,
 * or invalid JSON at the very end); readers ignore it and the next append truncates it. A batch is
 * durable entry by entry: a crash mid-write may keep a prefix of the batch. An invalid line
 * followed by further content is corruption: DehbError E_JOURNAL `<file>:<line>: corrupted journal
 * entry (<reason>)`. Lines are validated with zod (protocol/journal-schemas.ts) at read time.
 *
 * Readers never take the lock and never write, so `dehb trials` cannot disturb a running study.
 * This locked multi-writer path is the one of studies (several processes append); the journal of
 * a run directory has a single writer and appends without a lock (run-journal.ts).
 */
import { constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { DehbError } from '../errors.js';
import { writeError } from '../io-errors.js';
import { withVersion } from '../protocol/journal-versions.js';
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';
import { parseStoredLine } from '../protocol/journal-schemas.js';
import { FileLock, type FileLockOptions } from './storage-file-lock.js';

export interface FileJournalOptions {
  /** Create the file (and its directory) when missing. Default true; false → E_JOURNAL if absent. */
  create?: boolean;
  /** Lock acquisition timeout and staleness, ms. */
  lock?: FileLockOptions;
}

const CHUNK = 1 << 20;
const NL = 0x0a;

interface Index {
  dev: number;
  ino: number;
  /** Byte offset just after the last valid (or blank) newline-terminated line. */
  validEnd: number;
  /** Physical lines before validEnd (for error messages). */
  lines: number;
  /** offsets[seq - 1] = byte offset of that entry's line. */
  offsets: number[];
}

interface ScanResult {
  /** Entries newly indexed by this scan (fresh objects, not retained), from seq firstSeq. */
  fresh: StoredEntry[];
  firstSeq: number;
  /** Size of the file seen, and whether bytes after validEnd remain (a torn tail). */
  size: number;
  tail: boolean;
}

function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

export class FileJournal implements JournalBackend {
  private index: Index = { dev: -1, ino: -1, validEnd: 0, lines: 0, offsets: [] };
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly lockOptions: FileLockOptions,
  ) {}

  static async open(path: string, opts: FileJournalOptions = {}): Promise<FileJournal> {
    const create = opts.create ?? true;
    try {
      await fsp.access(path, constants.R_OK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!create) throw new DehbError('E_JOURNAL', `journal ${path} does not exist`, { cause: err });
      await fsp.mkdir(dirname(path), { recursive: true });
      const fh = await fsp.open(path, 'a', 0o644);
      await fh.sync();
      await fh.close();
      await fsyncDir(dirname(path));
    }
    return new FileJournal(path, opts.lock ?? {});
  }

  /**
   * Appends entries in order; resolves with the seq of the last one once fsync'd. `precondition`
   * runs while the file lock is held, before anything is written; if it throws, nothing is
   * appended (the file storage uses it to fence appends by the leader lease).
   */
  append(entries: JournalEntry[], opts: { precondition?: () => Promise<void> } = {}): Promise<number> {
    return this.serial(() =>
      this.appendLocked(entries, opts.precondition).catch((err: unknown) => {
        throw writeError(err, this.path); // ENOSPC & co. name the journal file
      }),
    );
  }

  /** The lock file guarding appends (other writers of the same study state share it). */
  get lockPath(): string {
    return `${this.path}.lock`;
  }

  /** Entries with seq >= fromSeq (1-based), in order. Never blocks on writers. */
  read(fromSeq = 1): Promise<StoredEntry[]> {
    return this.serial(async () => {
      const fh = await this.openForRead();
      try {
        const scan = await this.scan(fh);
        const first = scan.firstSeq;
        const want = Math.max(1, Math.floor(fromSeq));
        if (want >= first) return scan.fresh.slice(want - first);
        return [...(await this.reparse(fh, want, first)), ...scan.fresh];
      } finally {
        await fh.close();
      }
    });
  }

  /** The seq of the last valid entry (0 when empty). */
  lastSeq(): Promise<number> {
    return this.serial(async () => {
      const fh = await this.openForRead();
      try {
        await this.scan(fh);
        return this.index.offsets.length;
      } finally {
        await fh.close();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain.catch(() => undefined);
  }

  // ------------------------------------------------------------------ internals

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DehbError('E_JOURNAL', `journal ${this.path} is closed`));
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async openForRead(): Promise<fsp.FileHandle> {
    try {
      return await fsp.open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new DehbError('E_JOURNAL', `journal ${this.path} does not exist (was the study deleted?)`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  private async appendLocked(entries: JournalEntry[], precondition?: () => Promise<void>): Promise<number> {
    return FileLock.with(
      this.lockPath,
      async () => {
        if (precondition !== undefined) await precondition();
        let fh: fsp.FileHandle;
        try {
          fh = await fsp.open(this.path, constants.O_RDWR | constants.O_APPEND);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            throw new DehbError('E_JOURNAL', `journal ${this.path} was removed`, { cause: err });
          }
          throw err;
        }
        try {
          const scan = await this.scan(fh);
          if (scan.tail) await fh.truncate(this.index.validEnd);
          if (entries.length === 0) return this.index.offsets.length;
          const base = this.index.offsets.length;
          const at = Date.now();
          const lines = entries.map((e, i) => {
            const seq = base + i + 1;
            return JSON.stringify(Object.assign({ seq, at }, withVersion(e), { seq, at })) + '\n';
          });
          const buf = Buffer.from(lines.join(''), 'utf8');
          let done = 0;
          while (done < buf.length) {
            const { bytesWritten } = await fh.write(buf, done, buf.length - done);
            done += bytesWritten;
          }
          await fh.sync();
          const st = await fh.stat();
          if (st.size === this.index.validEnd + buf.length) {
            let off = this.index.validEnd;
            for (const line of lines) {
              this.index.offsets.push(off);
              off += Buffer.byteLength(line, 'utf8');
            }
            this.index.validEnd = off;
            this.index.lines += lines.length;
            return this.index.offsets.length;
          }
          await this.scan(fh); // someone wrote concurrently (a broken lock): positions decide
          return this.index.offsets.length;
        } finally {
          await fh.close();
        }
      },
      this.lockOptions,
    );
  }

  /**
   * Brings the index up to the end of the file: parses every complete line after validEnd.
   * Throws E_JOURNAL on an invalid line that is followed by more content.
   */
  private async scan(fh: fsp.FileHandle): Promise<ScanResult> {
    const st = await fh.stat();
    if (st.ino !== this.index.ino || st.dev !== this.index.dev || st.size < this.index.validEnd) {
      this.index = { dev: st.dev, ino: st.ino, validEnd: 0, lines: 0, offsets: [] };
    }
    const fresh: StoredEntry[] = [];
    const firstSeq = this.index.offsets.length + 1;
    const size = st.size;
    let pos = this.index.validEnd;
    let carry = Buffer.alloc(0);
    let carryStart = pos;
    let bad: { line: number; reason: string } | null = null;
    while (pos < size) {
      const len = Math.min(CHUNK, size - pos);
      const chunk = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(chunk, 0, len, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
        const lineOffset = carryStart + start;
        const blank = isBlank(buf, start, nl);
        if (bad !== null) {
          if (!blank) throw this.corrupted(bad.line, bad.reason);
          start = nl + 1;
          continue;
        }
        if (!blank) {
          const parsed = parseStoredLine(buf.toString('utf8', start, nl));
          if (!parsed.ok) {
            if (parsed.newer === true) throw new DehbError('E_JOURNAL', `${this.path}:${this.index.lines + 1}: ${parsed.reason}`);
            bad = { line: this.index.lines + 1, reason: parsed.reason };
            start = nl + 1;
            continue;
          }
          const entry = parsed.entry;
          entry.seq = this.index.offsets.length + 1;
          this.index.offsets.push(lineOffset);
          fresh.push(entry);
        }
        this.index.lines += 1;
        this.index.validEnd = carryStart + nl + 1;
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      carryStart += start;
    }
    // `bad` here is the last terminated line: a torn tail, tolerated. So is an unterminated rest,
    // unless it follows an invalid line.
    if (bad !== null && carry.length > 0 && !isBlank(carry, 0, carry.length)) {
      throw this.corrupted(bad.line, bad.reason);
    }
    return { fresh, firstSeq, size, tail: size > this.index.validEnd };
  }

  /** Re-reads entries [from, to) from their indexed offsets. */
  private async reparse(fh: fsp.FileHandle, from: number, to: number): Promise<StoredEntry[]> {
    const start = this.index.offsets[from - 1] as number;
    const end = to - 1 < this.index.offsets.length ? (this.index.offsets[to - 1] as number) : this.index.validEnd;
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const out: StoredEntry[] = [];
    let seq = from;
    let s = 0;
    for (let nl = buf.indexOf(NL, s); nl !== -1 && nl < got; nl = buf.indexOf(NL, s)) {
      if (!isBlank(buf, s, nl)) {
        const parsed = parseStoredLine(buf.toString('utf8', s, nl));
        if (!parsed.ok) throw this.corrupted(-1, `${parsed.reason}; the file changed under us`);
        parsed.entry.seq = seq++;
        out.push(parsed.entry);
      }
      s = nl + 1;
    }
    return out;
  }

  private corrupted(line: number, reason: string): DehbError {
    const where = line > 0 ? `${this.path}:${line}` : this.path;
    return new DehbError(
      'E_JOURNAL',
      `${where}: corrupted journal entry (${reason}); only a torn last line is repaired automatically — fix or delete that line by hand`,
      { details: { file: this.path, line } },
    );
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some filesystems refuse fsync on directories; the file itself is fsync'd
  }
}
