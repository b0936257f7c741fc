/**
 * Owns encoding text lines straight into pooled off-heap Buffer chunks (1 MiB): a line's string
 * dies at once instead of waiting in the JS heap for a write or an fsync (where the garbage
 * collector would promote it to the old generation, which then grows with the number of trials).
 * `take()` hands the filled chunks over for one writev; `recycle()` returns them to the pool.
 */
const CHUNK = 1 << 20;
const POOL = 4;

export class LineChunks {
  private chunks: Buffer[] = [];
  private current: Buffer | null = null;
  private used = 0;
  private readonly pool: Buffer[] = [];
  /** Lines pushed since the last take(). */
  lines = 0;

  push(text: string): void {
    const need = Buffer.byteLength(text, 'utf8');
    if (this.current === null || this.used + need > this.current.length) {
      this.seal();
      this.current = need > CHUNK ? Buffer.allocUnsafeSlow(need) : (this.pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK));
      this.used = 0;
    }
    this.used += this.current.write(text, this.used, 'utf8');
    this.lines += 1;
  }

  /** The filled parts of every chunk since the last take(), in order. */
  take(): Buffer[] {
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    this.lines = 0;
    return out;
  }

  /** Gives chunks from take() back once written. */
  recycle(bufs: readonly Buffer[]): void {
    for (const b of bufs) {
      if (b.byteOffset === 0 && b.buffer.byteLength === CHUNK && this.pool.length < POOL) this.pool.push(Buffer.from(b.buffer, 0, CHUNK));
    }
  }

  private seal(): void {
    if (this.current !== null && this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
    else if (this.current !== null) this.pool.push(this.current);
    this.current = null;
    this.used = 0;
  }
}
