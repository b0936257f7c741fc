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
