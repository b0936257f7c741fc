/**
 * Rebuilds a run from its journal: optimizer state (bit for bit, because the optimizer is pure),
 * trial history, pending trials (asked, never told) and the last recorded budget.
 *
 * Told and pushed entries are applied in journal order, but lazily: an asked entry says how many
 * of each the optimizer had applied when it asked, and replay applies exactly that many before
 * re-asking. So histories whose results were written by other processes (out of order with the
 * asks) replay exactly. The first told result per trial wins.
 *
 * Snapshots: `startAt(snapshot)` loads the state a snapshot entry recorded, and the entries after it
 * are fed as usual (re-opening a run reads only those). Versions: a journal whose optimizer version
 * differs from this one, or whose re-asks no longer match, throws ReplayMismatch; the caller then
 * rebuilds the state by re-telling the results (retell.ts) and warns, never refuses.
 */
import { DehbError } from '../errors.js';
import { ask, createState, push, tell } from '../dehb/optimizer.js';
import { sameVector } from '../dehb/de.js';
import type { DehbState, Job, TrialResult } from '../dehb/types.js';
import { OPTIMIZER_VERSION } from '../dehb/version.js';
import type { AskedJob, RunMeta, StoredEntry, JournalEntry } from './journal-types.js';
import { TrialHistory, toldExtra } from './history.js';
import { ReplayMismatch, retell, type SnapshotEntry } from './retell.js';

export interface ReplayResult {
  state: DehbState;
  history: TrialHistory;
  /** Asked and never told, in trial order: a runner re-submits these (but not `external` ones). */
  pending: Job[];
  /** Pending trials handed out by `study.ask()`: their asker tells them; no runner evaluates them. */
  external: number[];
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
  /** Trials asked with `external` (study.ask()) and not told yet. */
  private readonly external = new Set<number>();
  readonly applied = { told: 0, pushed: 0 };
  /** First results per status (what the CLI summary counts). */
  readonly counts: Record<string, number> = {};
  /** Optimizer version of the `created` entry (absent in 0.1.0 journals: 1). */
  private createdVersion = OPTIMIZER_VERSION;
  /** Set by startAt: trials told before the snapshot (ids below nextTrialId, not pending). */
  private base: { nextTrialId: number; pending: Set<number> } | null = null;
  private readonly keepHistory: boolean;

  constructor(
    private readonly source = 'journal',
    opts: { history?: boolean } = {},
  ) {
    this.keepHistory = opts.history ?? true;
  }

  feed(entries: readonly StoredEntry[]): void {
    for (const e of entries) this.apply(e);
  }

  /**
   * Continues from a snapshot recorded at `seq` (after the `created` entry was fed): its state,
   * applied counts, meta and budget replace what was replayed so far.
   */
  startAt(snapshot: SnapshotEntry, seq: number): void {
    if (snapshot.optimizer !== OPTIMIZER_VERSION) {
      throw new ReplayMismatch(
        `the snapshot at entry ${seq} was written by optimizer version ${snapshot.optimizer}, this is version ${OPTIMIZER_VERSION}`,
        seq,
      );
    }
    this.state = snapshot.state;
    this.meta = snapshot.meta;
    this.budget = snapshot.budget;
    this.applied.told = snapshot.applied.told;
    this.applied.pushed = snapshot.applied.pushed;
    this.toldQueue.length = 0;
    this.pushQueue.length = 0;
    this.toldSeen.clear();
    this.external.clear();
    for (const id of snapshot.external ?? []) this.external.add(id);
    for (const k of Object.keys(this.counts)) delete this.counts[k];
    Object.assign(this.counts, snapshot.counts ?? {});
    this.base = { nextTrialId: snapshot.state.nextTrialId, pending: new Set(Object.keys(snapshot.state.pending).map(Number)) };
    if (this.keepHistory) for (const job of Object.values(snapshot.state.pending)) this.history.onAsked(job, null, this.external.has(job.trialId));
    this.lastSeq = Math.max(this.lastSeq, seq);
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
      external: [...this.external].filter((id) => state.pending[String(id)] !== undefined).sort((a, b) => a - b),
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
        this.createdVersion = e.optimizer ?? 1;
        return;
      case 'pushed':
        this.requireState(e.seq);
        this.pushQueue.push(e);
        return;
      case 'asked':
        return this.applyAsked(e);
      case 'started':
        if (this.keepHistory) this.history.onStarted(e.trialId, e.worker, e.at);
        return;
      case 'report':
        if (this.keepHistory) this.history.onReport(e.trialId, e.step, e.value);
        return;
      case 'told':
        if (this.toldSeen.has(e.trialId)) return; // a duplicate delivery: the first result won
        if (this.base !== null && e.trialId < this.base.nextTrialId && !this.base.pending.has(e.trialId)) return; // told before the snapshot
        this.toldSeen.add(e.trialId);
        this.external.delete(e.trialId);
        this.toldQueue.push(e);
        this.counts[e.result.status] = (this.counts[e.result.status] ?? 0) + 1;
        if (this.keepHistory) this.history.onTold(e.trialId, e.result, toldExtra(e));
        return;
      case 'snapshot':
        return; // replaying from the start already rebuilt that state; startAt() loads one
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
    if (this.base === null && this.createdVersion !== OPTIMIZER_VERSION) {
      throw new ReplayMismatch(`${this.source}: the journal was written by optimizer version ${this.createdVersion}, this is version ${OPTIMIZER_VERSION}`, e.seq);
    }
    const r = ask(state);
    if (!('job' in r) || r.job.trialId !== e.trialId || !asksTheSame(r.job, e.job)) {
      throw new ReplayMismatch(`${this.source}: entry ${e.seq}: trial ${e.trialId} does not match what this optimizer asks on replay`, e.seq);
    }
    if (e.external === true) this.external.add(e.trialId);
    if (this.keepHistory) this.history.onAsked(r.job, e.at, e.external === true);
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

/**
 * Replays a whole journal; if re-asking fails (another optimizer version, or an optimizer change),
 * continues from its last snapshot of this version, else re-tells it (retell.ts). `retold` is the
 * snapshot to journal when the state was re-told; `warning` says what happened.
 */
export function replayOrRetell(
  entries: readonly StoredEntry[],
  source: string,
  opts: { history?: boolean } = {},
): { replayer: Replayer; retold: SnapshotEntry | null; warning: string | null } {
  const full = new Replayer(source, opts);
  try {
    full.feed(entries);
    full.drain();
    return { replayer: full, retold: null, warning: null };
  } catch (err) {
    if (!(err instanceof ReplayMismatch)) throw err;
    const at = findLastIndex(entries, (e) => e.type === 'snapshot' && e.optimizer === OPTIMIZER_VERSION && e.seq > err.seq);
    if (at >= 0) {
      try {
        const r = new Replayer(source, opts);
        r.feed(entries.slice(0, 1));
        r.startAt(entries[at] as StoredEntry & SnapshotEntry, (entries[at] as StoredEntry).seq);
        r.feed(entries.slice(at + 1));
        r.drain();
        return { replayer: r, retold: null, warning: null };
      } catch (again) {
        if (!(again instanceof ReplayMismatch)) throw again;
      }
    }
    const retold = retell(entries, source);
    const r = new Replayer(source, opts);
    r.feed(entries.slice(0, 1));
    r.startAt(retold, (entries[entries.length - 1] as StoredEntry).seq);
    if (opts.history !== false) r.history.absorb(entries);
    const warning =
      `${err.message}; resumed by re-telling its ${retold.applied.told} results to optimizer version ${OPTIMIZER_VERSION} ` +
      '(the trials asked from now on are not the ones the old version would have asked)';
    return { replayer: r, retold, warning };
  }
}

function findLastIndex<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i] as T)) return i;
  return -1;
}

/**
 * Whether a re-asked job is the journaled one: its vector where the entry has it (format 1),
 * else (format 2) where it sits in the brackets, what it came from and its configuration.
 */
function asksTheSame(job: Job, e: AskedJob): boolean {
  if (e.vector !== undefined) return sameVector(job.vector, e.vector);
  if (job.configId !== e.configId || job.bracketId !== e.bracketId || job.rung !== e.rung || job.parentId !== e.parentId) return false;
  if (job.fidelity !== e.fidelity || job.source !== e.source) return false;
  const keys = Object.keys(job.config);
  if (keys.length !== Object.keys(e.config).length) return false;
  for (const k of keys) if (!Object.is(job.config[k], e.config[k])) return false;
  return true;
}
