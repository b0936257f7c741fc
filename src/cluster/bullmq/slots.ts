/**
 * Owns a cluster worker's evaluation slots when it prefetches: BullMQ hands the worker up to
 * concurrency + prefetch jobs, and each waits here for one of `concurrency` slots before it runs,
 * first come first served. close() turns every waiting job away (the worker hands them back). A
 * batch job runs further trials in slots free when it starts (tryAcquire).
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<(ok: boolean) => void> = [];
  private closed = false;

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves true with a slot taken, or false once closed (no slot). */
  acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Takes a free slot now if there is one (a batch job's further trials: worker-batch.ts). */
  tryAcquire(): boolean {
    if (this.closed || this.free === 0) return false;
    this.free--;
    return true;
  }

  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(true);
    else this.free++;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(false);
  }
}
