/**
 * Owns the one `--max-trials` rule of a worker's evaluation slots, for both ways a worker takes
 * trials (the cluster worker runtime's BullMQ jobs, a directory study's local queue): at most
 * `max` results, counting the trials running now, so a slot starts a trial only while results +
 * running < max. A trial that ends without a result (handed back, claim or lock lost, cancelled)
 * gives its place back; `signal` aborts once `max` results are in, for good.
 */
export class TrialQuota {
  private results = 0;
  private running = 0;
  private readonly used = new AbortController();

  /** `max` undefined: no limit. */
  constructor(readonly max?: number) {}

  /** Aborted once `max` results are in. */
  get signal(): AbortSignal {
    return this.used.signal;
  }

  /** Results so far. */
  get count(): number {
    return this.results;
  }

  /** Trials that may still start now. */
  get room(): number {
    return this.max === undefined ? Infinity : Math.max(0, this.max - this.results - this.running);
  }

  /** Takes a place for one trial about to start; false when none is left. */
  take(): boolean {
    if (this.room === 0) return false;
    this.running++;
    return true;
  }

  /** A trial taken with `take` ended: with a result (counted) or without one (its place is free again). */
  settle(result: boolean): void {
    this.running = Math.max(0, this.running - 1);
    if (!result) return;
    this.results++;
    if (this.max !== undefined && this.results >= this.max) this.used.abort();
  }
}
