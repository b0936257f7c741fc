/**
 * The leader of a study: the one process (per study, at a time) that holds the storage lease and
 * runs the optimizer. On acquiring the lease it replays the whole journal (replay.ts), re-queues
 * trials that were asked but never told (a dead leader may have journaled them without queueing
 * them), and records its budget. Each tick it reads new journal entries (results appended by any
 * worker, pushes from `dehb push`) and feeds them to the optimizer in journal order, checks the
 * budget, and asks for more trials: `asked` entries are appended fenced by the lease
 * (appendAsLeader), then queued — pushed trials with priority 0 so workers take them first.
 *
 * Budgets are totals over the study: fevals = told trials, brackets = bracket ids below N,
 * runtime = wall clock of this invocation. Kind `manual` studies also finish when nothing is left
 * to do. A leader whose lease renewal or fenced append fails steps down at once.
 */
import { DehbError, isDehbError } from '../errors.js';
import { ask, nextBracketId } from '../dehb/optimizer.js';
import type { DehbState, Job } from '../dehb/types.js';
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';
import { replayOrRetell, type Replayer } from './replay.js';
import type { QueueTask, StudyStorage } from './storage.js';

export interface LeaderBudget {
  fevals?: number;
  brackets?: number;
  /** Absolute deadline (ms since epoch) of a runtime budget. */
  deadline?: number;
  /** The budget as the user gave it (recorded in the journal). */
  given?: { fevals?: number; brackets?: number; runtimeMs?: number };
}

export interface LeaderOptions {
  leaseTtlMs: number;
  /** null: only turn pushed configurations into trials, then report done (used by `dehb push`). */
  budget: LeaderBudget | null;
  /** Keep at most this many unclaimed optimizer trials in the queue. */
  queueAhead: number;
  now?: () => number;
  log?: (msg: string) => void;
}

export type LeaderTick =
  | { leading: false }
  | { leading: true; done: false; asked: number }
  | { leading: true; done: true; reason: string };

export function toQueueTask(job: Job): QueueTask {
  return { trialId: job.trialId, priority: job.source === 'manual' ? 0 : 1, config: job.config, fidelity: job.fidelity };
}

export class StudyLeader {
  private replayer: Replayer | null = null;
  private journal: JournalBackend | null = null;
  private readSeq = 0;
  private renewAt = 0;
  private finishedRecorded = false;

  constructor(
    private readonly storage: StudyStorage,
    private readonly study: string,
    readonly holder: string,
    private readonly opts: LeaderOptions,
  ) {}

  get leading(): boolean {
    return this.replayer !== null;
  }

  /** The optimizer state while leading (read-only use). */
  get state(): DehbState | null {
    return this.replayer?.state ?? null;
  }

  async tick(): Promise<LeaderTick> {
    const now = this.opts.now ?? Date.now;
    try {
      if (this.replayer === null) {
        const lease = await this.storage.getLease(this.study); // lock-free look first
        if (lease !== null && lease.holder !== this.holder) return { leading: false };
        if (!(await this.storage.acquireLease(this.study, this.holder, this.opts.leaseTtlMs))) return { leading: false };
        await this.becomeLeader();
      } else if (now() >= this.renewAt) {
        if (!(await this.storage.renewLease(this.study, this.holder, this.opts.leaseTtlMs))) {
          this.stepDown('the lease could not be renewed');
          return { leading: false };
        }
        this.renewAt = now() + this.opts.leaseTtlMs / 3;
      }
      await this.sync();
      const r = this.replayer as Replayer;
      r.drain();
      const state = r.state as DehbState;
      const done = this.doneReason(state);
      if (done !== null) {
        if (!this.finishedRecorded && this.opts.budget !== null) {
          await this.storage.appendAsLeader(this.study, this.holder, [{ type: 'finished', reason: done }]);
          this.finishedRecorded = true;
        }
        return { leading: true, done: true, reason: done };
      }
      const asked = await this.askMore(state);
      return { leading: true, done: false, asked };
    } catch (err) {
      if (isDehbError(err, 'E_STUDY') && err.details?.reason === 'lease-lost') {
        this.stepDown('another process took the lease');
        return { leading: false };
      }
      throw err;
    }
  }

  /** Gives the lease up (after a finished run, or on shutdown). */
  async release(): Promise<void> {
    if (this.replayer !== null) {
      this.stepDown('released');
      await this.storage.releaseLease(this.study, this.holder).catch(() => undefined);
    }
    if (this.journal !== null) {
      await this.journal.close();
      this.journal = null;
    }
  }

  private stepDown(why: string): void {
    if (this.replayer !== null && why !== 'released') this.opts.log?.(`leader ${this.holder}: stepping down (${why})`);
    this.replayer = null;
    this.readSeq = 0;
    this.finishedRecorded = false;
  }

  private async becomeLeader(): Promise<void> {
    const now = this.opts.now ?? Date.now;
    this.renewAt = now() + this.opts.leaseTtlMs / 3;
    this.journal ??= await this.storage.journal(this.study);
    const entries = await this.journal.read(1);
    // a journal of another optimizer version is re-told, and that state journaled for later leaders
    const { replayer: r, retold, warning } = replayOrRetell(entries, `study "${this.study}"`);
    if (retold !== null) await this.storage.appendAsLeader(this.study, this.holder, [retold]);
    if (warning !== null) this.opts.log?.(`leader ${this.holder}: warning: ${warning}`);
    this.replayer = r;
    this.readSeq = entries.length === 0 ? 0 : (entries[entries.length - 1] as StoredEntry).seq;
    const state = r.state as DehbState;
    const pending = Object.values(state.pending).sort((a, b) => a.trialId - b.trialId);
    if (pending.length > 0) await this.storage.enqueue(this.study, pending.map(toQueueTask));
    const budget = this.opts.budget;
    if (budget !== null) {
      this.checkBudget(state, budget);
      if (budget.given !== undefined) {
        await this.storage.appendAsLeader(this.study, this.holder, [{ type: 'budget', budget: budget.given }]);
      }
    }
    this.opts.log?.(`leader ${this.holder}: leading (replayed ${entries.length} entries, ${pending.length} pending trials)`);
  }

  private checkBudget(state: DehbState, budget: LeaderBudget): void {
    if (state.options.kind === 'random' && budget.brackets !== undefined) {
      throw new DehbError('E_USAGE', 'random studies have no brackets: give --fevals or --runtime');
    }
  }

  /** Feeds entries appended since the last read; our own `asked` entries are already applied. */
  private async sync(): Promise<void> {
    const r = this.replayer as Replayer;
    const entries = await (this.journal as JournalBackend).read(this.readSeq + 1);
    if (entries.length === 0) return;
    // Under the lease every `asked` entry after our replay point is ours (fenced appends).
    r.feed(entries.filter((e) => e.type !== 'asked'));
    this.readSeq = (entries[entries.length - 1] as StoredEntry).seq;
  }

  private doneReason(state: DehbState): string | null {
    const budget = this.opts.budget;
    const pending = Object.keys(state.pending).length;
    const idle = pending === 0 && state.manualQueue.length === 0;
    if (budget === null) return state.manualQueue.length === 0 ? 'pushes-queued' : null;
    if (budget.fevals !== undefined && state.told >= budget.fevals) return 'budget';
    if (budget.brackets !== undefined && idle && nextBracketId(state) >= budget.brackets) return 'budget';
    if (budget.deadline !== undefined && idle && (this.opts.now ?? Date.now)() >= budget.deadline) return 'budget';
    if (state.options.kind === 'manual' && idle) return 'no-work';
    return null;
  }

  private mayAskOptimizerJob(state: DehbState, extra: number): boolean {
    const budget = this.opts.budget;
    if (budget === null || state.options.kind === 'manual') return false;
    if (budget.fevals !== undefined) return state.told + Object.keys(state.pending).length + extra < budget.fevals;
    if (budget.deadline !== undefined) return (this.opts.now ?? Date.now)() < budget.deadline;
    return true;
  }

  private async askMore(state: DehbState): Promise<number> {
    const r = this.replayer as Replayer;
    const jobs: Job[] = [];
    // pushed configurations first, whatever the budget: the user asked for them explicitly
    while (state.manualQueue.length > 0) {
      const a = ask(state);
      if (!('job' in a)) break;
      jobs.push(a.job);
    }
    if (this.opts.budget !== null && state.options.kind !== 'manual') {
      const { queued } = await this.storage.queueStats(this.study);
      let room = this.opts.queueAhead - queued;
      const maxBrackets = this.opts.budget.brackets;
      while (room > 0 && this.mayAskOptimizerJob(state, 0)) {
        const a = ask(state, maxBrackets === undefined ? {} : { maxBrackets });
        if (!('job' in a)) break;
        jobs.push(a.job);
        room--;
      }
    }
    if (jobs.length === 0) return 0;
    const applied = { ...r.applied };
    const at = Date.now();
    for (const job of jobs) r.history.onAsked(job, at);
    const entries: JournalEntry[] = jobs.map((job) => ({ type: 'asked', trialId: job.trialId, job, applied }));
    await this.storage.appendAsLeader(this.study, this.holder, entries);
    await this.storage.enqueue(this.study, jobs.map(toQueueTask));
    return jobs.length;
  }
}
