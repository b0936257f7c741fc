/**
 * Group commit for journal appends: the first entry queued goes to the backend at once (one
 * append: one write and one fsync for a file); everything queued while that append is under way
 * goes in the next one, in order. So the window of a group is the previous group's fsync, the
 * number of fsyncs is bounded by the disk, not by the number of entries, and a caller that does
 * not wait (a slot freed as soon as its result is queued) never waits for an fsync.
 *
 * `post` queues an entry and returns its ticket (1, 2, ...); `durable(ticket)` resolves once that
 * entry is on disk. Nothing per entry waits for the disk unless someone asks, and for a line
 * backend (run-journal.ts) an entry is encoded into an off-heap chunk at once (line-chunks.ts),
 * so the JS heap holds nothing per queued entry.
 * A `started` entry without a worker (the run loop's) waits for the group it goes out with: if
 * the trial's `told` entry is posted before that group is taken (a trial that ended within one
 * fsync window), the two become one told entry carrying `startedAt`, so a fast trial costs two
 * entries, not three; a trial still running when the group goes out gets its started entry then,
 * last in the group. Waiting entries are kept as numbers in two typed arrays (trial id, time),
 * at most DEFER_MAX of them (more are written as they come), never as objects: what survives
 * scavenges makes V8 grow its young generation (+15-20 MB peak RSS at 50k trials). Started entries take no ticket (nobody waits for one);
 * `flush()` waits for them too.
 * After a failed append every later post and wait fails with that error.
 */
import { ENTRY_VERSION } from '../protocol/journal-versions.js';
import type { JournalBackend, JournalEntry } from './journal-types.js';
import { LineChunks } from './line-chunks.js';

/** A backend that takes whole encoded lines (`{"seq":N,"at":T,"v":..,...}\n`) numbered from lastSeq + 1. */
export interface LineBackend extends JournalBackend {
  readonly lastSeq: number;
  appendLines(chunks: Buffer[], firstSeq: number, count: number): Promise<number>;
}

function takesLines(b: JournalBackend): b is LineBackend {
  return typeof (b as Partial<LineBackend>).appendLines === 'function';
}

type ToldEntry = Extract<JournalEntry, { type: 'told' }>;

/** Started entries that may wait for their group at most (a window rarely holds more). */
const DEFER_MAX = 64;

interface Waiter {
  ticket: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class JournalWriter {
  private queue: JournalEntry[] = [];
  /** Started entries not written yet: their trial ids and when they were posted, `deferred` of them. */
  private readonly deferredIds = new Float64Array(DEFER_MAX);
  private readonly deferredAt = new Float64Array(DEFER_MAX);
  private deferred = 0;
  private readonly lines: LineChunks | null;
  private nextSeq = 0;
  private posted = 0;
  private committed = 0;
  private inFlight = 0;
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(private readonly backend: JournalBackend) {
    this.lines = takesLines(backend) ? new LineChunks() : null;
    if (takesLines(backend)) this.nextSeq = backend.lastSeq + 1;
  }

  /** Whether post() serialises the entry at once (so the caller may change it afterwards). */
  get encodesAtOnce(): boolean {
    return this.lines !== null;
  }

  /** Queues an entry for the next group (a told entry may get `startedAt`); returns its ticket for durable(). */
  post(entry: JournalEntry): number {
    if (this.failure !== null) return this.posted;
    if (entry.type === 'started' && entry.worker === undefined && this.deferred < DEFER_MAX) {
      // a retry starts the trial again: its first start is the one that waits
      if (this.waiting(entry.trialId) < 0) {
        this.deferredIds[this.deferred] = entry.trialId;
        this.deferredAt[this.deferred++] = Date.now();
      }
    } else {
      this.encode(entry.type === 'told' ? this.withStart(entry) : entry, Date.now());
      this.posted += 1;
    }
    if (this.flushing === null) this.flushing = this.loop();
    return this.posted;
  }

  /**
   * The told entry with its trial's started entry folded in, if that one is still waiting: the
   * entry itself gets `startedAt` (post() takes its entry). A copy (`{...entry}`) made V8 promote
   * three times the bytes per scavenge (--trace-gc-nvp: 12.7 vs 4.6 MB over 50k trials) and grow
   * its young generation.
   */
  private withStart(entry: ToldEntry): ToldEntry {
    const i = this.waiting(entry.trialId);
    if (i < 0) return entry;
    entry.startedAt = this.deferredAt[i] as number;
    // the last waiting entry takes its place
    const last = --this.deferred;
    this.deferredIds[i] = this.deferredIds[last] as number;
    this.deferredAt[i] = this.deferredAt[last] as number;
    return entry;
  }

  /** Where the waiting started entry of `trialId` is, or -1. */
  private waiting(trialId: number): number {
    for (let i = 0; i < this.deferred; i++) if (this.deferredIds[i] === trialId) return i;
    return -1;
  }

  private encode(entry: JournalEntry, at: number): void {
    // entries never hold seq, at or v: they are put first
    if (this.lines !== null) this.lines.pushEntry(this.nextSeq++, at, entry.v ?? ENTRY_VERSION[entry.type], JSON.stringify(entry));
    else this.queue.push(entry);
  }

  /** Resolves once the entry of `ticket` (and every one before it) is durable. */
  durable(ticket: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (ticket <= this.committed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ ticket, resolve, reject }));
  }

  /** Queues an entry; the promise resolves once it is durable. */
  write(entry: JournalEntry): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return this.durable(this.post(entry));
  }

  /** Entries queued or being written, not yet durable. */
  get backlog(): number {
    return this.queue.length + (this.lines?.lines ?? 0) + this.deferred + this.inFlight;
  }

  /** The error of a failed append, if one failed. */
  get failed(): unknown {
    return this.failure;
  }

  /** Resolves when everything queued so far is durable (rejects if a write failed). */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.failure !== null) throw this.failure;
  }

  private async loop(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.failure === null && this.queue.length + (this.lines?.lines ?? 0) + this.deferred > 0) {
        try {
          this.committed += await this.appendGroup();
          this.settle();
        } catch (err) {
          this.failure = err;
          this.queue = [];
          this.deferred = 0;
          this.settle();
        } finally {
          this.inFlight = 0;
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Writes everything queued as one group; returns how many ticketed entries it held. */
  private async appendGroup(): Promise<number> {
    const ticketed = this.lines?.lines ?? this.queue.length;
    for (let i = 0; i < this.deferred; i++) this.encode({ type: 'started', trialId: this.deferredIds[i] as number }, this.deferredAt[i] as number);
    this.deferred = 0;
    if (this.lines !== null) {
      const count = this.lines.lines;
      const chunks = this.lines.take();
      this.inFlight = count;
      await (this.backend as LineBackend).appendLines(chunks, this.nextSeq - count, count);
      this.lines.written();
      return ticketed;
    }
    const batch = this.queue;
    this.queue = [];
    this.inFlight = batch.length;
    await this.backend.append(batch);
    return ticketed;
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.failure !== null) w.reject(this.failure);
      else if (w.ticket <= this.committed) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }
}
