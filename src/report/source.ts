/**
 * Where a report or dashboard reads a run from: a run directory's journal.jsonl, or a named study
 * in a storage (directory or Redis). `read()` returns only the entries appended since the previous
 * call, through the journal backends' public `read(fromSeq)` (the file backend keeps its byte
 * index, so a tail reads only the new bytes; Redis reads LRANGE from the next seq). `watch` calls
 * back when the journal may have grown: fs.watch on a run's journal file (plus a slow poll, as
 * some filesystems drop events), a short poll for studies.
 */
import { existsSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { journalPath } from '../api/run-output.js';
import { DehbError } from '../errors.js';
import { FileJournal } from '../study/file-journal.js';
import type { JournalBackend, StoredEntry } from '../study/journal-types.js';
import { defaultStorageUrl, maskUrl, type StudyStorage } from '../study/storage.js';
import { openStorage } from '../study/storage-open.js';

export interface RunSource {
  readonly label: string;
  /** Entries appended since the previous call (all of them on the first). */
  read(): Promise<StoredEntry[]>;
  /** Calls `onChange` when the journal may have grown; returns a function that stops watching. */
  watch(onChange: () => void): () => void;
  close(): Promise<void>;
}

export type SourceSpec = { dir: string } | { study: string; storage?: string };

export async function openRunSource(spec: SourceSpec): Promise<RunSource> {
  if ('dir' in spec) {
    const path = journalPath(spec.dir);
    if (!existsSync(path)) throw new DehbError('E_USAGE', `${spec.dir} is not a run directory: no ${path} (give the --output directory of a dehb run)`);
    return new JournalSource(await FileJournal.open(path, { create: false }), path, null, path, 1000);
  }
  const url = defaultStorageUrl(spec.storage);
  const storage = await openStorage(url);
  try {
    const journal = await storage.journal(spec.study);
    return new JournalSource(journal, `study "${spec.study}" in ${maskUrl(storage.url)}`, storage, null, 250);
  } catch (err) {
    await storage.close();
    throw err;
  }
}

class JournalSource implements RunSource {
  private next = 1;

  constructor(
    private readonly journal: JournalBackend,
    readonly label: string,
    private readonly storage: StudyStorage | null,
    private readonly file: string | null,
    private readonly pollMs: number,
  ) {}

  async read(): Promise<StoredEntry[]> {
    const entries = await this.journal.read(this.next);
    const last = entries[entries.length - 1];
    if (last !== undefined) this.next = last.seq + 1;
    return entries;
  }

  watch(onChange: () => void): () => void {
    let watcher: FSWatcher | null = null;
    if (this.file !== null) {
      try {
        watcher = fsWatch(this.file, { persistent: false }, () => onChange());
        watcher.on('error', () => undefined); // the poll below still runs
      } catch {
        watcher = null;
      }
    }
    const timer = setInterval(onChange, this.pollMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      watcher?.close();
    };
  }

  async close(): Promise<void> {
    await this.journal.close();
    await this.storage?.close();
  }
}
