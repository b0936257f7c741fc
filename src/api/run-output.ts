/**
 * The readable side of a run directory: journal path, incumbent.json, history.csv.
 * The journal is the source of truth; the other files are views of it. history.csv lists finished
 * trials in the order they finished, one row per trial under a header naming every parameter of
 * the space, APPENDED as trials finish (never rebuilt at a run's end). If it does not hold as many
 * trials as the journal says were finished when a run opens (a crash between the journal's commit
 * and the view's append), it is rebuilt from the journal once. The full records (config, info,
 * error, worker, reports) are not written a second time beside the journal: `dehb show DIR
 * --format json` derives them on demand. A history.json left by dehb 0.1 is removed when its run
 * re-opens, so no stale copy stays beside the journal.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { writeError } from '../io-errors.js';
import { join } from 'node:path';
import type { IncumbentSummary } from '../dehb/types.js';
import type { TrialRecord } from '../study/journal-types.js';
import { LineChunks, writeAll } from '../study/line-chunks.js';
import { csvHeader, csvRow } from '../study/history-csv.js';

export const JOURNAL_FILE = 'journal.jsonl';

export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

export async function writeIncumbent(dir: string, incumbent: IncumbentSummary | null): Promise<void> {
  if (incumbent === null) return;
  await atomicWrite(join(dir, 'incumbent.json'), JSON.stringify(incumbent, null, 2) + '\n');
}

/**
 * incumbent.json kept up to date as the incumbent improves: one write at a time, in order (the
 * file never goes back to an older incumbent), and improvements made while a write is under way
 * are written once, as the newest of them (early in a run the incumbent improves every few
 * trials: each improvement was a write of its own).
 */
export class IncumbentFile {
  private next: IncumbentSummary | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly write: (dir: string, incumbent: IncumbentSummary) => Promise<void> = writeIncumbent,
  ) {}

  /** The newest incumbent: written when the write under way (if any) is done. */
  offer(incumbent: IncumbentSummary | null): void {
    if (incumbent === null) return;
    this.next = incumbent;
    this.writing ??= this.drain();
  }

  /** Resolves once the newest incumbent offered is written (a failed write is left for the final one). */
  async settled(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      for (let inc = this.next; inc !== null; inc = this.next) {
        this.next = null;
        await this.write(this.dir, inc).catch(() => undefined);
      }
    } finally {
      this.writing = null;
    }
  }
}

/** Appends finished trials to history.csv, in batches. */
export class HistoryFiles {
  /** Rows encoded at once into off-heap chunks, so nothing per trial lives on in the JS heap. */
  private csv = new LineChunks();
  private chain: Promise<void> = Promise.resolve();
  private file: FileHandle | null = null;

  private constructor(
    private readonly dir: string,
    private readonly params: readonly string[],
  ) {}

  /**
   * Opens history.csv of `dir` for a run whose journal holds `finished` finished trials;
   * `rebuild` gives those records when the file disagrees (missing, or a crash left it behind).
   */
  static async open(dir: string, params: readonly string[], finished: number, rebuild: () => TrialRecord[]): Promise<HistoryFiles> {
    await mkdir(dir, { recursive: true });
    await rm(join(dir, 'history.json'), { force: true }).catch((err: unknown) => {
      throw writeError(err, join(dir, 'history.json'));
    });
    const rows = await csvRows(join(dir, 'history.csv'));
    if (rows === finished) return new HistoryFiles(dir, params);
    const records = finished === 0 ? [] : rebuild().filter((r) => r.finishedAt !== null || !['queued', 'running'].includes(r.status));
    const csv = [csvHeader(params), ...records.map((r) => csvRow(r, params))].join('\n') + '\n';
    await atomicWrite(join(dir, 'history.csv'), csv);
    return new HistoryFiles(dir, params);
  }

  /** Queues a finished trial; written by the next flush (every 256 rows, and at the end). */
  add(record: TrialRecord): void {
    this.csv.push(csvRow(record, this.params) + '\n');
    if (this.csv.lines >= 256) void this.flush().catch(() => undefined);
  }

  /** Appends the queued rows. */
  flush(): Promise<void> {
    if (this.csv.lines === 0) return this.chain;
    const csv = this.csv.take();
    this.chain = this.chain.then(() => this.append(csv));
    return this.chain;
  }

  /** Appends the queued rows and closes the file (a later add() opens it again). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.release();
    }
  }

  /** One writev per batch, through a descriptor kept open until close() (or a failed write). */
  private async append(csv: Buffer[]): Promise<void> {
    const csvPath = join(this.dir, 'history.csv');
    try {
      const f = (this.file ??= await named(csvPath, fsp.open(csvPath, 'a')));
      await named(csvPath, writeAll(f, csv, null));
      this.csv.written();
    } catch (err) {
      await this.release().catch(() => undefined);
      throw err;
    }
  }

  /** Closes the descriptor, if one is open (the next append opens the file again). */
  private async release(): Promise<void> {
    const f = this.file;
    this.file = null;
    await f?.close();
  }
}

async function named<T>(path: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw writeError(err, path); // ENOSPC & co. name the history file
  }
}

async function csvRows(path: string): Promise<number> {
  try {
    const buf = await fsp.readFile(path);
    let n = 0;
    for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) n++;
    return n - 1;
  } catch {
    return -1;
  }
}

let tmpSeq = 0;

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${tmpSeq++}.tmp`; // unique: overlapping writes never share a temp file
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(err, path);
  }
}
