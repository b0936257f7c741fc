/**
 * Small helpers shared by the study commands (study, optimize, push, trials, trial): the
 * `--storage` option, opening a study and closing its storage, flag parsing, and output streams
 * (data on stdout, human text on stderr).
 */
import { DehbError } from '../../errors.js';
import { defaultStorageUrl, type StudyStorage } from '../../study/storage.js';
import { openStorage } from '../../study/storage-open.js';
import { loadStudy } from '../../api/study-open.js';
import { type Study } from '../../api/study.js';

export const STORAGE_HELP = 'study storage: a directory, file:DIR, a redis:// or rediss:// URL, or a scheduler file (its Redis, password, prefix, TLS; default $DEHB_STORAGE or ./dehb-studies)';

export interface StorageFlags {
  storage?: string;
}

/** Where the study commands write; tests that run the CLI in-process replace these. */
export const studyCliIo = {
  stdout: (text: string): void => {
    process.stdout.write(text);
  },
  stderr: (text: string): void => {
    process.stderr.write(text);
  },
};

/** Machine output (stdout). */
export function out(text: string): void {
  studyCliIo.stdout(text.endsWith('\n') ? text : `${text}\n`);
}

/** Human text (stderr). */
export function note(text: string): void {
  studyCliIo.stderr(text.endsWith('\n') ? text : `${text}\n`);
}

export async function withStorage<T>(flags: StorageFlags, fn: (s: StudyStorage) => Promise<T>): Promise<T> {
  const storage = await openStorage(defaultStorageUrl(flags.storage));
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

export async function withStudy<T>(name: string, flags: StorageFlags, fn: (s: Study) => Promise<T>): Promise<T> {
  return withStorage(flags, async (storage) => fn(await loadStudy(name, { storage })));
}

export { intFlag, numFlag } from '../flags.js';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `-p name=value` pairs; values stay strings (the space validation coerces them). */
export function parseParams(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new DehbError('E_USAGE', `-p expects name=value (got "${p}")`);
    const name = p.slice(0, eq).trim();
    if (name in out) throw new DehbError('E_USAGE', `-p ${name} is given twice`);
    out[name] = p.slice(eq + 1);
  }
  return out;
}

export function isoTime(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

export function fmt(n: number | null | undefined): string {
  if (n === null || n === undefined) return '';
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : Number(n.toPrecision(6)).toString();
}
