/**
 * Owns the coordinator's bookkeeping of submissions: one entry per job id with its promise and
 * phase (queued locally → being added → added), the local add queue flushed once per tick (so
 * many asks become one addBulk), settle-once semantics, and the set of jobs it gave up on
 * (cancelled or failed) whose late results must be cleaned up rather than recorded.
 */
import type { EvalOutcome, EvalTask, SubmitOptions } from '../../protocol/executor.js';
import type { WireOutcome } from '../../protocol/wire.js';

export interface Entry {
  jobId: string;
  task: EvalTask;
  promise: Promise<EvalOutcome>;
  resolve(outcome: EvalOutcome): void;
  reject(err: unknown): void;
  onReport?: (step: number, value: number) => void;
  /** Reports delivered from progress events so far (the outcome's `reports` supply the rest). */
  reportsSeen: number;
  cleanup?: () => void;
  /** requeueing: a finished job of this id is being removed before the trial is queued again. */
  phase: 'queued' | 'adding' | 'added' | 'requeueing';
  addedAt: number;
  cancelAfterAdd: boolean;
  settled: boolean;
  /** The BullMQ priority it was added with (fair share between runs). */
  priority?: number;
  /** The batch job carrying it (batches.ts), if any. */
  batch?: Batch | undefined;
  /** Never packed into a batch (handed back, queued again). */
  single?: boolean;
}

/** The id of the BullMQ job carrying the entry's trial: its batch job's, or its own. */
export function jobIdOf(e: Entry): string {
  return e.batch?.id ?? e.jobId;
}

/** A batch job (batches.ts): several trials of the run in one job. */
export interface Batch {
  id: string;
  /** Members submitted here, by trial id (settled ones stay until the batch is done with). */
  members: Map<number, Entry>;
  /** Member trial job ids the run has not recorded yet (the batch job is removed after the last). */
  unrecorded: Set<string>;
  priority?: number;
  addedAt: number;
  /** Found in the batch map of an earlier coordinator of the run (resume). */
  resumed: boolean;
}

export class PendingTable {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private readonly abandoned = new Map<string, number>();
  private flushScheduled = false;
  private drainWaiters: Array<() => void> = [];

  get size(): number {
    return this.entries.size;
  }

  get(jobId: string): Entry | undefined {
    return this.entries.get(jobId);
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  create(jobId: string, task: EvalTask, opts: SubmitOptions): Entry {
    let resolve!: (o: EvalOutcome) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<EvalOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry = { jobId, task, promise, resolve, reject, reportsSeen: 0, phase: 'queued', addedAt: 0, cancelAfterAdd: false, settled: false };
    if (opts.onReport !== undefined) entry.onReport = opts.onReport;
    this.entries.set(jobId, entry);
    this.abandoned.delete(jobId);
    return entry;
  }

  /** Queues the entry for the next flush (scheduled once per tick). */
  enqueue(entry: Entry, flush: () => void): void {
    entry.phase = 'queued';
    this.queue.push(entry);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      flush();
    });
  }

  requeue(entry: Entry, flush: () => void): void {
    entry.addedAt = 0;
    this.enqueue(entry, flush);
  }

  /** Up to n unsettled queued entries, marked as being added. */
  takeBatch(n: number): Entry[] {
    const out: Entry[] = [];
    while (out.length < n && this.queue.length > 0) {
      const e = this.queue.shift() as Entry;
      if (e.settled || e.phase !== 'queued') continue;
      e.phase = 'adding';
      out.push(e);
    }
    return out;
  }

  /** Resolves the entry once; first hands on the reports its progress events did not deliver. */
  settle(entry: Entry, outcome: WireOutcome): void {
    if (!this.finish(entry)) return;
    const { reports, ...rest } = outcome;
    for (const [step, value] of reports?.slice(entry.reportsSeen) ?? []) {
      try {
        entry.onReport?.(step, value);
      } catch {
        // a throwing report callback does not keep the outcome from its submitter
      }
    }
    entry.resolve(rest as EvalOutcome);
  }

  fail(entry: Entry, err: unknown): void {
    if (!this.finish(entry)) return;
    entry.reject(err);
  }

  private finish(entry: Entry): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    if (this.entries.get(entry.jobId) === entry) this.entries.delete(entry.jobId);
    entry.cleanup?.();
    if (this.entries.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
    return true;
  }

  /** Resolves when nothing is in flight. */
  drained(): Promise<void> {
    if (this.entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Remember a job we stopped waiting for: its late result is deleted, not recorded. */
  abandon(jobId: string): void {
    this.abandoned.set(jobId, Date.now());
  }

  /** True (and forgets it) when the job was abandoned. */
  unabandon(jobId: string): boolean {
    return this.abandoned.delete(jobId);
  }

  pruneAbandoned(olderThan: number): void {
    for (const [id, at] of this.abandoned) if (at < olderThan) this.abandoned.delete(id);
  }
}
