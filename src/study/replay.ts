/**
 * Rebuilds a run from its journal: optimizer state (bit for bit, because the optimizer is pure),
 * trial history, pending trials (asked, never told) and the last recorded budget.
 *
 * Told and pushed entries are applied in journal order, but lazily: an asked entry says how many
 * of each the optimizer had applied when it asked, and replay applies exactly that many before
 * re-asking. So histories whose results were written by other processes (out of order with the
 * asks) replay exactly. The first told result per trial wins.
 */
import { DehbError } from '../errors.js';
import { ask, createState, push, tell } from '../dehb/optimizer.js';
import type { DehbState, Job, TrialResult } from '../dehb/types.js';
import type { RunMeta, StoredEntry, JournalEntry } from './journal-types.js';
import { TrialHistory } from './history.js';

export interface ReplayResult {
  state: DehbState;
  history: TrialHistory;
  /** Asked and never told, in trial order: a runner re-submits these. */
  pending: Job[];
  meta: RunMeta;
  budget: Extract<JournalEntry, { type: 'budget' }>['budget'] | null;
  /** Told entries applied to the optimizer / pushed entries applied. */
  applied: { told: number; pushed: number };
  /** Told or pushed entries read but not yet applied to the optimizer (applied on the next ask). */
  lastSeq: number;
  finished: string | null;
}

type Told = Extract<StoredEntry, { type: 'told' }>;
type Pushed = Extract<StoredEntry, { type: 'pushed' }>;

/** Incremental replayer: feed entries (also later ones, as they arrive) and read the result. */
export class Replayer {
  readonly history = new TrialHistory();
  state: DehbState | null = null;
  meta: RunMeta | null = null;
  budget: ReplayResult['budget'] = null;
  finished: string | null = null;
  lastSeq = 0;
  private readonly toldQueue: Told[] = [];
  private readonly pushQueue: Pushed[] = [];
  private readonly toldSeen = new Set<number>();
  readonly applied = { told: 0, pushed: 0 };

  constructor(private readonly source = 'journal') {}

  feed(entries: readonly StoredEntry[]): void {
    for (const e of entries) this.apply(e);
  }

  /** Applies every queued told and pushed entry to the optimizer (call before asking live). */
  drain(): void {
    this.applyPushes(Number.POSITIVE_INFINITY);
    this.applyTells(Number.POSITIVE_INFINITY);
  }

  result(): ReplayResult {
    this.drain();
    const state = this.requireState(this.lastSeq);
    const pending = Object.values(state.pending).sort((a, b) => a.trialId - b.trialId);
    return {
      state,
      history: this.history,
      pending,
      meta: this.meta as RunMeta,
      budget: this.budget,
      applied: { ...this.applied },
      lastSeq: this.lastSeq,
      finished: this.finished,
    };
  }

  private apply(e: StoredEntry): void {
    if (e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    switch (e.type) {
      case 'created':
        if (this.state !== null) throw this.error(e.seq, 'a second "created" entry');
        this.state = createState(e.options);
        this.meta = e.meta;
        return;
      case 'pushed':
        this.requireState(e.seq);
        this.pushQueue.push(e);
        return;
      case 'asked':
        return this.applyAsked(e);
      case 'started':
        this.history.onStarted(e.trialId, e.worker, e.at);
        return;
      case 'report':
        this.history.onReport(e.trialId, e.step, e.value);
        return;
      case 'told':
        if (this.toldSeen.has(e.trialId)) return; // a duplicate delivery: the first result won
        this.toldSeen.add(e.trialId);
        this.toldQueue.push(e);
        this.history.onTold(e.trialId, e.result, { worker: e.worker, durationMs: e.durationMs, at: e.at });
        return;
      case 'budget':
        this.budget = e.budget;
        return;
      case 'finished':
        this.finished = e.reason;
        return;
    }
  }

  private applyAsked(e: Extract<StoredEntry, { type: 'asked' }>): void {
    const state = this.requireState(e.seq);
    if (this.history.get(e.trialId) !== undefined) {
      throw this.error(e.seq, `trial ${e.trialId} is asked a second time (a duplicated journal line?); delete this entry and resume`);
    }
    const want = e.applied ?? { told: this.applied.told + this.toldQueue.length, pushed: this.applied.pushed + this.pushQueue.length };
    this.applyPushes(want.pushed);
    this.applyTells(want.told);
    if (this.applied.told !== want.told || this.applied.pushed !== want.pushed) {
      throw this.error(e.seq, `trial ${e.trialId} was asked after ${want.told} results, but ${this.applied.told} results precede it in the journal (a line duplicated, moved or lost?)`);
    }
    const r = ask(state);
    if (!('job' in r) || r.job.trialId !== e.trialId || !sameVector(r.job.vector, e.job.vector)) {
      throw this.error(
        e.seq,
        `trial ${e.trialId} does not match what the optimizer asks on replay; the journal was written with other options or by another version`,
      );
    }
    this.history.onAsked(r.job, e.at);
  }

  private applyPushes(limit: number): void {
    const state = this.state;
    while (state !== null && this.applied.pushed < limit && this.pushQueue.length > 0) {
      const p = this.pushQueue.shift() as Pushed;
      push(state, p.config, p.fidelity);
      this.applied.pushed++;
    }
  }

  private applyTells(limit: number): void {
    const state = this.state;
    while (state !== null && this.applied.told < limit && this.toldQueue.length > 0) {
      const t = this.toldQueue.shift() as Told;
      if (state.pending[String(t.trialId)] === undefined) {
        throw this.error(t.seq, `result for trial ${t.trialId}, which was never asked`);
      }
      tell(state, t.trialId, t.result as TrialResult);
      this.applied.told++;
    }
  }

  private requireState(seq: number): DehbState {
    if (this.state === null) throw this.error(seq, 'the journal does not start with a "created" entry');
    return this.state;
  }

  private error(seq: number, what: string): DehbError {
    return new DehbError('E_JOURNAL', `${this.source}: entry ${seq}: ${what}`, { details: { seq } });
  }
}

export function replay(entries: readonly StoredEntry[], source?: string): ReplayResult {
  const r = new Replayer(source);
  r.feed(entries);
  return r.result();
}

function sameVector(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
