/**
 * The local study queue as an Executor backend: what a directory (or in-memory) study's lease
 * holder hands its run loop, as a Redis study's holder hands it the BullMQ executor. `submit`
 * makes the `asked` entry durable and queues the trial; a worker of any process sharing the study
 * claims it, journals `started` and its live `report`s (the file journal takes appends from any
 * number of processes), evaluates it and leaves the outcome in the queue (study-worker.ts); this executor
 * reads it back, validates it with the one outcome schema (the queue is a file other processes
 * write: an unusable outcome resolves as a retryable failure naming the problem, so the run
 * loop's retry policy decides), and resolves `submit` with it. The run loop journals `told` and
 * then calls `recorded`, which removes the task. A done task outlives a lease holder that died
 * before journaling it: the next one re-submits the trial and gets the stored outcome back.
 *
 * The queue is read when this process says something changed (`kick`: one of its workers
 * finished), and otherwise every `pollMs` while trials are out, never while nothing is due; the
 * same read applies pushes appended by `dehb push` to the session.
 *
 * capacity = trials running anywhere + max(queueAhead, idle local slots): `queueAhead` unclaimed
 * trials wait for other processes; with queueAhead 0 a single process asks exactly as `dehb run`.
 * Running here is what this process's slots say (at once), running elsewhere the claims the last
 * read saw of other workers, so a stale read never counts a finished local trial as running.
 */
import { DehbError } from '../errors.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../protocol/executor.js';
import { trialJobId } from '../protocol/job-ids.js';
import type { JournalBackend, StoredEntry } from './journal-types.js';
import type { RunSession } from './run-session.js';
import { localQueue, studyRunId, type LocalStudyQueue, type QueueResults, type StudyStorage } from './storage.js';

/** protocol/wire.js once the first read has loaded it (lazily: zod stays out of commands that never read a queue). */
let wireModule: Promise<typeof import('../protocol/wire.js')> | undefined;

export interface StudyQueueExecutorOptions {
  /** The session the loop drives (pushes are applied to it; its asks are flushed before queueing). */
  session: RunSession;
  storage: StudyStorage;
  study: string;
  /** A reader of the study journal (for pushes). */
  journal: JournalBackend;
  /** Entries up to this seq are already in the session. */
  fromSeq: number;
  queueAhead: number;
  /** This process's worker id (its claims) and its busy and idle evaluation slots. */
  workerId: string;
  busySlots: () => number;
  idleSlots: () => number;
  /** Graceful stop: unclaimed trials resolve cancelled (they stay queued and journaled pending). */
  stopSignal?: AbortSignal;
  /** Reads while trials are out and nothing is said. Default 100 ms. */
  pollMs?: number;
  /** Called after trials were queued (so local slots claim at once). */
  onQueued?: () => void;
  log?: (msg: string) => void;
}

interface Waiting {
  resolve: (o: EvalOutcome) => void;
  reject: (err: unknown) => void;
}

export class StudyQueueExecutor implements Executor {
  private readSeq: number;
  private readonly waiting = new Map<number, Waiting>();
  /** Submitted trials claimed as of the last read (or by a local slot since), and by whom. */
  private readonly claimed = new Map<number, string>();
  /** Outcomes handed to the loop and not recorded yet: submitted again, the trial runs again. */
  private readonly delivered = new Set<number>();
  private recordedIds: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private listeners: Array<() => void> = [];
  private closed = false;
  private readonly queue: LocalStudyQueue;

  constructor(private readonly opts: StudyQueueExecutorOptions) {
    this.queue = localQueue(opts.storage);
    this.readSeq = opts.fromSeq;
    opts.stopSignal?.addEventListener('abort', () => this.cancelUnclaimed(), { once: true });
  }

  get capacity(): number {
    let elsewhere = 0;
    for (const w of this.claimed.values()) if (w !== this.opts.workerId) elsewhere++;
    return Math.max(1, elsewhere + this.opts.busySlots() + Math.max(this.opts.queueAhead, this.opts.idleSlots()));
  }

  /** The loop's wake-up: called when capacity grew or new work (a push) arrived. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  async submit(task: EvalTask, opts: SubmitOptions = {}): Promise<EvalOutcome> {
    if (this.closed) throw new DehbError('E_EXECUTOR', 'the study queue executor is closed');
    await this.opts.session.flush(); // the `asked` entry is durable before anyone can claim the trial
    // tasks whose results are journaled leave with this write; so does the done task of a trial
    // whose outcome the loop already had, which runs again (a retry)
    const drop = this.recordedIds.splice(0);
    if (this.delivered.delete(task.trialId)) drop.push(task.trialId);
    const queued = { trialId: task.trialId, priority: task.extra?.manual === true ? 0 : 1, config: task.config, fidelity: task.fidelity };
    await this.queue.enqueue(this.opts.study, [queued], drop);
    if (opts.signal?.aborted === true || this.closed) return { status: 'cancelled', reason: 'cancelled' };
    if (this.opts.stopSignal?.aborted === true && !this.claimed.has(task.trialId)) return { status: 'cancelled', reason: 'stopped' };
    const outcome = new Promise<EvalOutcome>((resolve, reject) => this.waiting.set(task.trialId, { resolve, reject }));
    const kill = (): void => this.settle(task.trialId, { status: 'cancelled', reason: 'cancelled' });
    opts.signal?.addEventListener('abort', kill, { once: true });
    this.opts.onQueued?.();
    this.kick();
    return outcome.finally(() => opts.signal?.removeEventListener('abort', kill));
  }

  /** The run loop journaled the trial's result: its task leaves the queue with the next write. */
  recorded(task: EvalTask): void {
    this.delivered.delete(task.trialId);
    this.recordedIds.push(task.trialId);
  }

  /** A local slot claimed a trial: it is not left unclaimed on a stop, and capacity may have grown. */
  started(trialId: number): void {
    if (this.waiting.has(trialId)) this.claimed.set(trialId, this.opts.workerId);
    for (const l of this.listeners) l();
  }

  /** Reads the queue and the journal now (a local worker finished a trial). */
  kick(): void {
    if (this.reading !== null) {
      this.again = true;
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.reading = this.read()
      .catch((err: unknown) => {
        // an unreadable queue or journal is an infrastructure fault, never a trial's result
        for (const [id, w] of [...this.waiting]) {
          this.waiting.delete(id);
          w.reject(err);
        }
      })
      .finally(() => {
        this.reading = null;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.schedule();
      });
  }

  /** Every submitted trial resolves cancelled (the lease was lost); they stay queued. */
  abandon(): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, { status: 'cancelled', reason: 'lease lost' });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.reading;
    if (this.timer !== null) clearTimeout(this.timer);
    this.abandon();
    const drop = this.recordedIds.splice(0);
    // one left behind (a crash) is dropped by the next lease holder's first read
    if (drop.length > 0) await this.queue.enqueue(this.opts.study, [], drop).catch((err: unknown) => this.opts.log?.(`study queue: ${(err as Error).message}`));
  }

  private schedule(): void {
    if (this.closed || this.timer !== null || this.waiting.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.opts.pollMs ?? 100);
  }

  private async read(): Promise<void> {
    // the outcome schema (zod) loads with the first read, not with every CLI command that can start a study
    const [results, entries, wire] = await Promise.all([this.queue.results(this.opts.study), this.opts.journal.read(this.readSeq + 1), (wireModule ??= import('../protocol/wire.js'))]);
    let changed = this.applyPushes(entries);
    changed = this.applyClaims(results) || changed;
    // stopping: a trial handed back at the end of a grace period is not claimed any more; it stays pending
    if (this.opts.stopSignal?.aborted === true) this.cancelUnclaimed(results);
    for (const d of results.done) {
      if (this.waiting.has(d.trialId)) this.deliver(d, wire);
      // a done task of a trial already journaled (its removal was lost): it leaves with the next write
      else if (this.opts.session.pendingJob(d.trialId) === undefined && !this.delivered.has(d.trialId) && !this.recordedIds.includes(d.trialId)) this.recordedIds.push(d.trialId);
    }
    if (changed) for (const l of this.listeners) l();
  }

  private applyPushes(entries: StoredEntry[]): boolean {
    if (entries.length > 0) this.readSeq = (entries[entries.length - 1] as StoredEntry).seq;
    let changed = false;
    for (const e of entries) {
      if (e.type !== 'pushed') continue;
      this.opts.session.push(e.config, e.fidelity); // the LeaderJournal drops the echo
      changed = true;
    }
    return changed;
  }

  /** Whether more of the submitted trials are claimed than before (capacity may have grown). */
  private applyClaims(results: QueueResults): boolean {
    const before = this.claimed.size;
    this.claimed.clear();
    for (const c of results.claimed) if (this.waiting.has(c.trialId)) this.claimed.set(c.trialId, c.workerId);
    return this.claimed.size > before;
  }

  /** Settles a trial with the outcome its worker left, validated (its reports the worker journaled live). */
  private deliver(d: QueueResults['done'][number], { parseOutcome, invalidOutcome }: typeof import('../protocol/wire.js')): void {
    const p = parseOutcome(d.outcome);
    if (!p.ok) {
      this.opts.log?.(`study queue: worker ${d.workerId} left an unusable outcome for trial ${d.trialId} (${p.message}); refused`);
      this.delivered.add(d.trialId);
      const refused = invalidOutcome(trialJobId(studyRunId(this.opts.study), d.trialId), p.message);
      this.settle(d.trialId, refused.status === 'failed' ? { ...refused, retryable: true } : refused);
      return;
    }
    const { reports: _journaledByTheWorker, ...outcome } = p.value;
    // a garbled queued task the queue refused at claim time (queue-ops.ts): said once, run again by the retry policy
    if (outcome.status === 'failed' && outcome.error.code === 'E_STUDY') this.opts.log?.(`study queue: ${outcome.error.message}`);
    this.delivered.add(d.trialId);
    this.settle(d.trialId, outcome);
  }

  private settle(trialId: number, outcome: EvalOutcome): void {
    const w = this.waiting.get(trialId);
    if (w === undefined) return;
    this.waiting.delete(trialId);
    this.claimed.delete(trialId);
    w.resolve(outcome);
  }

  /** With `results`: only trials that read shows neither claimed nor done (a done one is delivered). */
  private cancelUnclaimed(results?: QueueResults): void {
    const done = new Set(results?.done.map((d) => d.trialId));
    for (const id of [...this.waiting.keys()]) if (!this.claimed.has(id) && !done.has(id)) this.settle(id, { status: 'cancelled', reason: 'stopped' });
  }
}
