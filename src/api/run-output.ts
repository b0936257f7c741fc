/**
 * The readable side of a run directory: journal path, incumbent.json, history.json, history.csv.
 * The journal is the source of truth; the other files are views written from it.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { writeError } from '../io-errors.js';
import { join } from 'node:path';
import type { Incumbent } from '../dehb/types.js';
import type { TrialRecord } from '../study/journal-types.js';
import { historyToCsv } from '../study/history-csv.js';

export const JOURNAL_FILE = 'journal.jsonl';

export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

export async function writeIncumbent(dir: string, incumbent: Incumbent | null): Promise<void> {
  if (incumbent === null) return;
  await atomicWrite(join(dir, 'incumbent.json'), JSON.stringify(incumbent, null, 2) + '\n');
}

export async function writeHistory(dir: string, records: TrialRecord[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await atomicWrite(join(dir, 'history.json'), JSON.stringify(records, null, 1) + '\n');
  await atomicWrite(join(dir, 'history.csv'), historyToCsv(records));
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
