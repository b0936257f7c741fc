/**
 * The readable side of a run directory: journal path, incumbent.json, history.json, history.csv.
 * The journal is the source of truth; the other files are views of it. The history files list
 * finished trials in the order they finished and are APPENDED as trials finish (never rebuilt at
 * a run's end): history.csv one row per trial under a header naming every parameter of the space,
 * history.json a JSON array whose closing bracket is rewritten by each append. If they do not
 * hold as many trials as the journal says were finished when a run opens (a crash between the
 * journal's commit and the view's append), they are rebuilt from the journal once.
 */
import { promises as fsp } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { writeError } from '../io-errors.js';
import { join } from 'node:path';
import type { IncumbentSummary } from '../dehb/types.js';
import type { TrialRecord } from '../study/journal-types.js';
import { LineChunks } from '../study/line-chunks.js';
import { csvHeader, csvRow } from '../study/history-csv.js';

export const JOURNAL_FILE = 'journal.jsonl';
const JSON_END = '\n]\n';

export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

export async function writeIncumbent(dir: string, incumbent: IncumbentSummary | null): Promise<void> {
  if (incumbent === null) return;
  await atomicWrite(join(dir, 'incumbent.json'), JSON.stringify(incumbent, null, 2) + '\n');
}

/** Appends finished trials to history.csv and history.json, in batches. */
export class HistoryFiles {
  /** Rows encoded at once into off-heap chunks, so nothing per trial lives on in the JS heap. */
  private csv = new LineChunks();
  private json = new LineChunks();
  private chain: Promise<void> = Promise.resolve();
  private written: number;

  private constructor(
    private readonly dir: string,
    private readonly params: readonly string[],
    written: number,
  ) {
    this.written = written;
  }

  /**
   * Opens the history files of `dir` for a run whose journal holds `finished` finished trials;
   * `rebuild` gives those records when the files disagree (missing, or a crash left them behind).
   */
  static async open(dir: string, params: readonly string[], finished: number, rebuild: () => TrialRecord[]): Promise<HistoryFiles> {
    await mkdir(dir, { recursive: true });
    const rows = await csvRows(join(dir, 'history.csv'));
    const jsonOk = await endsWith(join(dir, 'history.json'), JSON_END);
    if (rows === finished && jsonOk) return new HistoryFiles(dir, params, finished);
    const records = finished === 0 ? [] : rebuild().filter((r) => r.finishedAt !== null || !['queued', 'running'].includes(r.status));
    const csv = [csvHeader(params), ...records.map((r) => csvRow(r, params))].join('\n') + '\n';
    await atomicWrite(join(dir, 'history.csv'), csv);
    await atomicWrite(join(dir, 'history.json'), jsonArray(records));
    return new HistoryFiles(dir, params, records.length);
  }

  /** Queues a finished trial; written by the next flush (every 256 rows, and at the end). */
  add(record: TrialRecord): void {
    this.csv.push(csvRow(record, this.params) + '\n');
    this.json.push((this.written + this.json.lines === 0 ? '\n' : ',\n') + JSON.stringify(record));
    if (this.json.lines >= 256) void this.flush().catch(() => undefined);
  }

  /** Appends the queued rows to both files. */
  flush(): Promise<void> {
    const n = this.json.lines;
    if (n === 0) return this.chain;
    const csv = this.csv.take();
    const json = [...this.json.take(), Buffer.from(JSON_END)];
    this.written += n;
    this.chain = this.chain.then(() => this.append(csv, json));
    return this.chain;
  }

  private async append(csv: Buffer[], json: Buffer[]): Promise<void> {
    await writeAll(join(this.dir, 'history.csv'), 'a', csv, null);
    await writeAll(join(this.dir, 'history.json'), 'r+', json, -JSON_END.length);
    this.csv.written();
    this.json.written();
  }
}

/** Writes the buffers at the end (null) or at `fromEnd` bytes before the end of the file. */
async function writeAll(path: string, flags: string, bufs: Buffer[], fromEnd: number | null): Promise<void> {
  try {
    await writeAllUnnamed(path, flags, bufs, fromEnd);
  } catch (err) {
    throw writeError(err, path); // ENOSPC & co. name the history file
  }
}

async function writeAllUnnamed(path: string, flags: string, bufs: Buffer[], fromEnd: number | null): Promise<void> {
  const fh = await fsp.open(path, flags);
  try {
    let pos = fromEnd === null ? null : (await fh.stat()).size + fromEnd;
    for (const b of bufs) {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh.write(b, done, b.length - done, pos);
        done += bytesWritten;
        if (pos !== null) pos += bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
}

function jsonArray(records: readonly TrialRecord[]): string {
  return records.length === 0 ? `[${JSON_END}` : `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}${JSON_END}`;
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

async function endsWith(path: string, tail: string): Promise<boolean> {
  try {
    const fh = await fsp.open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (size < tail.length) return false;
      const buf = Buffer.alloc(tail.length);
      await fh.read(buf, 0, tail.length, size - tail.length);
      return buf.toString('utf8') === tail;
    } finally {
      await fh.close();
    }
  } catch {
    return false;
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
