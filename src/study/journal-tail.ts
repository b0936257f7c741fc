/**
 * Reads a file journal from its end: the lines backwards in chunks, the last valid entry (where
 * the single writer resumes appending), and "the last snapshot and everything after it" (what
 * re-opening a run needs), so neither reads the whole history. The first line (`created`) is read
 * from the start. Lines are validated with zod like every read (protocol/journal-schemas.ts); the
 * seq of an entry is the one its writer stored (the single writer numbers lines by position).
 * A torn last line (unterminated, or invalid at the very end) is skipped, as in file-journal.ts.
 */
import { readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DehbError } from '../errors.js';
import type { StoredEntry } from './journal-types.js';
import { parseStoredLine } from '../protocol/journal-schemas.js';

const CHUNK = 1 << 20;
const NL = 0x0a;

export interface TailLine {
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Whether a newline terminates it (only the very last line can lack one). */
  terminated: boolean;
}

/** Lines of [0, end) from the last to the first; blank lines are skipped. */
export async function* linesBackward(fh: FileHandle, end: number): AsyncGenerator<TailLine> {
  let pos = end;
  let rest: Buffer = Buffer.alloc(0); // the start of a line whose beginning lies before `pos`
  let firstSegment = true; // the segment after the last newline is the only unterminated one
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const chunk = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(chunk, got, len - got, pos + got);
      if (bytesRead === 0) throw new DehbError('E_JOURNAL', 'the journal shrank while it was read');
      got += bytesRead;
    }
    const buf = rest.length > 0 ? Buffer.concat([chunk, rest]) : chunk;
    let stop = buf.length;
    for (let nl = buf.lastIndexOf(NL, stop - 1); nl !== -1; nl = stop > 0 ? buf.lastIndexOf(NL, stop - 1) : -1) {
      const terminated = !firstSegment;
      firstSegment = false;
      if (!isBlank(buf, nl + 1, stop)) yield { text: buf.toString('utf8', nl + 1, stop), offset: pos + nl + 1, terminated };
      stop = nl;
    }
    rest = Buffer.from(buf.subarray(0, stop));
  }
  if (!isBlank(rest, 0, rest.length)) yield { text: rest.toString('utf8'), offset: 0, terminated: !firstSegment };
}

function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

export interface JournalEnd {
  /** Byte offset just after the last valid line (where appends continue). */
  validEnd: number;
  /** Seq of the last valid entry (0 when empty). */
  lastSeq: number;
}

/** The last valid entry of the file; a torn tail after it is reported through validEnd < size. */
export async function findEnd(fh: FileHandle, path: string): Promise<JournalEnd> {
  const { size } = await fh.stat();
  let skipped = 0;
  for await (const line of linesBackward(fh, size)) {
    const parsed = parseStoredLine(line.text);
    if (parsed.ok && line.terminated) {
      return { validEnd: line.offset + Buffer.byteLength(line.text, 'utf8') + 1, lastSeq: parsed.entry.seq };
    }
    if (!parsed.ok && parsed.newer === true) throw new DehbError('E_JOURNAL', `${path}: ${parsed.reason}`);
    if (++skipped > 1) throw corrupted(path, parsed.ok ? 'unterminated line before the end' : parsed.reason);
  }
  return { validEnd: 0, lastSeq: 0 };
}

export interface LatestEntries {
  /** The first entry (`created`). */
  head: StoredEntry;
  /** From the last snapshot (inclusive) to the end; all entries when there is no snapshot. */
  entries: StoredEntry[];
  /** Whether `entries` starts at a snapshot. */
  fromSnapshot: boolean;
}

/**
 * The last snapshot and the entries after it, read backwards; null when the file is empty.
 * Falls back to null `fromSnapshot` (all entries) when there is no snapshot.
 */
export async function readLatest(fh: FileHandle, path: string): Promise<LatestEntries | null> {
  const { size } = await fh.stat();
  const tail: StoredEntry[] = [];
  let skippedTorn = false;
  let snapshot = false;
  for await (const line of linesBackward(fh, size)) {
    const parsed = parseStoredLine(line.text);
    if (!parsed.ok || !line.terminated) {
      if (parsed.ok === false && parsed.newer === true) throw new DehbError('E_JOURNAL', `${path}: ${parsed.reason}`);
      if (tail.length === 0 && !skippedTorn) {
        skippedTorn = true; // a torn last line
        continue;
      }
      throw corrupted(path, parsed.ok ? 'unterminated line before the end' : parsed.reason);
    }
    const e = parsed.entry;
    const next = tail[tail.length - 1];
    if (next !== undefined && e.seq !== next.seq - 1) {
      throw corrupted(path, `entry ${e.seq} is followed by entry ${next.seq}`);
    }
    tail.push(e);
    if (e.type === 'snapshot') {
      snapshot = true;
      break;
    }
  }
  if (tail.length === 0) return null;
  tail.reverse();
  let head = tail[0] as StoredEntry;
  if (snapshot) head = await readHead(fh, path);
  if (head.seq !== 1 || head.type !== 'created') {
    throw corrupted(path, 'the journal does not start with a "created" entry');
  }
  return { head, entries: tail, fromSnapshot: snapshot };
}

async function readHead(fh: FileHandle, path: string): Promise<StoredEntry> {
  let len = 64 * 1024;
  const { size } = await fh.stat();
  for (;;) {
    const n = Math.min(len, size);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    const nl = buf.subarray(0, bytesRead).indexOf(NL);
    if (nl >= 0) {
      const parsed = parseStoredLine(buf.toString('utf8', 0, nl));
      if (!parsed.ok) throw corrupted(path, parsed.reason);
      return parsed.entry;
    }
    if (n >= size) throw corrupted(path, 'no complete first line');
    len *= 4;
  }
}

function corrupted(path: string, reason: string): DehbError {
  return new DehbError(
    'E_JOURNAL',
    `${path}: corrupted journal (${reason}); only a torn last line is repaired automatically — fix or delete that line by hand`,
    { details: { file: path } },
  );
}

/** A line of a journal file read by scanJournalSync, not decoded yet. */
export interface RawLine {
  buf: Buffer;
  from: number;
  to: number;
}

const TYPE_KEY = Buffer.from('"type":"');

/**
 * Reads a whole journal file synchronously and hands each valid entry to `visit` without keeping
 * them (records read back on demand, `dehb show`). A torn last line is skipped; an invalid line
 * before the end is E_JOURNAL naming the line. With `want`, lines of other types are skipped
 * without being decoded (their type is read from the line's head), and lines of a type `want`
 * maps to 'raw' are handed to `raw` undecoded (whoever uses one parses it with parseStoredLine).
 */
export function scanJournalSync(
  path: string,
  visit: (e: StoredEntry) => void,
  opts: { want?: Partial<Record<StoredEntry['type'], 'parse' | 'raw'>>; raw?: (type: StoredEntry['type'], line: RawLine) => void } = {},
): void {
  const buf = readFileSync(path);
  let start = 0;
  let line = 0;
  let bad: { line: number; reason: string } | null = null;
  while (start < buf.length) {
    let nl = buf.indexOf(NL, start);
    const terminated = nl !== -1;
    if (!terminated) nl = buf.length;
    const from = start;
    start = nl + 1;
    line++;
    if (nl === from) continue; // blank
    if (opts.want !== undefined && buf[from] === 0x7b) {
      const type = peekTypeAt(buf, from, nl);
      const how = type === null ? 'parse' : opts.want[type];
      if (how !== 'parse') {
        if (bad !== null) throw corrupted(`${path}:${bad.line}`, bad.reason);
        if (how === 'raw' && terminated) opts.raw?.(type as StoredEntry['type'], { buf, from, to: nl });
        continue;
      }
    }
    if (isBlank(buf, from, nl)) continue;
    if (bad !== null) throw corrupted(`${path}:${bad.line}`, bad.reason);
    const parsed = parseStoredLine(buf.toString('utf8', from, nl));
    if (!parsed.ok) {
      if (parsed.newer === true) throw new DehbError('E_JOURNAL', `${path}:${line}: ${parsed.reason}`);
      bad = { line, reason: parsed.reason }; // tolerated only as the last line
      continue;
    }
    if (!terminated) continue; // an unterminated last line is torn even if it parses
    visit(parsed.entry);
  }
}

/** The `type` of a journal line as its writers put it (`{"seq":..,"at":..,"v":..,"type":"X"`), or null. */
function peekTypeAt(buf: Buffer, from: number, to: number): StoredEntry['type'] | null {
  const i = buf.indexOf(TYPE_KEY, from);
  if (i < 0 || i - from > 80 || i >= to) return null;
  const j = buf.indexOf(0x22, i + TYPE_KEY.length);
  return j < 0 || j >= to ? null : (buf.toString('latin1', i + TYPE_KEY.length, j) as StoredEntry['type']);
}
