/**
 * The study queue as an Executor backend: what a study's lease holder hands its run loop when the
 * trials are evaluated by the processes sharing the study (this one's StudyWorkers included).
 * `submit` makes the `asked` entry durable, queues the trial in the study storage, and resolves
 * with the outcome once the worker that claimed it has journaled its `told` entry.
 *
 * Results are handed to the run loop strictly in journal order, so the lease holder's optimizer
 * applies them in the order a replay will (replay.ts). Pushed configurations appended by
 * `dehb push` are applied to the session as they are read. The journal is read when this process
 * says something changed (`kick`), and otherwise every `pollMs` while trials are out (results of
 * other processes), never while nothing is due.
 *
 * capacity = trials running anywhere + max(queueAhead, idle local slots): `queueAhead` unclaimed
 * trials wait for other processes; with queueAhead 0 a single process asks exactly as `dehb run`.
 */
import { DehbError } from '../errors.js';
import type { TrialResult } from '../dehb/types.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../protocol/executor.js';
import type { JournalBackend, StoredEntry } from './journal-types.js';
import type { RunSession } from './run-session.js';
import { localQueue, type LocalStudyQueue, type StudyStorage } from './storage.js';

export interface StudyQueueExecutorOptions {
  storage: StudyStorage;
  study: string;
  /** A reader of the study journal. */
  journal: JournalBackend;
  /** Entries up to this seq are already in the session. */
  fromSeq: number;
  /** Set with `attach` before the first submit. */
  queueAhead: number;
  /** Idle evaluation slots of this process. */
  idleSlots: () => number;
  /** Graceful stop: unclaimed trials resolve cancelled (they stay queued and journaled pending). */
  stopSignal?: AbortSignal;
  /** Journal reads while trials are out and nothing is said. Default 100 ms. */
  pollMs?: number;
  /** Called after trials were queued (so local slots claim at once). */
  onQueued?: () => void;
}

interface Waiting {
  task: EvalTask;
  resolve: (o: EvalOutcome) => void;
}

export class StudyQueueExecutor implements Executor {
  private session: RunSession | null = null;
  private readSeq: number;
  private readonly waiting = new Map<number, Waiting>();
  private readonly running = new Set<number>();
  /** Told entries read but not handed to the loop yet, in journal order. */
  private readonly results: Array<{ trialId: number; outcome: EvalOutcome }> = [];
  private readonly seen = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private listeners: Array<() => void> = [];
  private failure: unknown = null;
  private closed = false;
  private delivering = false;

  private readonly queue: LocalStudyQueue;

  constructor(private readonly opts: StudyQueueExecutorOptions) {
    this.queue = localQueue(opts.storage);
    this.readSeq = opts.fromSeq;
    opts.stopSignal?.addEventListener('abort', () => this.cancelUnclaimed(), { once: true });
  }

  /** The session the loop drives (pushes are applied to it; its asks are flushed before queueing). */
  attach(session: RunSession): void {
    this.session = session;
    for (const job of session.resumedPending) {
      // results journaled before this session replayed are in its history already
      if (session.history.get(job.trialId)?.status === 'running') this.running.add(job.trialId);
    }
  }

  get capacity(): number {
    const held = this.results.filter((r) => !this.waiting.has(r.trialId)).length;
    return Math.max(1, this.running.size + held + Math.max(this.opts.queueAhead, this.opts.idleSlots()));
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
    await this.session?.flush(); // the `asked` entry is durable before anyone can claim the trial
    await this.queue.enqueue(this.opts.study, [
      { trialId: task.trialId, priority: task.extra?.manual === true ? 0 : 1, config: task.config, fidelity: task.fidelity },
    ]);
    if (opts.signal?.aborted === true || this.closed) return { status: 'cancelled', reason: 'cancelled' };
    if (this.opts.stopSignal?.aborted === true && !this.running.has(task.trialId)) return { status: 'cancelled', reason: 'stopped' };
    // registered only now, when this call returns: a result settles a promise the loop already holds
    const outcome = new Promise<EvalOutcome>((resolve) => this.waiting.set(task.trialId, { task, resolve }));
    const kill = (): void => this.settle(task.trialId, { status: 'cancelled', reason: 'cancelled' });
    opts.signal?.addEventListener('abort', kill, { once: true });
    this.opts.onQueued?.();
    this.kick();
    return outcome.finally(() => opts.signal?.removeEventListener('abort', kill));
  }

  /** A local worker journaled `started` for a trial: it counts as running without a journal read. */
  started(trialId: number): void {
    if (this.seen.has(trialId) || this.running.has(trialId)) return;
    this.running.add(trialId);
    for (const l of this.listeners) l();
  }

  /** Reads the journal now (a local worker told a trial). */
  kick(): void {
    if (this.reading !== null) {
      this.again = true;
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.reading = this.read()
      .catch((err: unknown) => {
        this.failure ??= err;
        for (const w of [...this.waiting.values()]) w.resolve({ status: 'cancelled', reason: 'journal unreadable' });
      })
      .finally(() => {
        this.reading = null;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.schedule();
      });
  }

  /** An error reading the journal, if one happened (the loop then treats its trials as cancelled). */
  get error(): unknown {
    return this.failure;
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
  }

  private schedule(): void {
    if (this.closed || this.failure !== null || this.timer !== null || this.waiting.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.opts.pollMs ?? 100);
  }

  private async read(): Promise<void> {
    const entries = await this.opts.journal.read(this.readSeq + 1);
    if (entries.length === 0) return this.deliver(); // a result held for a trial submitted since
    this.readSeq = (entries[entries.length - 1] as StoredEntry).seq;
    let changed = false;
    for (const e of entries) {
      if (e.type === 'started') {
        if (!this.seen.has(e.trialId) && !this.running.has(e.trialId)) changed = true;
        this.running.add(e.trialId);
      } else if (e.type === 'told' && !this.seen.has(e.trialId)) {
        this.seen.add(e.trialId);
        this.running.delete(e.trialId);
        if (this.session?.pendingJob(e.trialId) !== undefined) {
          this.results.push({ trialId: e.trialId, outcome: outcomeOf(e.result, e) });
          changed = true;
        }
      } else if (e.type === 'pushed') {
        this.session?.push(e.config, e.fidelity); // the LeaderJournal drops the echo
        changed = true;
      }
    }
    this.deliver();
    if (changed) for (const l of this.listeners) l();
  }

  /**
   * Hands results to the loop in journal order, one per turn of the event loop (the loop tells
   * the session inside the promise jobs of one, so the next cannot overtake it); stops at one the
   * loop has not submitted yet.
   */
  private deliver(): void {
    const head = this.results[0];
    if (head === undefined || !this.waiting.has(head.trialId) || this.delivering) return;
    this.results.shift();
    this.settle(head.trialId, head.outcome);
    this.delivering = true;
    setImmediate(() => {
      this.delivering = false;
      this.deliver();
    });
  }

  private settle(trialId: number, outcome: EvalOutcome): void {
    const w = this.waiting.get(trialId);
    if (w === undefined) return;
    this.waiting.delete(trialId);
    w.resolve(outcome);
  }

  private cancelUnclaimed(): void {
    for (const id of [...this.waiting.keys()]) {
      if (!this.running.has(id) && !this.results.some((r) => r.trialId === id)) this.settle(id, { status: 'cancelled', reason: 'stopped' });
    }
  }
}

/** The outcome a journaled result stands for (the loop turns it back into the same TrialResult). */
function outcomeOf(r: TrialResult, e: { worker?: EvalOutcome['worker']; durationMs?: number }): EvalOutcome {
  const extra = { ...(e.worker === undefined ? {} : { worker: e.worker }), ...(e.durationMs === undefined ? {} : { durationMs: e.durationMs }) };
  const error = r.error ?? { message: r.status };
  switch (r.status) {
    case 'ok':
      return { status: 'ok', fitness: r.fitness as number, ...(r.cost === undefined ? {} : { cost: r.cost }), ...(r.info === undefined ? {} : { info: r.info }), ...extra };
    case 'timed-out':
      return { status: 'timed-out', timeoutMs: Number(/(\d+) ms/.exec(error.message)?.[1] ?? 0), ...extra };
    case 'cancelled':
      return { status: 'cancelled', reason: error.message, ...extra };
    default:
      return { status: 'failed', error: { name: error.name ?? 'Error', message: error.message, ...(error.code === undefined ? {} : { code: error.code }) }, retryable: false, ...extra };
  }
}
