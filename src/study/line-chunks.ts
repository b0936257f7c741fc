/**
 * Owns encoding text lines straight into off-heap Buffer chunks (256 KiB): a line's string dies at
 * once instead of waiting in the JS heap for a write or an fsync (where the garbage collector would
 * promote it to the old generation, which then grows with the number of trials).
 * `take()` hands over the bytes written since the last take, as views into the chunks, for one
 * writev; later lines go on after them in the same chunk, so a take costs no new memory and a
 * chunk is allocated per 256 KiB of text, not per write. A full chunk is dropped and freed once the
 * last view of it has been written.
 */
const CHUNK = 256 * 1024;

export class LineChunks {
  private taken: Buffer[] = [];
  private current: Buffer | null = null;
  /** Where the bytes not handed out yet start in `current`. */
  private start = 0;
  private used = 0;
  /** Lines pushed since the last take(). */
  lines = 0;

  push(text: string): void {
    const need = Buffer.byteLength(text, 'utf8');
    if (this.current === null || this.used + need > this.current.length) {
      this.seal();
      this.current = Buffer.allocUnsafeSlow(Math.max(need, CHUNK));
      this.start = 0;
      this.used = 0;
    }
    this.used += this.current.write(text, this.used, 'utf8');
    this.lines += 1;
  }

  /** The bytes of every line since the last take(), in order. */
  take(): Buffer[] {
    this.seal();
    const out = this.taken;
    this.taken = [];
    this.lines = 0;
    return out;
  }

  private seal(): void {
    if (this.current !== null && this.used > this.start) this.taken.push(this.current.subarray(this.start, this.used));
    this.start = this.used;
  }
}
