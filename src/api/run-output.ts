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
import type { FileHandle } from 'node:fs/promises';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { writeError } from '../io-errors.js';
import { join } from 'node:path';
import type { IncumbentSummary } from '../dehb/types.js';
import type { TrialRecord } from '../study/journal-types.js';
import { LineChunks, writeAll } from '../study/line-chunks.js';
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
  private queued = 0;
  private files: OpenFiles | null = null;

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
    const json = this.json.take();
    this.written += n;
    this.queued++;
    this.chain = this.chain.then(() => this.append(csv, json));
    return this.chain;
  }

  /**
   * One writev per file. The files stay open while more batches wait (a batch costs 2 writes
   * then, not 8 operations, so a writer that fell behind catches up) and are closed once none does.
   */
  private async append(csv: Buffer[], json: Buffer[]): Promise<void> {
    const csvPath = join(this.dir, 'history.csv');
    const jsonPath = join(this.dir, 'history.json');
    let ok = false;
    try {
      const f = (this.files ??= await this.openFiles(csvPath, jsonPath));
      await named(csvPath, writeAll(f.csv, csv, null));
      await named(jsonPath, writeAll(f.json, [...json, END], f.jsonEnd));
      for (const b of json) f.jsonEnd += b.length;
      this.csv.written();
      this.json.written();
      ok = true;
    } finally {
      if (--this.queued === 0 || !ok) {
        const f = this.files;
        this.files = null;
        if (f !== null) await Promise.all([f.csv.close(), f.json.close()]);
      }
    }
  }

  private async openFiles(csvPath: string, jsonPath: string): Promise<OpenFiles> {
    const csv = await named(csvPath, fsp.open(csvPath, 'a'));
    try {
      const json = await named(jsonPath, fsp.open(jsonPath, 'r+'));
      return { csv, json, jsonEnd: (await json.stat()).size - JSON_END.length };
    } catch (err) {
      await csv.close();
      throw err;
    }
  }
}

interface OpenFiles {
  csv: FileHandle;
  json: FileHandle;
  /** Where the next rows of history.json go (its closing bracket is rewritten after them). */
  jsonEnd: number;
}

const END = Buffer.from(JSON_END);

async function named<T>(path: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw writeError(err, path); // ENOSPC & co. name the history file
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
