/**
 * Owns encoding text lines straight into off-heap Buffer chunks (256 KiB): a line's string dies at
 * once instead of waiting in the JS heap for a write or an fsync (where the garbage collector would
 * promote it to the old generation, which then grows with the number of trials).
 * `take()` hands over the bytes written since the last take, as views into the chunks, for one
 * writev; later lines go on after them in the same chunk, so a take costs no new memory.
 * `written()` says the oldest take not yet acknowledged is on its way to disk (its bytes were
 * copied into the kernel): the chunks that filled up before it are then reused for later lines
 * instead of being left to the garbage collector (freed only by a full collection, so a run's
 * external memory grew with its length). A writer that calls take() and written() in order keeps
 * a handful of chunks for the life of a run; one that never calls written() still works (full
 * chunks are left to the collector).
 */
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 256 * 1024;
/** Free chunks kept for reuse at most. */
const KEEP = 4;

export class LineChunks {
  private taken: Buffer[] = [];
  private current: Buffer | null = null;
  /** Where the bytes not handed out yet start in `current`. */
  private start = 0;
  private used = 0;
  /** Full chunks whose last bytes are not taken yet / in each take not yet written (oldest first). */
  private full: Buffer[] = [];
  private unwritten: Buffer[][] = [];
  private readonly free: Buffer[] = [];
  /** Lines pushed since the last take(). */
  lines = 0;

  push(text: string): void {
    const cur = this.current;
    // a string's UTF-8 bytes are at most 3 per UTF-16 unit: most lines skip the exact count
    if (cur !== null && this.used + text.length * 3 <= cur.length) {
      this.used += cur.write(text, this.used);
      this.lines += 1;
      return;
    }
    const need = Buffer.byteLength(text, 'utf8');
    if (cur === null || this.used + need > cur.length) this.next(need);
    this.used += (this.current as Buffer).write(text, this.used);
    this.lines += 1;
  }

  /**
   * Pushes the journal line `{"seq":S,"at":T,"v":V,<the members of json>}\n` (json: an object's
   * JSON text, not empty). The numbers are written as digits straight into the chunk: a string
   * made of them (String(n), a template) would go through V8's number-string cache, whose entries
   * outlive young-generation collections and so become old-generation garbage per line.
   */
  pushEntry(seq: number, at: number, v: number, json: string): void {
    const room = 64 + json.length * 3; // the three numbers and their keys take at most ~55 bytes
    if (this.current === null || this.used + room > this.current.length) {
      this.next(room);
    }
    const b = this.current as Buffer;
    let o = this.used;
    o = ascii(b, o, '{"seq":');
    o = digits(b, o, seq);
    o = ascii(b, o, ',"at":');
    o = digits(b, o, at);
    o = ascii(b, o, ',"v":');
    o = digits(b, o, v);
    b[o++] = 0x2c; // ','
    o += b.write(json.slice(1), o);
    b[o++] = 0x0a;
    this.used = o;
    this.lines += 1;
  }

  /** The bytes of every line since the last take(), in order. */
  take(): Buffer[] {
    this.seal();
    const out = this.taken;
    this.taken = [];
    this.lines = 0;
    this.unwritten.push(this.full);
    this.full = [];
    return out;
  }

  /** The oldest take not yet acknowledged has been written: its full chunks may be reused. */
  written(): void {
    for (const b of this.unwritten.shift() ?? []) if (b.length === CHUNK && this.free.length < KEEP) this.free.push(b);
  }

  private next(need: number): void {
    this.seal();
    if (this.current !== null) this.full.push(this.current);
    this.current = (need <= CHUNK ? this.free.pop() : undefined) ?? Buffer.allocUnsafeSlow(Math.max(need, CHUNK));
    this.start = 0;
    this.used = 0;
  }

  private seal(): void {
    if (this.current !== null && this.used > this.start) this.taken.push(this.current.subarray(this.start, this.used));
    this.start = this.used;
  }
}

function ascii(b: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) b[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Writes a non-negative safe integer in decimal; returns the offset after it. */
function digits(b: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return at + b.write(JSON.stringify(n), at);
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  let x = n;
  for (let i = at + len - 1; i >= at; i--) {
    b[i] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  }
  return at + len;
}

/** Writes every buffer with writev (which may write part of them), at `position` or at the end (null). */
export async function writeAll(fh: FileHandle, chunks: Buffer[], position: number | null): Promise<void> {
  let bufs = chunks;
  let pos = position;
  while (bufs.length > 0) {
    let { bytesWritten } = pos === null ? await fh.writev(bufs) : await fh.writev(bufs, pos);
    if (pos !== null) pos += bytesWritten;
    const rest: Buffer[] = [];
    for (const b of bufs) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        rest.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    bufs = rest;
  }
}
